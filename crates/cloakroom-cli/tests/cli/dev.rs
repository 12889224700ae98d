use std::io::Read;
use std::process::Stdio;

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::private::{ADMIN, ADMIN_PASSWORD, PrivateKeycloak};
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

/// `dev up` → `status` → an admin call → `down` → `status`, on a second, private Keycloak.
#[test]
fn dev_up_status_api_down_on_a_private_keycloak() {
    let kc = PrivateKeycloak::new();
    let (env, data, home, url, port, mgmt) =
        (&kc.env, &kc.data, &kc.home, &kc.url, kc.port, kc.mgmt);
    let dev = |args: &[&str]| kc.dev(args);
    let started = std::time::Instant::now();
    let out = kc.up();
    let up_took = started.elapsed();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("is ready at {url}")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("keycloak/dev.json")).expect("dev up records its state"),
    )
    .unwrap();
    let pid = state["pid"].as_u64().expect("a pid");
    assert_eq!(state["url"], url.as_str());
    assert_eq!(
        std::path::PathBuf::from(state["home"].as_str().unwrap()),
        *home
    );
    // The shared distribution the test server runs from was not the one started.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());

    // status: 0, and where it runs.
    let out = dev(&["--output", "json", "dev", "status"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["running"], true);
    assert_eq!(s["ready"], true);
    assert_eq!(s["url"], url.as_str());
    assert_eq!(
        s["management_url"],
        format!("http://127.0.0.1:{mgmt}").as_str()
    );
    assert_eq!(s["pid"], pid);

    // An Admin API call against it, as its bootstrap admin.
    let out = env
        .bare()
        .args(["--server", url, "--user", ADMIN, "--no-cache"])
        .args(["--output", "json", "api", "GET", "/admin/realms/master"])
        .env("CLOAKROOM_PASSWORD", ADMIN_PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let master: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(master["realm"], "master");
    assert_eq!(master["enabled"], true);

    // down: 0, the process (group) is gone, the state file too.
    let out = dev(&["dev", "down"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("stopped Keycloak (pid {pid})"))
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} still runs after `dev down`"
    );
    let group_left = std::process::Command::new("pgrep")
        .args(["-g", &pid.to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    assert!(
        group_left.is_empty(),
        "processes left in the group: {group_left}"
    );
    assert!(!data.join("keycloak/dev.json").exists());
    // The port is free again.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    // status: not running → 1.
    dev(&["dev", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not running"));
    eprintln!("dev up took {up_took:?}; up→down {:?}", started.elapsed());
}
