use predicates::prelude::*;
use serde_json::json;

use crate::support::Env;

#[test]
fn api_calls_any_endpoint() {
    let env = Env::new();
    let realm = env.realm("api");
    let r = env.json(&["api", "GET", &format!("/admin/realms/{}", realm.name)]);
    assert_eq!(r["realm"], realm.name.as_str());
    // Relative paths and {realm}, query parameters, a body from a file.
    let body = env.dir.path().join("user.json");
    std::fs::write(
        &body,
        json!({"username": "bob", "enabled": true}).to_string(),
    )
    .unwrap();
    env.admin()
        .args([
            "--realm",
            &realm.name,
            "api",
            "POST",
            "realms/{realm}/users",
        ])
        .args(["--data", &format!("@{}", body.display())])
        .assert()
        .success()
        .stderr(predicate::str::contains("HTTP 201 Location:"));
    let users = env.json(&[
        "--realm",
        &realm.name,
        "api",
        "GET",
        "realms/{realm}/users",
        "--query",
        "username=bob",
        "--query",
        "exact=true",
    ]);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["username"], "bob");
    // Body from stdin.
    env.admin()
        .args([
            "--realm",
            &realm.name,
            "api",
            "POST",
            "realms/{realm}/users",
            "--data",
            "-",
        ])
        .write_stdin(json!({"username": "carol"}).to_string())
        .assert()
        .success();
}

#[test]
fn api_errors_have_exit_codes_and_keycloak_messages() {
    let env = Env::new();
    let realm = env.realm("apierr");
    // Missing realm: 4 and Keycloak's message.
    env.admin()
        .args(["api", "GET", "/admin/realms/no-such-realm-here"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "Keycloak answered 404 to GET /admin/realms/no-such-realm-here: Realm not found.",
        ));
    // Conflict: 5.
    env.admin()
        .args(["api", "POST", "/admin/realms", "--data"])
        .arg(json!({"realm": realm.name}).to_string())
        .assert()
        .code(5)
        .stderr(predicate::str::contains(format!(
            "Realm {} already exists",
            realm.name
        )));
    // Validation error: 1, with the failing field.
    env.admin()
        .args([
            "api",
            "POST",
            &format!("/admin/realms/{}/users", realm.name),
            "--data",
        ])
        .arg(json!({"username": "x", "email": "not-an-email"}).to_string())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "field `email`: error-invalid-email",
        ))
        .stderr(predicate::str::contains(
            "field `username`: error-invalid-length (username, 3, 255)",
        ));
    // Malformed body: usage error before anything is sent.
    env.admin()
        .args(["api", "POST", "/admin/realms", "--data", "{nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
    env.admin()
        .args([
            "api",
            "POST",
            "/admin/realms",
            "--data",
            "@/nonexistent/file.json",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read /nonexistent/file.json",
        ));
    // Bad credentials: 3 and Keycloak's words, never the password.
    env.bare()
        .args(["--server", &env.server.url, "--user", "admin", "--no-cache"])
        .args(["api", "GET", "/admin/realms"])
        .env("CLOAKROOM_PASSWORD", "wrong-password-xyz")
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "invalid_grant: Invalid user credentials",
        ))
        .stderr(predicate::str::contains("wrong-password-xyz").not());
    // Unreachable server: 6.
    env.bare()
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--user",
            "admin",
            "--no-cache",
        ])
        .args(["api", "GET", "/admin/realms"])
        .env("CLOAKROOM_PASSWORD", "x")
        .assert()
        .code(6)
        .stderr(predicate::str::contains("Connection refused"));
}
