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

/// An Admin API write that must succeed.
fn send(env: &Env, method: &str, path: &str, body: Value) {
    env.ok(&["api", method, path, "--data", &body.to_string()]);
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
    // The documented shape (docs/realm-apply.md): schema name, counts, actions with known keys.
    assert_eq!(sum["schema"], "cloakroom.realm-apply/1");
    let top: std::collections::BTreeSet<&str> = sum
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        top,
        [
            "actions",
            "created",
            "deleted",
            "failed",
            "notAttempted",
            "objects",
            "plan",
            "realm",
            "schema",
            "unchanged",
            "unsupported",
            "updated"
        ]
        .into_iter()
        .collect()
    );
    for a in sum["actions"].as_array().unwrap() {
        for k in a.as_object().unwrap().keys() {
            assert!(
                ["section", "key", "action", "fields", "unsupported", "error"]
                    .contains(&k.as_str()),
                "undocumented action key {k}: {a:#}"
            );
        }
    }
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
    send(
        &env,
        "POST",
        &format!("{b}/clients"),
        json!({"clientId": "shop", "publicClient": false, "serviceAccountsEnabled": true,
            "protocolMappers": [{"name": "aud", "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "config": {"included.client.audience": "shop", "access.token.claim": "true"}}]}),
    );
    let shop = env.json(&["api", "GET", &format!("{b}/clients?clientId=shop")])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(
        &env,
        "POST",
        &format!("{b}/clients/{shop}/roles"),
        json!({"name": "buyer"}),
    );
    send(
        &env,
        "POST",
        &format!("{b}/groups"),
        json!({"name": "staff", "clientRoles": {"shop": ["buyer"]}}),
    );
    let mut doc = env.json(&[
        "api",
        "POST",
        &format!("{b}/partial-export?exportClients=true&exportGroupsAndRoles=true"),
    ]);
    assert!(doc["clients"][0]["id"].is_string(), "ids included");
    doc["users"] = json!([{"username": "ann", "enabled": true, "email": "ann@example.test",
        "firstName": "Ann", "lastName": "A", "groups": ["/staff"],
        "clientRoles": {"shop": ["buyer"]},
        "credentials": [{"type": "password", "value": "pw-Ann-1", "temporary": false}]},
        {"username": "service-account-shop", "enabled": true, "serviceAccountClientId": "shop",
         "clientRoles": {"shop": ["buyer"]}}]);
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
    let sa = get(
        &env,
        &dst.name,
        &format!("/clients/{cid}/service-account-user"),
    );
    let sa_id = sa["id"].as_str().unwrap();
    let roles = get(
        &env,
        &dst.name,
        &format!("/users/{sa_id}/role-mappings/clients/{cid}"),
    );
    assert_eq!(roles[0]["name"], "buyer", "{roles:#}");
    // The same file on the source realm (its own ids, an existing realm): nothing to do but
    // the service account's new role.
    let on_src = apply(&env, &f, &src.name, &[]);
    assert_eq!(on_src["failed"], 0, "{on_src:#}");
    let plan = apply(&env, &f, &src.name, &["--plan"]);
    assert_eq!(cuf(&plan), (0, 0, 0), "{plan:#}");
    drop(dst);
    drop(src);
}

/// Applies `doc` to the existing realm, then checks that a plan right after has nothing to do.
fn apply_then_nothing_to_do(env: &Env, realm: &str, doc: &Value, extra: &[&str]) -> Value {
    let f = write(env, &format!("{}.json", unique("doc")), doc);
    let first = apply(env, &f, realm, extra);
    assert_eq!(first["failed"], 0, "{first:#}");
    let mut plan_args = vec!["--plan"];
    plan_args.extend_from_slice(extra);
    let plan = apply(env, &f, realm, &plan_args);
    assert_eq!(
        cuf(&plan),
        (0, 0, 0),
        "the plan after apply is empty: {plan:#}"
    );
    first
}

#[test]
fn required_actions_are_registered_enabled_prioritised_and_configured() {
    let env = Env::new();
    let r = env.realm("reqact");
    let doc = json!({"realm": r.name, "requiredActions": [
        {"alias": "TERMS_AND_CONDITIONS", "name": "Terms and Conditions",
         "providerId": "TERMS_AND_CONDITIONS", "enabled": true, "defaultAction": true,
         "priority": 5, "config": {}},
        {"alias": "UPDATE_PROFILE", "name": "Update Profile", "providerId": "UPDATE_PROFILE",
         "enabled": false, "defaultAction": false, "priority": 90, "config": {}},
    ]});
    apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    let all = get(&env, &r.name, "/authentication/required-actions");
    let find = |a: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|x| x["alias"] == a)
            .cloned()
    };
    let terms = find("TERMS_AND_CONDITIONS").expect("registered");
    assert_eq!(
        (terms["enabled"].clone(), terms["defaultAction"].clone()),
        (json!(true), json!(true))
    );
    let up = find("UPDATE_PROFILE").unwrap();
    assert_eq!(up["enabled"], false);
    assert_eq!(up["priority"], 90);
}

#[test]
fn components_with_sub_components_and_masked_secrets() {
    let env = Env::new();
    let r = env.realm("comp");
    let ldap = json!({"name": "corp-ldap", "providerId": "ldap", "config": {
        "enabled": ["false"], "vendor": ["other"], "editMode": ["READ_ONLY"],
        "connectionUrl": ["ldap://127.0.0.1:1389"], "usersDn": ["ou=people,dc=example,dc=org"],
        "bindDn": ["cn=admin,dc=example,dc=org"], "bindCredential": ["s3cret"],
        "usernameLDAPAttribute": ["uid"], "rdnLDAPAttribute": ["uid"],
        "uuidLDAPAttribute": ["entryUUID"], "userObjectClasses": ["inetOrgPerson"],
        "authType": ["simple"], "priority": ["1"]},
        "subComponents": {"org.keycloak.storage.ldap.mappers.LDAPStorageMapper": [
            {"name": "dept", "providerId": "user-attribute-ldap-mapper", "config": {
                "ldap.attribute": ["departmentNumber"], "user.model.attribute": ["dept"],
                "read.only": ["true"], "always.read.value.from.ldap": ["false"],
                "is.mandatory.in.ldap": ["false"]}}]}});
    let key = json!({"name": "extra-rsa", "providerId": "rsa-generated",
        "config": {"priority": ["42"], "keySize": ["2048"], "active": ["true"], "enabled": ["true"]}});
    let doc = json!({"realm": r.name, "components": {
        "org.keycloak.storage.UserStorageProvider": [ldap],
        "org.keycloak.keys.KeyProvider": [key]}});
    apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    let comps = get(&env, &r.name, "/components");
    let by = |n: &str| {
        comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .cloned()
            .unwrap()
    };
    let l = by("corp-ldap");
    assert_eq!(
        l["config"]["bindCredential"][0], "**********",
        "masked by the server"
    );
    assert_eq!(by("dept")["parentId"], l["id"]);
    assert_eq!(by("extra-rsa")["config"]["priority"][0], "42");
    // A change of one field of the sub-component is applied in place.
    let mut doc2 = doc.clone();
    doc2["components"]["org.keycloak.storage.UserStorageProvider"][0]["subComponents"]["org.keycloak.storage.ldap.mappers.LDAPStorageMapper"]
        [0]["config"]["ldap.attribute"] = json!(["ou"]);
    apply_then_nothing_to_do(&env, &r.name, &doc2, &[]);
    let comps = get(&env, &r.name, "/components");
    let dept = comps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dept")
        .unwrap();
    assert_eq!(dept["config"]["ldap.attribute"][0], "ou");
}

#[test]
fn default_groups_default_scopes_and_scope_mappings() {
    let env = Env::new();
    let r = env.realm("links");
    let doc = json!({"realm": r.name,
        "roles": {"realm": [{"name": "viewer"}], "client": {"api": [{"name": "read"}]}},
        "groups": [{"name": "everyone"}],
        "clients": [{"clientId": "api", "bearerOnly": true}, {"clientId": "web", "publicClient": true,
            "fullScopeAllowed": false}],
        "clientScopes": [{"name": "extra", "protocol": "openid-connect"}],
        "defaultGroups": ["/everyone"],
        "defaultDefaultClientScopes": ["extra", "profile", "email", "roles", "web-origins", "acr", "basic"],
        "scopeMappings": [{"client": "web", "roles": ["viewer"]}],
        "clientScopeMappings": {"api": [{"client": "web", "roles": ["read"]},
                                        {"clientScope": "extra", "roles": ["read"]}]}});
    apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    assert_eq!(
        get(&env, &r.name, "/default-groups")[0]["path"],
        "/everyone"
    );
    let scopes = get(&env, &r.name, "/default-default-client-scopes");
    assert!(
        scopes
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "extra"),
        "{scopes}"
    );
    let web = get(&env, &r.name, "/clients?clientId=web")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = get(&env, &r.name, "/clients?clientId=api")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(
            &env,
            &r.name,
            &format!("/clients/{web}/scope-mappings/realm")
        )[0]["name"],
        "viewer"
    );
    assert_eq!(
        get(
            &env,
            &r.name,
            &format!("/clients/{web}/scope-mappings/clients/{api}")
        )[0]["name"],
        "read"
    );
}

