//! Where the test Keycloak is: env vars, else the harness's state file. Never skips: without a
//! server every test that needs one fails with instructions.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The Keycloak the tests talk to.
#[allow(dead_code)] // not every test binary reads every field
#[derive(Clone, Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// `http://127.0.0.1:<management port>`
    pub management_url: String,
    /// Bootstrap admin user name (realm `master`).
    pub admin_username: String,
    /// Bootstrap admin password.
    pub admin_password: String,
    /// The server's Keycloak version (`CLOAKROOM_KC_VERSION`, else the state file), when known:
    /// the tests' clients are told it, so an operation it does not serve fails with
    /// `Error::NotServed` (see `support::served`).
    pub version: Option<String>,
}

fn state_path() -> PathBuf {
    if let Ok(p) = std::env::var("CLOAKROOM_TEST_STATE") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/keycloak/state.json")
}

fn load() -> TestServer {
    if let Ok(url) = std::env::var("CLOAKROOM_TEST_URL") {
        let var = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
        return TestServer {
            management_url: var("CLOAKROOM_TEST_MGMT_URL", ""),
            admin_username: var("CLOAKROOM_TEST_ADMIN_USER", "admin"),
            admin_password: var("CLOAKROOM_TEST_ADMIN_PASSWORD", "admin"),
            version: std::env::var("CLOAKROOM_KC_VERSION")
                .ok()
                .filter(|v| !v.is_empty()),
            url,
        };
    }
    let path = state_path();
    let state = cloakroom_devserver::State::read(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| {
            panic!(
                "no test Keycloak: CLOAKROOM_TEST_URL is not set and {} does not exist. \
                 Start one with `cargo xtask keycloak start`, or run the suite with `cargo xtask test`.",
                path.display()
            )
        });
    TestServer {
        url: state.url,
        management_url: state.management_url,
        admin_username: state.admin_username,
        admin_password: state.admin_password,
        version: Some(state.version),
    }
}

/// Fails loudly when nothing listens at the server's address (a stale state file after a
/// crash, or a server stopped under the tests) instead of letting every test report a bare
/// "connection refused".
fn check_reachable(server: &TestServer) {
    let rest = server
        .url
        .strip_prefix("http://")
        .or_else(|| server.url.strip_prefix("https://"))
        .unwrap_or(&server.url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else if server.url.starts_with("https://") {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    };
    let source = if std::env::var_os("CLOAKROOM_TEST_URL").is_some() {
        "CLOAKROOM_TEST_URL".to_owned()
    } else {
        state_path().display().to_string()
    };
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(authority.as_str())
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3)).is_ok()
        });
    if !reachable {
        panic!(
            "no test Keycloak answers at {} (from {source}). Start one with \
             `cargo xtask keycloak start` (it replaces a stale state file), or run the suite \
             with `cargo xtask test`.",
            server.url
        );
    }
}

/// The test server, read (and checked to answer) once per test binary.
pub fn test_server() -> TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let server = load();
            check_reachable(&server);
            server
        })
        .clone()
}
