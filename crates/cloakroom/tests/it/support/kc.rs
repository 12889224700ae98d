//! Clients and throw-away realms for tests against the real Keycloak.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use cloakroom::{Client, ClientBuilder, Credentials};
use serde_json::{Value, json};

use super::server::test_server;

/// A unique name: `prefix-<pid>-<counter>-<nanos>`, lower case, safe in URLs.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The name of the running test (the test thread's name), for the operation log.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unknown")
        .to_owned()
}

/// Where the operation log goes: one JSON line per HTTP exchange, read by `cargo xtask coverage`.
fn oplog_path() -> std::path::PathBuf {
    if let Ok(dir) = std::env::var("CLOAKROOM_OPLOG_DIR") {
        return std::path::PathBuf::from(dir).join(format!("{}.jsonl", std::process::id()));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("target/cloakroom-oplog");
    root.join(format!("{}.jsonl", std::process::id()))
}

/// A builder for the test server with the operation log attached, without credentials.
pub fn builder() -> ClientBuilder {
    let server = test_server();
    let test = test_name();
    let path = oplog_path();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let builder = match &server.version {
        Some(v) => Client::builder(server.url.clone()).server_version(v.clone()),
        None => Client::builder(server.url.clone()),
    };
    builder.observer(move |ex| {
        let line = json!({
            "method": ex.method.as_str(),
            "template": ex.template,
            "status": ex.status,
            "attempt": ex.attempt,
            "test": test,
        });
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    })
}

/// The bootstrap admin of the test server (password grant against `master`).
pub fn admin() -> Client {
    let server = test_server();
    builder()
        .credentials(Credentials::password(
            server.admin_username.clone(),
            server.admin_password.clone(),
        ))
        .build()
        .expect("admin client")
}

/// Creates a realm from `rep` (its `realm` field is set to a unique name) and returns the name.
pub async fn create_realm(kc: &Client, prefix: &str, mut rep: Value) -> String {
    let name = unique(prefix);
    rep["realm"] = json!(name);
    if rep.get("enabled").is_none() {
        rep["enabled"] = json!(true);
    }
    kc.raw()
        .post("/admin/realms")
        .json(&rep)
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating realm {name}: {e}"));
    name
}

/// Deletes a realm, ignoring a 404. With `CLOAKROOM_TEST_KEEP_REALMS=1` (set by `cargo xtask
/// test`, whose server keeps its data for one run only) it keeps the realm instead: deleting realms
/// while other tests act as the master admin races in Keycloak 26.7.3's role cache (a
/// `NullPointerException` in `CachedRole.getComposites`, answered as a 500; compare
/// keycloak/keycloak#41109 and #8772), which made the suite fail now and then.
pub async fn delete_realm(kc: &Client, realm: &str) {
    if std::env::var("CLOAKROOM_TEST_KEEP_REALMS").is_ok_and(|v| v == "1") {
        return;
    }
    match kc
        .raw()
        .delete(format!("/admin/realms/{realm}"))
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => panic!("deleting realm {realm}: {e}"),
    }
}

/// A user representation with a password and a complete profile (so no required action blocks
/// the password grant).
pub fn user(username: &str, password: &str) -> Value {
    json!({
        "username": username,
        "enabled": true,
        "email": format!("{username}@example.com"),
        "emailVerified": true,
        "firstName": username,
        "lastName": "Test",
        "credentials": [{"type": "password", "value": password, "temporary": false}],
    })
}