#[test]
fn realm_attributes_events_and_users_default_role_and_credentials() {
    let env = Env::new();
    let r = env.realm("usr");
    let b = format!("/admin/realms/{}", r.name);
    send(&env, "PUT", &b, json!({"attributes": {"keep": "me"}}));
    let doc = json!({"realm": r.name, "attributes": {"team": "blue"},
        "eventsEnabled": true, "enabledEventTypes": ["LOGIN", "LOGIN_ERROR"],
        "roles": {"realm": [{"name": "staff"}]},
        "users": [{"username": "dora", "enabled": true, "email": "dora@example.test",
            "firstName": "Dora", "lastName": "D", "realmRoles": ["staff"],
            "credentials": [{"type": "password", "value": "Pw-dora-1", "temporary": false}]}]});
    apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    let realm = get(&env, &r.name, "");
    assert_eq!(
        realm["attributes"]["keep"], "me",
        "attributes merged key by key"
    );
    assert_eq!(realm["attributes"]["team"], "blue");
    let events = get(&env, &r.name, "/events/config");
    assert_eq!(events["eventsEnabled"], true, "{events}");
    let id = get(&env, &r.name, "/users?username=dora&exact=true")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles: Vec<String> = get(&env, &r.name, &format!("/users/{id}/role-mappings/realm"))
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(roles.contains(&"staff".to_owned()), "{roles:?}");
    assert!(
        roles.iter().any(|n| n.starts_with("default-roles-")),
        "default role kept: {roles:?}"
    );
    let creds = get(&env, &r.name, &format!("/users/{id}/credentials"));
    assert_eq!(creds[0]["type"], "password", "password set on create");
    // On update a password is set only with --reset-passwords; OTP is reported, not dropped.
    let mut doc2 = doc.clone();
    doc2["users"][0]["credentials"] = json!([
        {"type": "password", "value": "Pw-dora-2", "temporary": false},
        {"type": "otp", "secretData": "{}", "credentialData": "{}"}]);
    let f = write(&env, "u2.json", &doc2);
    let out = env
        .admin()
        .args(["--output", "json", "realm", "apply", &f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sum: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sum["unsupported"], 1, "{sum:#}");
    let text = sum.to_string();
    assert!(text.contains("credentials of type otp"), "{text}");
    assert!(!text.contains("password (reset)"), "{text}");
    let again = apply(
        &env,
        &f,
        &r.name,
        &["--allow-unsupported", "--reset-passwords"],
    );
    assert!(again.to_string().contains("password (reset)"), "{again:#}");
}

#[test]
fn prune_deletes_what_the_document_does_not_name_within_the_cap() {
    let env = Env::new();
    let r = env.realm("prune");
    let b = format!("/admin/realms/{}", r.name);
    for u in ["keep1", "drop1", "drop2"] {
        r.user(u, "Pw-prune-1");
    }
    for g in ["kept", "gone"] {
        send(&env, "POST", &format!("{b}/groups"), json!({"name": g}));
    }
    send(
        &env,
        "POST",
        &format!("{b}/clients"),
        json!({"clientId": "old-app", "publicClient": true}),
    );
    let doc = json!({"realm": r.name, "users": [{"username": "keep1"}],
        "groups": [{"name": "kept"}], "clients": []});
    let f = write(&env, "prune.json", &doc);
    let prune = ["--prune", "users,groups,clients"];
    // Over the cap: refused, nothing changed.
    let out = env
        .admin()
        .args([
            "realm",
            "apply",
            &f,
            prune[0],
            prune[1],
            "--max-deletes",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("would delete 4 objects"));
    assert_eq!(get(&env, &r.name, "/users/count"), json!(3));
    // The plan shows every delete; built-in clients are not among them.
    let plan = env.ok(&["realm", "apply", &f, prune[0], prune[1], "--plan"]);
    for line in [
        "- users/drop1",
        "- users/drop2",
        "- groups//gone",
        "- clients/old-app",
    ] {
        assert!(plan.contains(line), "{line} in:\n{plan}");
    }
    assert!(!plan.contains("clients/account"), "{plan}");
    let done = apply(&env, &f, &r.name, &prune);
    assert_eq!(done["deleted"], 4, "{done:#}");
    assert_eq!(get(&env, &r.name, "/users/count"), json!(1));
    assert!(
        get(&env, &r.name, "/clients?clientId=old-app")
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !get(&env, &r.name, "/clients?clientId=account")
            .as_array()
            .unwrap()
            .is_empty()
    );
    let again = apply(&env, &f, &r.name, &prune);
    assert_eq!(again["deleted"], 0, "{again:#}");
}

#[test]
fn an_existing_flow_is_changed_in_place() {
    let env = Env::new();
    let r = env.realm("flow");
    let file = env.dir.path().join("flow-export.json");
    env.ok(&[
        "realm",
        "export",
        &r.name,
        "--no-users",
        "-o",
        file.to_str().unwrap(),
    ]);
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let flows = doc["authenticationFlows"].as_array_mut().unwrap();
    let browser = flows.iter_mut().find(|f| f["alias"] == "browser").unwrap();
    let spnego = browser["authenticationExecutions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["authenticator"] == "auth-spnego")
        .unwrap();
    spnego["requirement"] = json!("ALTERNATIVE");
    let before = get(&env, &r.name, "/authentication/flows")
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["alias"] == "browser")
        .unwrap()["id"]
        .clone();
    let first = apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    assert!(
        first.to_string().contains("auth-spnego: requirement"),
        "{first:#}"
    );
    let execs = get(&env, &r.name, "/authentication/flows/browser/executions");
    let s = execs
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["providerId"] == "auth-spnego")
        .unwrap();
    assert_eq!(s["requirement"], "ALTERNATIVE");
    let after = get(&env, &r.name, "/authentication/flows")
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["alias"] == "browser")
        .unwrap()["id"]
        .clone();
    assert_eq!(before, after, "the same flow, changed in place");
}

