use predicates::prelude::*;
use serde_json::Value;

use crate::support::Env;

#[test]
fn users_crud_with_safe_update() {
    let env = Env::new();
    let realm = env.realm("res");
    let r = ["--realm", realm.name.as_str()];
    let id = env.ok(&[
        r[0],
        r[1],
        "create",
        "users",
        "-s",
        "username=jane",
        "-s",
        "enabled=true",
        "-s",
        "email=jane@example.test",
        "-s",
        "firstName=Jane",
        "-s",
        "lastName=Doe",
    ]);
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    // Conflict: 5, unless --if-not-exists.
    env.admin()
        .args(r)
        .args(["create", "users", "-s", "username=jane"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("User exists with same username"));
    env.admin()
        .args(r)
        .args(["create", "users", "-s", "username=jane", "--if-not-exists"])
        .assert()
        .success();
    // Update keeps what it does not touch.
    env.ok(&[
        r[0],
        r[1],
        "update",
        "users",
        "jane",
        "-s",
        "firstName=Janet",
    ]);
    let u = env.json(&[r[0], r[1], "get", "users", "jane"]);
    assert_eq!(u["firstName"], "Janet");
    assert_eq!(u["lastName"], "Doe");
    assert_eq!(u["email"], "jane@example.test");
    assert_eq!(u["id"], id.as_str());
    // By id too, and --fields.
    let u = env.json(&[
        r[0],
        r[1],
        "get",
        "users",
        &id,
        "--fields",
        "username,lastName",
    ]);
    assert_eq!(
        u,
        serde_json::json!({"username": "jane", "lastName": "Doe"})
    );
    // A merge patch file.
    let patch = env.dir.path().join("patch.yaml");
    std::fs::write(&patch, "lastName: Roe\nemailVerified: true\n").unwrap();
    env.ok(&[
        r[0],
        r[1],
        "update",
        "users",
        "jane",
        "-f",
        patch.to_str().unwrap(),
    ]);
    let u = env.json(&[r[0], r[1], "get", "users", "jane"]);
    assert_eq!(u["lastName"], "Roe");
    assert_eq!(u["emailVerified"], true, "{u}");
    assert_eq!(u["firstName"], "Janet", "{u}");
    // Table and CSV.
    env.admin()
        .args(r)
        .args(["--output", "table", "get", "users"])
        .assert()
        .success()
        .stdout(predicate::str::contains("USERNAME"))
        .stdout(predicate::str::contains("jane"));
    env.admin()
        .args(r)
        .args([
            "--output",
            "csv",
            "get",
            "users",
            "--fields",
            "username,lastName",
        ])
        .assert()
        .success()
        .stdout("username,lastName\r\njane,Roe\r\n");
    // Delete, then not found.
    env.ok(&[r[0], r[1], "delete", "users", "jane"]);
    env.admin()
        .args(r)
        .args(["get", "users", "jane"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "no user `jane` in realm `{}`",
            realm.name
        )));
    env.admin()
        .args(r)
        .args(["delete", "users", "jane", "--if-exists"])
        .assert()
        .success();
    // Malformed patch file: 2.
    std::fs::write(&patch, "{not json").unwrap();
    env.admin()
        .args(r)
        .args(["update", "users", "x", "-f", patch.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("malformed"));
}

#[test]
fn lists_fetch_all_pages_unless_limited() {
    let env = Env::new();
    let realm = env.realm("pages");
    let path = format!("/admin/realms/{}/users", realm.name);
    for i in 0..105 {
        env.ok(&[
            "api",
            "POST",
            &path,
            "--data",
            &format!(r#"{{"username":"u{i:03}"}}"#),
        ]);
    }
    let all = env.json(&["--realm", &realm.name, "get", "users"]);
    assert_eq!(
        all.as_array().unwrap().len(),
        105,
        "more than one page of 100"
    );
    let some = env.json(&["--realm", &realm.name, "get", "users", "--limit", "7"]);
    assert_eq!(some.as_array().unwrap().len(), 7);
    let found = env.json(&["--realm", &realm.name, "get", "users", "--search", "u10"]);
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u100", "u101", "u102", "u103", "u104"]);
}

#[test]
fn other_kinds() {
    let env = Env::new();
    let realm = env.realm("kinds");
    let r = ["--realm", realm.name.as_str()];
    env.ok(&[
        r[0],
        r[1],
        "create",
        "clients",
        "-s",
        "clientId=app",
        "-s",
        "publicClient=true",
    ]);
    let c = env.json(&[r[0], r[1], "get", "clients", "app"]);
    assert_eq!(c["publicClient"], true);
    env.ok(&[
        r[0],
        r[1],
        "update",
        "clients",
        "app",
        "-s",
        "redirectUris=[\"http://localhost/*\"]",
    ]);
    let c = env.json(&[r[0], r[1], "get", "clients", "app"]);
    assert_eq!(c["redirectUris"], serde_json::json!(["http://localhost/*"]));
    // Realm roles and client roles.
    env.ok(&[
        r[0],
        r[1],
        "create",
        "roles",
        "-s",
        "name=ops",
        "-s",
        "description=Operators",
    ]);
    env.ok(&[
        r[0],
        r[1],
        "create",
        "roles",
        "--client",
        "app",
        "-s",
        "name=reader",
    ]);
    assert_eq!(
        env.json(&[r[0], r[1], "get", "roles", "ops"])["description"],
        "Operators"
    );
    let cr = env.json(&[r[0], r[1], "get", "roles", "--client", "app"]);
    assert_eq!(cr[0]["name"], "reader");
    // Groups by name and path.
    env.ok(&[r[0], r[1], "create", "groups", "-s", "name=team"]);
    assert_eq!(
        env.json(&[r[0], r[1], "get", "groups", "/team"])["name"],
        "team"
    );
    env.ok(&[
        r[0],
        r[1],
        "update",
        "groups",
        "team",
        "-s",
        "attributes.floor=[\"3\"]",
    ]);
    assert_eq!(
        env.json(&[r[0], r[1], "get", "groups", "team"])["attributes"]["floor"][0],
        "3"
    );
    // Client scopes by name.
    env.ok(&[
        r[0],
        r[1],
        "create",
        "client-scopes",
        "-s",
        "name=extra",
        "-s",
        "protocol=openid-connect",
    ]);
    assert_eq!(
        env.json(&[r[0], r[1], "get", "client-scopes", "extra"])["protocol"],
        "openid-connect"
    );
    // Identity providers by alias.
    env.ok(&[
        r[0],
        r[1],
        "create",
        "idp",
        "-s",
        "alias=corp",
        "-s",
        "providerId=oidc",
        "-s",
        "config.clientId=x",
        "-s",
        "config.clientSecret=s",
        "-s",
        "config.authorizationUrl=https://idp.test/auth",
        "-s",
        "config.tokenUrl=https://idp.test/token",
    ]);
    let idps = env.json(&[r[0], r[1], "get", "identity-providers"]);
    assert_eq!(idps[0]["alias"], "corp");
    env.ok(&[r[0], r[1], "delete", "idp", "corp"]);
    env.ok(&[r[0], r[1], "delete", "roles", "ops"]);
    env.ok(&[r[0], r[1], "delete", "clients", "app"]);
    // Missing realm: 4.
    env.admin()
        .args(["--realm", "no-such-realm-abc", "get", "clients"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("Realm not found."));
    let realms: Value = env.json(&["get", "realms", &realm.name]);
    assert_eq!(realms["realm"], realm.name.as_str());
}

#[test]
fn usernames_are_found_whatever_their_case_and_o_is_output() {
    let env = Env::new();
    let realm = env.realm("ux");
    let r = ["--realm", realm.name.as_str()];
    env.ok(&[r[0], r[1], "create", "users", "-s", "username=bob"]);
    let u = env.json(&[r[0], r[1], "get", "users", "Bob"]);
    assert_eq!(u["username"], "bob");
    env.ok(&[
        r[0],
        r[1],
        "update",
        "users",
        "BOB",
        "-s",
        "firstName=Bobby",
    ]);
    // `-o` is `--output`, before or after the command.
    env.admin()
        .args([r[0], r[1], "get", "users", "bob", "-o", "yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("firstName: Bobby"));
    env.admin()
        .args([
            "-o", "csv", r[0], r[1], "get", "users", "--fields", "username",
        ])
        .assert()
        .success()
        .stdout("username\r\nbob\r\n");
    env.admin()
        .args(["-o", "jsn", "get", "realms"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`jsn` is not an output format"));
    // Groups by name at any depth, roles of a client by clientId, unknown clients: 4.
    env.ok(&[r[0], r[1], "create", "groups", "-s", "name=eng"]);
    let eng = env.json(&[r[0], r[1], "get", "groups", "eng"]);
    env.ok(&[
        "api",
        "POST",
        &format!(
            "/admin/realms/{}/groups/{}/children",
            realm.name,
            eng["id"].as_str().unwrap()
        ),
        "--data",
        r#"{"name":"sre"}"#,
    ]);
    assert_eq!(
        env.json(&[r[0], r[1], "get", "groups", "sre"])["path"],
        "/eng/sre"
    );
    env.admin()
        .args([r[0], r[1], "get", "roles", "--client", "no-such-client"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no client `no-such-client`"));
}
