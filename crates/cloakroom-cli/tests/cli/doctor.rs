use predicates::prelude::*;

use crate::support::Env;

#[test]
fn doctor_reports_the_server_its_features_and_capabilities() {
    let env = Env::new();
    let v = env.json(&["doctor"]);
    assert_eq!(v["server"]["version"], "26.7.3", "{v}");
    assert_eq!(v["login"]["ok"], true, "{v}");
    assert_eq!(v["login"]["grant"], "password", "{v}");
    assert_eq!(v["login"]["user"], env.server.admin_user.as_str(), "{v}");
    let enabled = v["features"]["enabled"].as_array().unwrap();
    assert!(enabled.iter().any(|f| f == "CLIENT_ADMIN_API_V2"), "{v}");
    let cap = |id: &str| {
        v["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no capability {id}: {v}"))
            .clone()
    };
    // The test server enables client-admin-api:v2 and leaves fine-grained admin permissions
    // v2 off (its v1 is on for the legacy endpoints).
    assert_eq!(cap("admin_api_v2_clients")["available"], true, "{v}");
    assert_eq!(cap("organizations")["available"], true, "{v}");
    assert_eq!(
        cap("fine_grained_admin_permissions_v2")["available"],
        false,
        "{v}"
    );
    assert_eq!(cap("user_profile")["available"], true, "{v}");
    assert_eq!(cap("console_role_mappings")["available"], true, "{v}");
    assert_eq!(cap("console_role_mappings")["operations"], 10, "{v}");
    let typed = cap("typed_operations_served");
    assert_eq!(typed["available"], true, "{v}");
    assert_eq!(typed["not_served"], serde_json::json!([]), "{v}");

    let text = env.ok(&["--output", "table", "doctor"]);
    assert!(text.contains("server    Keycloak 26.7.3 at "), "{text}");
    assert!(
        text.contains("login     yes: password grant as user "),
        "{text}"
    );
    assert!(text.contains("  yes     Admin API v2 clients"), "{text}");
    assert!(
        text.contains("  no      fine-grained admin permissions v2"),
        "{text}"
    );
    assert!(
        text.contains("--features=admin-fine-grained-authz:v2"),
        "{text}"
    );
    assert!(
        text.contains("  yes     console role-mapping endpoints"),
        "{text}"
    );
}

#[test]
fn doctor_fails_with_a_typed_error_when_it_cannot_connect_or_log_in() {
    let env = Env::new();
    // Refused login: exit 3, the server's words, never the password.
    env.bare()
        .args(["--server", &env.server.url, "--user", "admin", "--no-cache"])
        .args(["--output", "json", "doctor"])
        .env("CLOAKROOM_PASSWORD", "wrong-password-doctor")
        .assert()
        .code(3)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(format!(
            "cannot log in to Keycloak at {}",
            env.server.url
        )))
        .stderr(predicate::str::contains("invalid_grant"))
        .stderr(predicate::str::contains("wrong-password-doctor").not());
    // Nothing listening: exit 6.
    env.bare()
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--user",
            "admin",
            "--no-cache",
        ])
        .arg("doctor")
        .env("CLOAKROOM_PASSWORD", "x")
        .assert()
        .code(6)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "cannot reach Keycloak at http://127.0.0.1:1",
        ))
        .stderr(predicate::str::contains("Connection refused"));
    // No server configured: a usage error, 2.
    env.bare()
        .arg("doctor")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no server configured"));
}