#[test]
fn client_secrets_apply_once_and_never_show() {
    let env = Env::new();
    let r = env.realm("secret");
    let doc = json!({"realm": r.name, "clients": [{"clientId": "svc", "publicClient": false,
        "serviceAccountsEnabled": true, "secret": "s3cret-value-1"}]});
    apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    let mut doc2 = doc.clone();
    doc2["clients"][0]["secret"] = json!("s3cret-value-2");
    let second = apply_then_nothing_to_do(&env, &r.name, &doc2, &[]);
    let text = second.to_string();
    assert!(text.contains("secret: (secret changed)"), "{text}");
    assert!(!text.contains("s3cret-value"), "{text}");
    let id = get(&env, &r.name, "/clients?clientId=svc")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(&env, &r.name, &format!("/clients/{id}/client-secret"))["value"],
        "s3cret-value-2"
    );
}

/// The steps of a flow as `(level, what, requirement, priority)`.
fn steps(env: &Env, realm: &str, alias: &str) -> Vec<(u64, String, String, i64)> {
    get(
        env,
        realm,
        &format!("/authentication/flows/{alias}/executions"),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|e| {
        let what = if e["authenticationFlow"] == true {
            format!("flow:{}", e["displayName"].as_str().unwrap())
        } else {
            e["providerId"].as_str().unwrap().to_owned()
        };
        (
            e["level"].as_u64().unwrap(),
            what,
            e["requirement"].as_str().unwrap().to_owned(),
            e["priority"].as_i64().unwrap(),
        )
    })
    .collect()
}

