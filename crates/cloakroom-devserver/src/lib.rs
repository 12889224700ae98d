//! Real servers on loopback for cloakroom's development and tests, with std and serde only (so
//! `xtask` stays quick to build).
//!
//! - [`dist`]: fetch a `keycloak-quarkus-dist` zip with Maven, check its sha256, unpack it.
//! - [`java`]: choose the JDK to run Keycloak with.
//! - [`keycloak`]: options, start, readiness, stop by verified process group.
//! - [`postgres`]: a private PostgreSQL cluster for Keycloak's database.
//! - [`state`]: the one state-file type every launcher and test reads.
//! - [`process`], [`watchdog`], [`http`]: process groups, the Ctrl-C guard, a tiny HTTP probe.
//!
//! This is the only code in the workspace that spawns `kc.sh`. Unix only.

pub mod cluster;
pub mod dist;
pub mod haproxy;
pub mod http;
pub mod java;
pub mod keycloak;
pub mod postgres;
pub mod process;
pub mod state;
pub mod watchdog;

mod error;

pub use error::{Error, Result};
pub use keycloak::{Db, Server, ServerOptions};
pub use state::State;

/// The Keycloak version the project tests against and `cloakroom dev up` starts by default.
pub const VERSION: &str = "26.7.3";

/// The versions whose distribution sha256 is recorded here, newest first.
pub const KNOWN_VERSIONS: &[(&str, &str)] = &[
    (
        "26.7.3",
        "27a6535553c3cdcd083872ba40629efafb3475e3b758e0c6f691395561dd0f1f",
    ),
    (
        "26.5.6",
        "490189d9dff05272432d51f71a069462eeca97f2920a694d539a1e6c26a5a347",
    ),
    (
        "26.4.7",
        "dd9834c023460be856f731423d86228c23b5d002194a2064642bec0cc6573eaa",
    ),
];

/// sha256 of `keycloak-quarkus-dist-<version>.zip` as published on Maven Central.
pub fn known_sha256(version: &str) -> Option<&'static str> {
    KNOWN_VERSIONS
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, sha)| *sha)
}

/// The features every launcher builds with: `token-exchange:v1` and `admin-fine-grained-authz:v1`
/// (the legacy exchange and the `management/permissions` endpoints of the spec);
/// `client-types` (experimental) and `client-secret-rotation` (preview): Admin API operations
/// that answer 501 without them; `client-admin-api:v2` (experimental): the Admin API v2 client
/// endpoints under `/admin/api/{realm}/clients/v2`, which are not served without it.
pub const FEATURES: &str = "token-exchange:v1,admin-fine-grained-authz:v1,client-types,client-secret-rotation,client-admin-api:v2";

/// Build-time options shared by every launcher. Keep them identical for every run from one
/// distribution: a change makes `kc.sh` re-augment it (about 20 s, and it rewrites
/// `lib/quarkus/` under a server that may be running from it).
pub fn build_options(version: &str) -> Vec<String> {
    vec![
        "--health-enabled=true".into(),
        "--metrics-enabled=true".into(),
        format!("--features={}", features(version)),
    ]
}

/// [`FEATURES`] as `version` knows them: Keycloak refuses to start with a feature it does not
/// know, and `client-admin-api` exists since 26.5.
pub fn features(version: &str) -> String {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (26, 5) {
        return FEATURES.to_owned();
    }
    FEATURES
        .split(',')
        .filter(|f| !f.starts_with("client-admin-api"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod feature_tests {
    #[test]
    fn older_versions_do_not_get_features_they_do_not_know() {
        assert!(super::features("26.7.3").contains("client-admin-api:v2"));
        assert!(super::features("26.5.6").contains("client-admin-api:v2"));
        let old = super::features("26.4.7");
        assert!(!old.contains("client-admin-api"), "{old}");
        assert!(old.contains("client-types"), "{old}");
    }
}
