//! Shared helpers: the server, a per-test environment, realms that clean up after themselves.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::Command;
use serde_json::{Value, json};

/// Where the test Keycloak is.
#[derive(Clone, Debug)]
pub struct Server {
    pub url: String,
    pub mgmt_url: String,
    pub admin_user: String,
    pub admin_password: String,
}

fn load() -> Server {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let server = if let Some(url) = var("CLOAKROOM_TEST_URL") {
        Server {
            url,
            mgmt_url: var("CLOAKROOM_TEST_MGMT_URL").unwrap_or_default(),
            admin_user: var("CLOAKROOM_TEST_ADMIN_USER").unwrap_or_else(|| "admin".into()),
            admin_password: var("CLOAKROOM_TEST_ADMIN_PASSWORD").unwrap_or_else(|| "admin".into()),
        }
    } else {
        let path = var("CLOAKROOM_TEST_STATE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/keycloak/state.json")
            });
        let state = cloakroom_devserver::State::read(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| {
                panic!(
                    "no test Keycloak: CLOAKROOM_TEST_URL is not set and {} does not exist. \
                     Start one with `cargo xtask keycloak start`, run the suite with `cargo xtask test`, \
                     or set CLOAKROOM_TEST_URL / CLOAKROOM_TEST_MGMT_URL / CLOAKROOM_TEST_ADMIN_USER / \
                     CLOAKROOM_TEST_ADMIN_PASSWORD.",
                    path.display()
                )
            });
        Server {
            url: state.url,
            mgmt_url: state.management_url,
            admin_user: state.admin_username,
            admin_password: state.admin_password,
        }
    };
    // Fail loudly and early when the server does not answer.
    let probe = std::process::Command::new(cloakroom_bin())
        .args([
            "--server",
            &server.url,
            "--no-cache",
            "--user",
            &server.admin_user,
        ])
        .args(["api", "GET", "/admin/realms/master"])
        .env("CLOAKROOM_PASSWORD", &server.admin_password)
        .env(
            "CLOAKROOM_CONFIG_DIR",
            std::env::temp_dir().join("cloakroom-test-probe"),
        )
        .output()
        .expect("cannot run the cloakroom binary");
    assert!(
        probe.status.success(),
        "the test Keycloak at {} does not answer as admin: {}",
        server.url,
        String::from_utf8_lossy(&probe.stderr)
    );
    server
}

pub fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(load)
}

pub fn cloakroom_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cloakroom"))
}

/// A name unique to this process and call.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 0xffff
    )
}

/// One test's world: a private configuration directory.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub server: &'static Server,
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
            server: server(),
        }
    }

    pub fn config_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A bare command: own config dir, no inherited CLOAKROOM_/KEYCLOAK_/KC_CLI_ variables.
    pub fn bare(&self) -> Command {
        let mut c = Command::new(cloakroom_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("CLOAKROOM_")
                || k.starts_with("KEYCLOAK_")
                || k.starts_with("KC_CLI_")
                || k == "NO_COLOR"
            {
                c.env_remove(k);
            }
        }
        c.env("CLOAKROOM_CONFIG_DIR", self.config_dir());
        c.timeout(std::time::Duration::from_secs(300));
        c
    }

    /// A command logged in as the bootstrap admin of `master`.
    pub fn admin(&self) -> Command {
        let mut c = self.bare();
        c.args([
            "--server",
            &self.server.url,
            "--user",
            &self.server.admin_user,
        ]);
        c.env("CLOAKROOM_PASSWORD", &self.server.admin_password);
        c
    }

    /// Runs an admin command that must succeed, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.admin().args(args).output().expect("run");
        assert_success(&out, args);
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs an admin command that must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
    }

    /// A fresh realm, deleted when the value is dropped.
    pub fn realm(&self, prefix: &str) -> Realm<'_> {
        let name = unique(prefix);
        self.ok(&[
            "api",
            "POST",
            "/admin/realms",
            "--data",
            &json!({"realm": name, "enabled": true}).to_string(),
        ]);
        Realm { env: self, name }
    }
}

pub fn assert_success(out: &Output, args: &[&str]) {
    assert!(
        out.status.success(),
        "cloakroom {args:?} failed with {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Realm<'a> {
    pub env: &'a Env,
    pub name: String,
}

impl Realm<'_> {
    /// Creates a user that can log in with the password grant.
    pub fn user(&self, username: &str, password: &str) {
        self.env.ok(&[
            "api",
            "POST",
            &format!("/admin/realms/{}/users", self.name),
            "--data",
            &json!({
                "username": username,
                "enabled": true,
                "email": format!("{username}@example.test"),
                "emailVerified": true,
                "firstName": "Test",
                "lastName": username,
                "credentials": [{"type": "password", "value": password, "temporary": false}],
            })
            .to_string(),
        ]);
    }
}

impl Drop for Realm<'_> {
    fn drop(&mut self) {
        let _ = self
            .env
            .admin()
            .args(["api", "DELETE", &format!("/admin/realms/{}", self.name)])
            .output();
    }
}
