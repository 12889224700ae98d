use predicates::prelude::*;

use crate::support::Env;

#[test]
fn health_probes_and_exit_codes() {
    let env = Env::new();
    let m = &env.server.mgmt_url;
    assert!(
        !m.is_empty(),
        "CLOAKROOM_TEST_MGMT_URL is needed for the health tests"
    );
    for probe in ["live", "ready", "started"] {
        env.bare()
            .args(["--management-url", m, "--output", "json", "health", probe])
            .assert()
            .success()
            .stdout(predicate::str::contains("\"status\": \"UP\""));
    }
    env.bare()
        .args(["--management-url", m, "--output", "table", "health"])
        .assert()
        .success()
        .stdout(predicate::str::contains("health: UP"));
    // Unreachable: 6.
    env.bare()
        .args(["--management-url", "http://127.0.0.1:1", "health", "ready"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("could not connect"));
    // Not a management interface: 4 with a hint.
    env.bare()
        .args(["--management-url", &env.server.url, "health", "ready"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("--health-enabled=true"));
}

#[test]
fn metrics_summary_and_raw() {
    let env = Env::new();
    let m = &env.server.mgmt_url;
    let out = env
        .bare()
        .args(["--management-url", m, "--output", "json", "metrics"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["jvm"]["heap_used_mib"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["samples"].as_u64().unwrap() > 100, "{v}");
    assert!(v["sessions"].is_object());
    env.bare()
        .args(["--management-url", m, "metrics", "--raw"])
        .assert()
        .success()
        .stdout(predicate::str::contains("# TYPE jvm_memory_used_bytes"));
}