fn flow_id(env: &Env, realm: &str, alias: &str) -> Value {
    get(env, realm, "/authentication/flows")
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["alias"] == alias)
        .unwrap()["id"]
        .clone()
}

#[test]
fn a_custom_flows_steps_are_added_removed_and_reordered_in_place() {
    let env = Env::new();
    let r = env.realm("flowshape");
    let flow = |steps: Value, sub: Value| {
        json!({"realm": r.name, "authenticationFlows": [
            {"alias": "shaped", "providerId": "basic-flow", "topLevel": true, "builtIn": false,
             "description": "shaped by apply", "authenticationExecutions": steps},
            {"alias": "shaped forms", "providerId": "basic-flow", "topLevel": false,
             "builtIn": false, "authenticationExecutions": sub}],
         "authenticatorConfig": [{"alias": "otp note", "config": {"note": "x"}}]})
    };
    let v1 = flow(
        json!([
            {"authenticator": "auth-cookie", "requirement": "ALTERNATIVE", "priority": 10},
            {"authenticator": "auth-spnego", "requirement": "DISABLED", "priority": 20},
            {"authenticatorFlow": true, "flowAlias": "shaped forms",
             "requirement": "ALTERNATIVE", "priority": 30}]),
        json!([{"authenticator": "auth-username-password-form", "requirement": "REQUIRED",
                "priority": 10}]),
    );
    apply_then_nothing_to_do(&env, &r.name, &v1, &[]);
    let id = flow_id(&env, &r.name, "shaped");
    assert_eq!(
        steps(&env, &r.name, "shaped"),
        [
            (0, "auth-cookie".into(), "ALTERNATIVE".into(), 10),
            (0, "auth-spnego".into(), "DISABLED".into(), 20),
            (0, "flow:shaped forms".into(), "ALTERNATIVE".into(), 30),
            (
                1,
                "auth-username-password-form".into(),
                "REQUIRED".into(),
                10
            ),
        ]
    );
    // Kerberos goes, the sub-flow moves first, cookie becomes required, the sub-flow gains an
    // OTP step with a config.
    let v2 = flow(
        json!([
            {"authenticatorFlow": true, "flowAlias": "shaped forms",
             "requirement": "ALTERNATIVE", "priority": 5},
            {"authenticator": "auth-cookie", "requirement": "REQUIRED", "priority": 10}]),
        json!([
            {"authenticator": "auth-username-password-form", "requirement": "REQUIRED",
             "priority": 10},
            {"authenticator": "auth-otp-form", "requirement": "REQUIRED", "priority": 20,
             "authenticatorConfig": "otp note"}]),
    );
    let first = apply_then_nothing_to_do(&env, &r.name, &v2, &[]);
    let text = first.to_string();
    assert!(text.contains("remove auth-spnego"), "{first:#}");
    assert!(
        text.contains("add shaped forms > auth-otp-form"),
        "{first:#}"
    );
    assert_eq!(
        steps(&env, &r.name, "shaped"),
        [
            (0, "flow:shaped forms".into(), "ALTERNATIVE".into(), 5),
            (
                1,
                "auth-username-password-form".into(),
                "REQUIRED".into(),
                10
            ),
            (1, "auth-otp-form".into(), "REQUIRED".into(), 20),
            (0, "auth-cookie".into(), "REQUIRED".into(), 10),
        ]
    );
    assert_eq!(flow_id(&env, &r.name, "shaped"), id, "changed in place");
    let otp = get(&env, &r.name, "/authentication/flows/shaped/executions")
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["providerId"] == "auth-otp-form")
        .cloned()
        .unwrap();
    let cfg = get(
        &env,
        &r.name,
        &format!(
            "/authentication/config/{}",
            otp["authenticationConfig"].as_str().unwrap()
        ),
    );
    assert_eq!(cfg["alias"], "otp note");
}

