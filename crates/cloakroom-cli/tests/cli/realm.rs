use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::{Env, Realm, cloakroom_bin};

fn post(env: &Env, path: &str, body: Value) -> String {
    let out = env
        .admin()
        .args(["api", "POST", path, "--data", &body.to_string()])
        .output()
        .unwrap();
    crate::support::assert_success(&out, &["api", "POST", path]);
    // The id of the created object, from the Location header note.
    String::from_utf8_lossy(&out.stderr)
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// A realm with users, groups (nested, with members and role mappings), realm and client roles
/// (one composite), clients (public, confidential), a client scope with a mapper, an identity
/// provider with a mapper, and a custom flow bound as the browser flow.
fn seed(env: &Env, realm: &Realm, users: usize) {
    let b = format!("/admin/realms/{}", realm.name);
    post(
        env,
        &format!("{b}/roles"),
        json!({"name": "ops", "description": "Operators"}),
    );
    post(env, &format!("{b}/roles"), json!({"name": "auditor"}));
    let app = post(
        env,
        &format!("{b}/clients"),
        json!({"clientId": "app", "publicClient": true, "redirectUris": ["http://localhost:8000/*"],
               "webOrigins": ["+"], "directAccessGrantsEnabled": true}),
    );
    post(
        env,
        &format!("{b}/clients"),
        json!({"clientId": "svc", "publicClient": false, "serviceAccountsEnabled": true,
               "standardFlowEnabled": false}),
    );
    post(
        env,
        &format!("{b}/clients/{app}/roles"),
        json!({"name": "reader"}),
    );
    post(
        env,
        &format!("{b}/clients/{app}/roles"),
        json!({"name": "writer"}),
    );
    // auditor = ops + app/reader
    let ops = env.json(&["api", "GET", &format!("{b}/roles/ops")]);
    let reader = env.json(&["api", "GET", &format!("{b}/clients/{app}/roles/reader")]);
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/roles/auditor/composites"),
        "--data",
        &json!([ops, reader]).to_string(),
    ]);
    post(
        env,
        &format!("{b}/client-scopes"),
        json!({"name": "extra", "protocol": "openid-connect",
               "protocolMappers": [{"name": "dept", "protocol": "openid-connect",
                 "protocolMapper": "oidc-hardcoded-claim-mapper",
                 "config": {"claim.name": "dept", "claim.value": "eng", "access.token.claim": "true"}}]}),
    );
    let team = post(
        env,
        &format!("{b}/groups"),
        json!({"name": "team", "attributes": {"floor": ["3"]}}),
    );
    let dev = post(
        env,
        &format!("{b}/groups/{team}/children"),
        json!({"name": "dev"}),
    );
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/groups/{team}/role-mappings/realm"),
        "--data",
        &json!([ops]).to_string(),
    ]);
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/groups/{dev}/role-mappings/clients/{app}"),
        "--data",
        &json!([reader]).to_string(),
    ]);
    post(
        env,
        &format!("{b}/identity-provider/instances"),
        json!({"alias": "corp", "providerId": "oidc", "enabled": true,
               "config": {"clientId": "kc", "clientSecret": "s3cret", "clientAuthMethod": "client_secret_post",
                          "authorizationUrl": "https://idp.example.test/auth",
                          "tokenUrl": "https://idp.example.test/token", "syncMode": "IMPORT"}}),
    );
    post(
        env,
        &format!("{b}/identity-provider/instances/corp/mappers"),
        json!({"name": "email", "identityProviderAlias": "corp", "identityProviderMapper": "oidc-user-attribute-idp-mapper",
               "config": {"claim": "email", "user.attribute": "email", "syncMode": "INHERIT"}}),
    );
    // A custom browser flow: cookie OR (username/password form), bound to the realm.
    post(
        env,
        &format!("{b}/authentication/flows"),
        json!({"alias": "my-browser", "providerId": "basic-flow", "topLevel": true, "builtIn": false, "description": "custom"}),
    );
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/authentication/flows/my-browser/executions/execution"),
        "--data",
        r#"{"provider":"auth-cookie"}"#,
    ]);
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/authentication/flows/my-browser/executions/flow"),
        "--data",
        r#"{"alias":"my-forms","type":"basic-flow","description":"forms"}"#,
    ]);
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/authentication/flows/my-forms/executions/execution"),
        "--data",
        r#"{"provider":"auth-username-password-form"}"#,
    ]);
    let execs = env.json(&[
        "api",
        "GET",
        &format!("{b}/authentication/flows/my-browser/executions"),
    ]);
    for e in execs.as_array().unwrap() {
        let mut e = e.clone();
        e["requirement"] = json!(if e["level"] == 0 {
            "ALTERNATIVE"
        } else {
            "REQUIRED"
        });
        env.ok(&[
            "api",
            "PUT",
            &format!("{b}/authentication/flows/my-browser/executions"),
            "--data",
            &e.to_string(),
        ]);
    }
    env.ok(&[
        "api",
        "PUT",
        &b,
        "--data",
        &json!({"browserFlow": "my-browser", "displayName": "Round trip"}).to_string(),
    ]);
    for i in 0..users {
        let id = post(
            env,
            &format!("{b}/users"),
            json!({"username": format!("user{i:04}"), "enabled": true, "email": format!("user{i:04}@example.test"),
                   "firstName": "User", "lastName": format!("N{i}"), "emailVerified": i % 2 == 0}),
        );
        if i % 3 == 0 {
            env.ok(&["api", "PUT", &format!("{b}/users/{id}/groups/{dev}")]);
        }
        if i % 5 == 0 {
            env.ok(&[
                "api",
                "POST",
                &format!("{b}/users/{id}/role-mappings/realm"),
                "--data",
                &json!([ops]).to_string(),
            ]);
        }
    }
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn export_apply_export_round_trip() {
    let env = Env::new();
    let src = env.realm("rtsrc");
    seed(&env, &src, 50);
    let a = env.dir.path().join("a.json");
    env.admin()
        .args(["realm", "export", &src.name, "-o", a.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("with 50 users"));
    let doc = read(&a);
    let users = doc["users"].as_array().unwrap();
    // Keycloak leaves service-account users out of user listings; they come with their client.
    assert_eq!(users.len(), 50);
    assert!(
        doc["clients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("secret").is_none()),
        "no secrets by default"
    );
    let u0 = users.iter().find(|u| u["username"] == "user0000").unwrap();
    assert_eq!(u0["groups"], json!(["/team/dev"]));
    assert!(u0["realmRoles"].as_array().unwrap().contains(&json!("ops")));
    assert!(u0.get("id").is_none());

    // Apply into a fresh realm: plan first (changes nothing), then for real, then again (no-op).
    let dst_name = crate::support::unique("rtdst");
    let dst = Realm {
        env: &env,
        name: dst_name.clone(),
    };
    env.admin()
        .args([
            "realm",
            "apply",
            a.to_str().unwrap(),
            "--into",
            &dst_name,
            "--plan",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("+ users/user0049"));
    env.admin()
        .args(["api", "GET", &format!("/admin/realms/{dst_name}")])
        .assert()
        .code(4);
    let first = env.json(&["realm", "apply", a.to_str().unwrap(), "--into", &dst_name]);
    assert_eq!(first["failed"], 0, "{first}");
    let second = env.json(&["realm", "apply", a.to_str().unwrap(), "--into", &dst_name]);
    assert_eq!(second["failed"], 0, "{second}");
    assert_eq!(
        (second["created"].as_u64(), second["updated"].as_u64()),
        (Some(0), Some(0)),
        "the second apply changes nothing: {:#}",
        second["actions"]
    );

    // Export the copy: equal to the original once the realm name is swapped back.
    let b = env.dir.path().join("b.json");
    env.ok(&["realm", "export", &dst_name, "-o", b.to_str().unwrap()]);
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace(
            &format!("/realms/{dst_name}/"),
            &format!("/realms/{}/", src.name),
        )
        .replace(
            &format!("/admin/{dst_name}/console/"),
            &format!("/admin/{}/console/", src.name),
        )
        .replace(
            &format!("default-roles-{dst_name}"),
            &format!("default-roles-{}", src.name),
        )
        .replace(
            &format!("\"realm\": \"{dst_name}\""),
            &format!("\"realm\": \"{}\"", src.name),
        );
    let b2 = env.dir.path().join("b2.json");
    std::fs::write(&b2, text).unwrap();
    let d = env.json(&["realm", "diff", a.to_str().unwrap(), b2.to_str().unwrap()]);
    // Nothing of the original is lost or altered: the only differences are fields the original
    // lacks and the server filled in with defaults when the copy was created.
    for x in d["differences"].as_array().unwrap() {
        assert_eq!(x["change"], "changed", "{x:#}");
        for f in x["fields"].as_array().unwrap() {
            assert!(
                f["a"].is_null(),
                "a value differs after the round trip: {x:#}"
            );
        }
    }
    let d = env.json(&[
        "realm",
        "diff",
        "--ignore-defaults",
        a.to_str().unwrap(),
        b2.to_str().unwrap(),
    ]);
    assert_eq!(
        d["count"], 0,
        "round trip differences: {:#}",
        d["differences"]
    );
    // diff against the live realm works too, and sees a change.
    env.ok(&[
        "--realm",
        &dst_name,
        "update",
        "users",
        "user0001",
        "-s",
        "lastName=Changed",
    ]);
    let out = env
        .admin()
        .args([
            "realm",
            "diff",
            b.to_str().unwrap(),
            &format!("live:{dst_name}"),
            "--exit-code",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("~ users/user0001\n    lastName: \"N1\" → \"Changed\""),
        "{text}"
    );
    drop(dst);
}

#[test]
fn export_failures() {
    let env = Env::new();
    let out = env.dir.path().join("x.json");
    env.admin()
        .args([
            "realm",
            "export",
            "no-such-realm-qq",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            "realm `no-such-realm-qq` not found",
        ));
    assert!(!out.exists());
    // Malformed apply input.
    std::fs::write(&out, "{\"realm\": ").unwrap();
    env.admin()
        .args(["realm", "apply", out.to_str().unwrap(), "--plan"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("malformed JSON"));
    std::fs::write(&out, "[1, 2]").unwrap();
    env.admin()
        .args(["realm", "apply", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a realm document"));
}

/// Killing an export midway leaves no output file (SIGTERM: no temporary file either).
#[test]
fn interrupted_export_leaves_no_file() {
    let env = Env::new();
    let realm = env.realm("rtkill");
    let b = format!("/admin/realms/{}/users", realm.name);
    for i in 0..12 {
        post(&env, &b, json!({"username": format!("k{i:02}")}));
    }
    for signal in ["TERM", "KILL"] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        let mut child = std::process::Command::new(cloakroom_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("CLOAKROOM_") || k.starts_with("KEYCLOAK_") || k.starts_with("KC_CLI_")
            {
                child.env_remove(k);
            }
        }
        let child = child
            .env("CLOAKROOM_CONFIG_DIR", env.config_dir())
            .env("CLOAKROOM_PASSWORD", &env.server.admin_password)
            .env("CLOAKROOM_DEBUG_EXPORT_PAGE_DELAY_MS", "400")
            .args([
                "--server",
                &env.server.url,
                "--user",
                &env.server.admin_user,
            ])
            .args([
                "realm",
                "export",
                &realm.name,
                "--page-size",
                "2",
                "-o",
                target.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the temporary file exists and has users in it.
        let started = Instant::now();
        loop {
            let partial = std::fs::read_dir(dir.path())
                .unwrap()
                .filter_map(Result::ok)
                .find(|e| e.file_name().to_string_lossy().ends_with(".partial"));
            if let Some(p) = partial {
                if std::fs::read_to_string(p.path())
                    .unwrap_or_default()
                    .contains("\"k02\"")
                {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "export never got going"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            !out.status.success(),
            "{signal}: the export should not succeed"
        );
        assert!(
            !target.exists(),
            "{signal}: no output file after an interrupted export"
        );
        if signal == "TERM" {
            assert_eq!(out.status.code(), Some(130));
            assert!(String::from_utf8_lossy(&out.stderr).contains("export interrupted"));
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(
                left.is_empty(),
                "SIGTERM leaves no temporary file either: {left:?}"
            );
        }
    }
}

/// The same round trip at scale: a realm with 1,000 users, groups with members, realm and client
/// roles (one composite), clients, an identity provider with a mapper and a custom flow with an
/// authenticator config — seeded by applying a generated document.
#[test]
fn round_trip_with_1000_users() {
    let env = Env::new();
    let src_name = crate::support::unique("rt1k");
    let src = Realm {
        env: &env,
        name: src_name.clone(),
    };
    let users: Vec<Value> = (0..1000)
        .map(|i| {
            let mut groups = vec![];
            if i % 2 == 0 {
                groups.push("/eng/backend");
            }
            if i % 7 == 0 {
                groups.push("/sales");
            }
            json!({"username": format!("p{i:05}"), "enabled": i % 13 != 0,
                   "email": format!("p{i:05}@example.test"), "firstName": "Person", "lastName": format!("L{i}"),
                   "emailVerified": true, "groups": groups,
                   "realmRoles": if i % 10 == 0 { json!(["default-roles-src", "auditor"]) } else { json!(["default-roles-src"]) },
                   "clientRoles": if i % 4 == 0 { json!({"portal": ["editor"]}) } else { json!({}) }})
        })
        .collect();
    let doc = json!({
        "realm": "SRC", "enabled": true, "displayName": "Thousand", "browserFlow": "corp-browser",
        "roles": {
            "realm": [
                {"name": "ops", "description": "Operators", "attributes": {}},
                {"name": "auditor", "composite": true, "composites": {"realm": ["ops"], "client": {"portal": ["viewer"]}}, "attributes": {}}
            ],
            "client": {"portal": [{"name": "editor", "attributes": {}}, {"name": "viewer", "attributes": {}}]}
        },
        "groups": [
            {"name": "eng", "attributes": {"site": ["berlin"]}, "realmRoles": ["ops"], "clientRoles": {},
             "subGroups": [{"name": "backend", "attributes": {}, "realmRoles": [], "clientRoles": {"portal": ["viewer"]}, "subGroups": []}]},
            {"name": "sales", "attributes": {}, "realmRoles": [], "clientRoles": {}, "subGroups": []}
        ],
        "clients": [
            {"clientId": "portal", "enabled": true, "publicClient": true, "redirectUris": ["https://portal.example.test/*"],
             "webOrigins": ["+"], "standardFlowEnabled": true, "directAccessGrantsEnabled": false, "protocol": "openid-connect"},
            {"clientId": "batch", "enabled": true, "publicClient": false, "serviceAccountsEnabled": true,
             "standardFlowEnabled": false, "protocol": "openid-connect"}
        ],
        "identityProviders": [
            {"alias": "corp", "providerId": "oidc", "enabled": true, "trustEmail": true,
             "config": {"clientId": "kc", "clientAuthMethod": "client_secret_post", "syncMode": "IMPORT",
                        "authorizationUrl": "https://idp.example.test/auth", "tokenUrl": "https://idp.example.test/token"}}
        ],
        "identityProviderMappers": [
            {"name": "dept", "identityProviderAlias": "corp", "identityProviderMapper": "hardcoded-attribute-idp-mapper",
             "config": {"attribute": "dept", "attribute.value": "eng", "syncMode": "INHERIT"}}
        ],
        "authenticationFlows": [
            {"alias": "corp-browser", "description": "cookie, corp IdP, or forms", "providerId": "basic-flow",
             "topLevel": true, "builtIn": false, "authenticationExecutions": [
                {"authenticator": "auth-cookie", "authenticatorFlow": false, "requirement": "ALTERNATIVE", "userSetupAllowed": false},
                {"authenticator": "identity-provider-redirector", "authenticatorFlow": false, "requirement": "ALTERNATIVE",
                 "authenticatorConfig": "to-corp", "userSetupAllowed": false},
                {"authenticatorFlow": true, "requirement": "ALTERNATIVE", "flowAlias": "corp-forms", "userSetupAllowed": false}
             ]},
            {"alias": "corp-forms", "description": "forms", "providerId": "basic-flow", "topLevel": false, "builtIn": false,
             "authenticationExecutions": [
                {"authenticator": "auth-username-password-form", "authenticatorFlow": false, "requirement": "REQUIRED", "userSetupAllowed": false}
             ]}
        ],
        "authenticatorConfig": [{"alias": "to-corp", "config": {"defaultProvider": "corp"}}],
        "users": users,
    });
    let seed = env.dir.path().join("seed.json");
    std::fs::write(&seed, serde_json::to_vec(&doc).unwrap()).unwrap();
    let applied = env.json(&[
        "realm",
        "apply",
        seed.to_str().unwrap(),
        "--into",
        &src_name,
    ]);
    assert_eq!(applied["failed"], 0, "{:#}", applied["actions"]);

    let a = env.dir.path().join("a.json");
    env.admin()
        .args(["realm", "export", &src_name, "-o", a.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("with 1000 users"));
    let exported = read(&a);
    assert_eq!(exported["users"].as_array().unwrap().len(), 1000);
    let flow = exported["authenticationFlows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["alias"] == "corp-browser")
        .unwrap();
    assert_eq!(
        flow["authenticationExecutions"][1]["authenticatorConfig"],
        "to-corp"
    );
    let p10 = exported["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "p00010")
        .unwrap();
    assert_eq!(p10["groups"], json!(["/eng/backend"]));

    let dst_name = crate::support::unique("rt1kdst");
    let dst = Realm {
        env: &env,
        name: dst_name.clone(),
    };
    let first = env.json(&["realm", "apply", a.to_str().unwrap(), "--into", &dst_name]);
    assert_eq!(first["failed"], 0, "{:#}", first["actions"]);
    let second = env.json(&["realm", "apply", a.to_str().unwrap(), "--into", &dst_name]);
    assert_eq!(
        (
            second["created"].as_u64(),
            second["updated"].as_u64(),
            second["failed"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{:#}",
        second["actions"]
    );

    let b = env.dir.path().join("b.json");
    env.ok(&["realm", "export", &dst_name, "-o", b.to_str().unwrap()]);
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace(
            &format!("/realms/{dst_name}/"),
            &format!("/realms/{src_name}/"),
        )
        .replace(
            &format!("/admin/{dst_name}/console/"),
            &format!("/admin/{src_name}/console/"),
        )
        .replace(
            &format!("default-roles-{dst_name}"),
            &format!("default-roles-{src_name}"),
        )
        .replace(
            &format!("\"realm\": \"{dst_name}\""),
            &format!("\"realm\": \"{src_name}\""),
        );
    let b2 = env.dir.path().join("b2.json");
    std::fs::write(&b2, text).unwrap();
    let d = env.json(&["realm", "diff", a.to_str().unwrap(), b2.to_str().unwrap()]);
    for x in d["differences"].as_array().unwrap() {
        assert_eq!(x["change"], "changed", "{x:#}");
        for f in x["fields"].as_array().unwrap() {
            assert!(
                f["a"].is_null(),
                "a value differs after the round trip: {x:#}"
            );
        }
    }
    let d = env.json(&[
        "realm",
        "diff",
        "--ignore-defaults",
        a.to_str().unwrap(),
        b2.to_str().unwrap(),
    ]);
    assert_eq!(d["count"], 0, "{:#}", d["differences"]);
    drop(dst);
    drop(src);
}

#[test]
fn export_secrets_only_when_asked() {
    let env = Env::new();
    let realm = env.realm("rtsec");
    post(
        &env,
        &format!("/admin/realms/{}/clients", realm.name),
        json!({"clientId": "svc", "publicClient": false, "serviceAccountsEnabled": true, "secret": "svc-secret-xyz"}),
    );
    let plain = env.dir.path().join("plain.json");
    env.ok(&[
        "realm",
        "export",
        &realm.name,
        "--no-users",
        "-o",
        plain.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&plain).unwrap();
    assert!(!text.contains("svc-secret-xyz"));
    assert!(read(&plain).get("users").is_none());
    let with = env.dir.path().join("with.json");
    env.ok(&[
        "realm",
        "export",
        &realm.name,
        "--include-secrets",
        "-o",
        with.to_str().unwrap(),
    ]);
    let doc = read(&with);
    let svc = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "svc")
        .unwrap();
    assert_eq!(svc["secret"], "svc-secret-xyz");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&with).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "an export with secrets is private");
    }
    // To stdout as well.
    let out = env.ok(&["realm", "export", &realm.name, "--no-users"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["realm"], realm.name.as_str());
}
