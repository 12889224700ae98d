use std::io::Read;
use std::process::Stdio;

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::{Env, Realm, cloakroom_bin, unique};

#[test]
fn dev_status_without_a_server_and_init_seeds_a_realm() {
    let env = Env::new();
    let data = tempfile::tempdir().unwrap();
    env.bare()
        .env("CLOAKROOM_DATA_DIR", data.path())
        .args(["dev", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not running"));
    env.bare()
        .env("CLOAKROOM_DATA_DIR", data.path())
        .args(["dev", "down"])
        .assert()
        .success();
    // init against the test server: realm, client and user, then log in as that user.
    let name = unique("devinit");
    let _cleanup = Realm {
        env: &env,
        name: name.clone(),
    };
    let v: Value = serde_json::from_str(&env.ok(&[
        "--output",
        "json",
        "dev",
        "init",
        "--new-realm",
        &name,
        "--new-client",
        "app",
        "--new-user",
        "dana",
    ]))
    .unwrap();
    assert_eq!(v["realm"], name.as_str());
    let login = Env::new();
    login
        .bare()
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &name,
            "--client-id",
            "app",
            "--user",
            "dana",
        ])
        .args(["token", "--format", "json"])
        .env("CLOAKROOM_PASSWORD", "dana")
        .assert()
        .success()
        .stdout(predicate::str::contains("\"azp\": \"app\""));
    // Running it again is fine.
    env.ok(&[
        "dev",
        "init",
        "--new-realm",
        &name,
        "--new-client",
        "app",
        "--new-user",
        "dana",
    ]);
}

#[test]
fn device_login_shows_the_url_and_code() {
    let env = Env::new();
    let realm = env.realm("device");
    env.ok(&[
        "api",
        "POST",
        &format!("/admin/realms/{}/clients", realm.name),
        "--data",
        &json!({"clientId": "tv", "publicClient": true,
                "attributes": {"oauth2.device.authorization.grant.enabled": "true"}})
        .to_string(),
    ]);
    let user = Env::new();
    let mut child = std::process::Command::new(cloakroom_bin())
        .env("CLOAKROOM_CONFIG_DIR", user.config_dir())
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &realm.name,
            "--client-id",
            "tv",
        ])
        .args(["--grant", "device", "token"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut text = String::new();
    let mut buf = [0u8; 512];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !text.contains("Waiting") && std::time::Instant::now() < deadline {
        let n = err.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        text.contains(&format!(
            "/realms/{}/device and enter the code ",
            realm.name
        )),
        "{text}"
    );
}