#[test]
fn steps_of_a_built_in_flow_are_not_added_or_removed_and_that_is_said() {
    let env = Env::new();
    let r = env.realm("builtinflow");
    let file = env.dir.path().join("builtin-export.json");
    env.ok(&[
        "realm",
        "export",
        &r.name,
        "--no-users",
        "-o",
        file.to_str().unwrap(),
    ]);
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let flows = doc["authenticationFlows"].as_array_mut().unwrap();
    let browser = flows.iter_mut().find(|f| f["alias"] == "browser").unwrap();
    let ex = browser["authenticationExecutions"].as_array_mut().unwrap();
    ex.retain(|e| e["authenticator"] != "auth-spnego");
    let before = steps(&env, &r.name, "browser");
    let f = write(&env, "builtin.json", &doc);
    let out = env
        .admin()
        .args(["--output", "json", "realm", "apply", &f])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a change Keycloak refuses fails the run"
    );
    let sum: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        sum.to_string()
            .contains("Keycloak does not allow adding or removing steps of a built-in flow: remove auth-spnego"),
        "{sum:#}"
    );
    assert_eq!(steps(&env, &r.name, "browser"), before, "nothing removed");
}

/// (kid, certificate) of each of the realm's keys, sorted.
fn keys(env: &Env, realm: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = get(env, realm, "/keys")["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap_or("").to_owned(),
                k["certificate"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Keycloak's own export carries its keys' material (the Admin API never shows private keys, so
/// `realm export` cannot): applied to an existing realm, the document's keys replace the
/// generated ones.
#[test]
fn key_material_of_a_keycloak_export_replaces_the_generated_keys_of_an_existing_realm() {
    let env = Env::new();
    let r = env.realm("keydst");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/realms/keycloak-made/kcmade-kc-export.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    // Only the realm's keys.
    let key_providers = doc["components"]["org.keycloak.keys.KeyProvider"].clone();
    let doc = json!({"realm": r.name,
        "components": {"org.keycloak.keys.KeyProvider": key_providers}});
    let first = apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    assert!(first.to_string().contains("key material"), "{first:#}");
    let live = keys(&env, &r.name);
    for p in key_providers.as_array().unwrap() {
        let cfg = &p["config"];
        if let Some(cert) = cfg["certificate"][0].as_str() {
            assert!(
                live.iter().any(|(_, c)| c == cert),
                "{} certificate",
                p["name"]
            );
        } else if let Some(kid) = cfg["kid"][0].as_str() {
            assert!(live.iter().any(|(k, _)| k == kid), "{} kid", p["name"]);
        }
    }
}

#[test]
fn the_user_profile_is_written_and_undeclared_attributes_are_reported() {
    let env = Env::new();
    let r = env.realm("profile");
    let profile = json!({"attributes": [
        {"name": "username", "permissions": {"view": ["admin", "user"], "edit": ["admin"]}},
        {"name": "email", "permissions": {"view": ["admin", "user"], "edit": ["admin"]}},
        {"name": "dept", "displayName": "Department",
         "permissions": {"view": ["admin"], "edit": ["admin"]}}]});
    let doc = json!({"realm": r.name,
        "components": {"org.keycloak.userprofile.UserProfileProvider": [
            {"providerId": "declarative-user-profile",
             "config": {"kc.user.profile.config": [profile.to_string()]}}]},
        "users": [{"username": "pat", "enabled": true, "email": "pat@example.test",
                   "attributes": {"dept": ["ops"], "badge": ["B-1"]}}]});
    let f = write(&env, "profile.json", &doc);
    let out = env
        .admin()
        .args(["--output", "json", "realm", "apply", &f])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an attribute Keycloak drops fails the run"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("attributes badge"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let names: Vec<String> = get(&env, &r.name, "/users/profile")["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["username", "email", "dept"]);
    let u = &get(&env, &r.name, "/users?username=pat&exact=true")[0];
    assert_eq!(u["attributes"]["dept"], json!(["ops"]));
    assert!(u["attributes"].get("badge").is_none());
    apply_then_nothing_to_do(&env, &r.name, &doc, &["--allow-unsupported"]);
}

#[test]
fn a_federated_identity_of_an_existing_user_is_linked() {
    let env = Env::new();
    let r = env.realm("fedid");
    let base = json!({"realm": r.name,
        "identityProviders": [{"alias": "up", "providerId": "oidc", "enabled": true,
            "config": {"clientId": "c", "clientSecret": "s", "clientAuthMethod": "client_secret_post",
                       "authorizationUrl": "https://up.example.test/auth",
                       "tokenUrl": "https://up.example.test/token"}}],
        "users": [{"username": "lee", "enabled": true}]});
    apply_then_nothing_to_do(&env, &r.name, &base, &[]);
    let mut doc = base.clone();
    doc["users"][0]["federatedIdentities"] =
        json!([{"identityProvider": "up", "userId": "u-42", "userName": "lee"}]);
    let first = apply_then_nothing_to_do(&env, &r.name, &doc, &[]);
    assert!(first.to_string().contains("link up"), "{first:#}");
    let id = get(&env, &r.name, "/users?username=lee&exact=true")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let links = get(&env, &r.name, &format!("/users/{id}/federated-identity"));
    assert_eq!(links[0]["userId"], "u-42");
}

#[test]
fn a_directory_of_files_is_one_document_and_substituted_values_never_show() {
    let env = Env::new();
    let r = env.realm("srcdir");
    let dir = env.dir.path().join("realm.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("10-realm.json"),
        json!({"realm": r.name, "displayName": "Team ${env:CLOAKROOM_TEST_TEAM}",
               "clients": [{"clientId": "svc", "secret": "${file:svc.secret}",
                            "serviceAccountsEnabled": true, "publicClient": false}]})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("20-users.yaml"),
        format!(
            "realm: {}\nusers:\n  - username: dana\n    enabled: true\n",
            r.name
        ),
    )
    .unwrap();
    std::fs::write(dir.join("svc.secret"), "svc-secret-from-a-file\n").unwrap();
    let d = dir.to_str().unwrap();
    // Without --substitute the placeholders are text; with it and no variable, a typed error.
    env.admin()
        .args(["realm", "apply", d, "--substitute", "--plan"])
        .env_remove("CLOAKROOM_TEST_TEAM")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "displayName: environment variable `CLOAKROOM_TEST_TEAM`",
        ));
    let plan = env
        .admin()
        .args(["realm", "apply", d, "--substitute", "--plan"])
        .env("CLOAKROOM_TEST_TEAM", "Falcon-Blue")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&plan.stdout).to_string() + &String::from_utf8_lossy(&plan.stderr);
    assert!(plan.status.success(), "{text}");
    assert!(text.contains("users/dana"), "both files are read: {text}");
    assert!(
        !text.contains("Falcon-Blue") && !text.contains("svc-secret-from-a-file"),
        "{text}"
    );
    env.admin()
        .args(["realm", "apply", d, "--substitute"])
        .env("CLOAKROOM_TEST_TEAM", "Falcon-Blue")
        .assert()
        .success();
    assert_eq!(get(&env, &r.name, "")["displayName"], "Team Falcon-Blue");
    let svc = &get(&env, &r.name, "/clients?clientId=svc")[0];
    let secret = get(
        &env,
        &r.name,
        &format!("/clients/{}/client-secret", svc["id"].as_str().unwrap()),
    );
    assert_eq!(secret["value"], "svc-secret-from-a-file");
    assert_eq!(
        get(&env, &r.name, "/users?username=dana&exact=true")[0]["username"],
        "dana"
    );
}

#[test]
fn realm_attributes_merge_key_by_key_or_exactly_when_asked() {
    let env = Env::new();
    let r = env.realm("attrs");
    let first = json!({"realm": r.name, "attributes": {"custom.a": "1", "custom.b": "2"}});
    apply_then_nothing_to_do(&env, &r.name, &first, &[]);
    let only_a = json!({"realm": r.name, "attributes": {"custom.a": "1"}});
    // Merged: custom.b stays.
    apply_then_nothing_to_do(&env, &r.name, &only_a, &[]);
    assert_eq!(get(&env, &r.name, "")["attributes"]["custom.b"], "2");
    // Exact: custom.b goes; Keycloak's own attributes stay.
    let out = apply_then_nothing_to_do(&env, &r.name, &only_a, &["--exact-attributes"]);
    assert!(
        out.to_string().contains("attributes.custom.b: removed"),
        "{out:#}"
    );
    let attrs = get(&env, &r.name, "")["attributes"].clone();
    assert!(attrs.get("custom.b").is_none(), "{attrs:#}");
    assert_eq!(attrs["custom.a"], "1");
    assert!(attrs.get("cibaInterval").is_some(), "{attrs:#}");
}
