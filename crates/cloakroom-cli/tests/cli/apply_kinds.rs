//! `realm apply` kind by kind: each test changes one kind on an existing realm (or creates a
//! realm) and looks at the result through the Admin API.

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::{Env, Realm, unique};

/// Writes a document into the test's directory and returns its path.
fn write(env: &Env, name: &str, doc: &Value) -> String {
    let p = env.dir.path().join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

/// `realm apply FILE --into REALM [extra]` as JSON.
fn apply(env: &Env, file: &str, realm: &str, extra: &[&str]) -> Value {
    let mut args = vec!["realm", "apply", file, "--into", realm];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// (created, updated, failed) of a summary.
fn cuf(v: &Value) -> (u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or(u64::MAX);
    (n("created"), n("updated"), n("failed"))
}

fn get(env: &Env, realm: &str, path: &str) -> Value {
    env.json(&["api", "GET", &format!("/admin/realms/{realm}{path}")])
}

#[test]
fn an_object_apply_cannot_key_is_an_error_and_nothing_is_applied() {
    let env = Env::new();
    let name = unique("nokey");
    let f = write(
        &env,
        "bad.json",
        &json!({"realm": name, "users": [{"username": "ok"}, {"username": 5}],
                "groups": [{"name": "g", "subGroups": [{"attributes": {}}]}]}),
    );
    env.admin()
        .args(["realm", "apply", &f])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "users[1]: username must be a non-empty string",
        ))
        .stderr(predicate::str::contains(
            "groups[0].subGroups[0]: name must be a non-empty string",
        ));
    env.admin()
        .args(["api", "GET", &format!("/admin/realms/{name}")])
        .assert()
        .code(4);
}

#[test]
fn every_object_is_accounted_for_and_unsupported_keys_fail_unless_allowed() {
    let env = Env::new();
    let r = env.realm("acct");
    let doc = json!({"realm": r.name, "displayName": "Accounted",
        "users": [{"username": "user1", "enabled": true}],
        "clients": [{"clientId": "c1", "publicClient": true}],
        "federatedUsers": [{"username": "x"}]});
    let f = write(&env, "acct.json", &doc);
    let out = env
        .admin()
        .args(["--output", "json", "realm", "apply", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "unsupported keys fail the run");
    let sum: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = |k: &str| sum[k].as_u64().unwrap();
    assert_eq!(n("objects"), 3, "{sum:#}");
    assert_eq!(
        n("created") + n("updated") + n("unchanged") + n("failed") + n("unsupported"),
        3,
        "{sum:#}"
    );
    assert_eq!((n("created"), n("unsupported")), (2, 1), "{sum:#}");
    let again = apply(&env, &f, &r.name, &["--allow-unsupported"]);
    assert_eq!((cuf(&again).0, cuf(&again).1), (0, 0), "{again:#}");
    assert_eq!(get(&env, &r.name, "")["displayName"], "Accounted");
}

/// A file Keycloak made (its partial export, server ids included) applied into a new realm on
/// the same server, where those ids are taken: created by Keycloak's import with fresh ids,
/// then users one by one; a second plan is empty.
#[test]
fn keycloak_made_export_applies_into_a_new_realm_on_the_same_server() {
    let env = Env::new();
    let src = env.realm("kmsrc");
    let b = format!("/admin/realms/{}", src.name);
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/clients"),
        "--data",
        &json!({"clientId": "shop", "publicClient": false, "serviceAccountsEnabled": true,
            "protocolMappers": [{"name": "aud", "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "config": {"included.client.audience": "shop", "access.token.claim": "true"}}]})
        .to_string(),
    ]);
    let shop = env.json(&["api", "GET", &format!("{b}/clients?clientId=shop")])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/clients/{shop}/roles"),
        "--data",
        &json!({"name": "buyer"}).to_string(),
    ]);
    env.ok(&[
        "api",
        "POST",
        &format!("{b}/groups"),
        "--data",
        &json!({"name": "staff", "clientRoles": {"shop": ["buyer"]}}).to_string(),
    ]);
    let mut doc = env.json(&[
        "api",
        "POST",
        &format!("{b}/partial-export?exportClients=true&exportGroupsAndRoles=true"),
    ]);
    assert!(doc["clients"][0]["id"].is_string(), "ids included");
    doc["users"] = json!([{"username": "ann", "enabled": true, "email": "ann@example.test",
        "firstName": "Ann", "lastName": "A", "groups": ["/staff"],
        "clientRoles": {"shop": ["buyer"]},
        "credentials": [{"type": "password", "value": "pw-Ann-1", "temporary": false}]}]);
    let f = write(&env, "km.json", &doc);
    let dst = Realm {
        env: &env,
        name: unique("kmdst"),
    };
    let first = apply(&env, &f, &dst.name, &[]);
    assert_eq!(first["failed"], 0, "{first:#}");
    let plan = apply(&env, &f, &dst.name, &["--plan"]);
    assert_eq!(cuf(&plan), (0, 0, 0), "the second plan is empty: {plan:#}");
    let ann = get(&env, &dst.name, "/users?username=ann&exact=true");
    let id = ann[0]["id"].as_str().unwrap();
    let cid = get(&env, &dst.name, "/clients?clientId=shop")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(cid, shop, "fresh ids");
    let roles = get(
        &env,
        &dst.name,
        &format!("/users/{id}/role-mappings/clients/{cid}"),
    );
    assert_eq!(roles[0]["name"], "buyer", "{roles:#}");
    let groups = get(&env, &dst.name, &format!("/users/{id}/groups"));
    assert_eq!(groups[0]["path"], "/staff");
    drop(dst);
    drop(src);
}
