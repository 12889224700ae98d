//! export → apply → export on the feature-rich realm fixtures in `tests/fixtures/realms/`
//! (authorization services, organizations with identity providers and mappers, client
//! policies and profiles, localization, custom flows): nothing of the first export is lost or
//! altered in the second.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Env, Realm, unique};

fn fixture(name: &str) -> Value {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/realms/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Imports the fixture under a fresh name (Keycloak's own realm import), exports it, applies
/// the export into a second fresh realm, applies again (no changes), exports the copy, and
/// returns (first export, second export renamed back) with the realms' cleanup guards.
fn round_trip<'e>(env: &'e Env, name: &str) -> (Value, Value, Realm<'e>, Realm<'e>) {
    let mut doc = fixture(name);
    let src_name = unique(&format!("rt{name}"));
    doc["realm"] = Value::String(src_name.clone());
    // A realm import that lists client scopes gets only those (none of Keycloak's built-in
    // ones): the fixture's custom scopes are added after the import instead, as an operator would.
    let scopes = doc
        .as_object_mut()
        .unwrap()
        .remove("clientScopes")
        .unwrap_or(Value::Array(Vec::new()));
    let custom: Vec<String> = names(&scopes).into_iter().map(str::to_owned).collect();
    let mut attach = Vec::new();
    for c in doc["clients"].as_array_mut().into_iter().flatten() {
        let cid = c["clientId"].as_str().unwrap().to_owned();
        for (k, kind) in [
            ("optionalClientScopes", "optional"),
            ("defaultClientScopes", "default"),
        ] {
            if let Some(Value::Array(list)) = c.get_mut(k) {
                list.retain(|s| {
                    let is_custom = custom.iter().any(|n| s == n.as_str());
                    if is_custom {
                        attach.push((cid.clone(), kind, s.as_str().unwrap().to_owned()));
                    }
                    !is_custom
                });
            }
        }
    }
    env.ok(&["api", "POST", "/admin/realms", "--data", &doc.to_string()]);
    let r = format!("/admin/realms/{src_name}");
    for sc in scopes.as_array().unwrap() {
        env.ok(&[
            "api",
            "POST",
            &format!("{r}/client-scopes"),
            "--data",
            &sc.to_string(),
        ]);
    }
    for (cid, kind, scope) in attach {
        let uuid = env.json(&["api", "GET", &format!("{r}/clients?clientId={cid}")])[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let all = env.json(&["api", "GET", &format!("{r}/client-scopes")]);
        let sid = all
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == scope.as_str())
            .and_then(|s| s["id"].as_str())
            .unwrap()
            .to_owned();
        env.ok(&[
            "api",
            "PUT",
            &format!("{r}/clients/{uuid}/{kind}-client-scopes/{sid}"),
        ]);
    }
    let src = Realm {
        env,
        name: src_name.clone(),
    };
    let dir: PathBuf = env.dir.path().to_owned();
    let a = dir.join(format!("{name}-a.json"));
    env.ok(&["realm", "export", &src_name, "-o", a.to_str().unwrap()]);

    let dst_name = unique(&format!("rt{name}copy"));
    let dst = Realm {
        env,
        name: dst_name.clone(),
    };
    let first = env.json(&["realm", "apply", a.to_str().unwrap(), "--into", &dst_name]);
    assert_eq!(first["failed"], 0, "{first:#}");
    let second = env.json(&["realm", "apply", a.to_str().unwrap(), "--into", &dst_name]);
    assert_eq!(
        (
            second["created"].as_u64(),
            second["updated"].as_u64(),
            second["failed"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "the second apply of {name} changes nothing: {:#}",
        second["actions"]
    );
    let b = dir.join(format!("{name}-b.json"));
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
    let b2 = dir.join(format!("{name}-b2.json"));
    std::fs::write(&b2, &text).unwrap();

    // Every field of the first export is in the second with the same value: the only
    // differences allowed are fields the first lacks (server defaults filled in on create).
    let d = env.json(&["realm", "diff", a.to_str().unwrap(), b2.to_str().unwrap()]);
    let mut lost = Vec::new();
    for x in d["differences"].as_array().unwrap() {
        if x["change"] != "changed" {
            lost.push(x.clone());
            continue;
        }
        for f in x["fields"].as_array().unwrap() {
            if !f["a"].is_null() && !only_default_role_added(f) {
                lost.push(
                    serde_json::json!({"section": x["section"], "key": x["key"], "field": f}),
                );
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{name}: lost or altered in the round trip: {lost:#?}"
    );
    (read(&a), read(&b2), src, dst)
}

/// Apply keeps the realm's default role on users whose document omits it (Keycloak's own
/// import of the fixture does not grant it): the one allowed difference in `realmRoles`.
fn only_default_role_added(f: &Value) -> bool {
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (a, b) = (list(&f["a"]), list(&f["b"]));
    f["field"] == "realmRoles"
        && a.iter().all(|r| b.contains(r))
        && b.iter()
            .all(|r| a.contains(r) || r.starts_with("default-roles-"))
}

fn client<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == id)
        .unwrap_or_else(|| panic!("no client {id}"))
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn round_trip_authorization_services() {
    let env = Env::new();
    let (a, b, _src, _dst) = round_trip(&env, "authz");
    for doc in [&a, &b] {
        let s = &client(doc, "docs-api")["authorizationSettings"];
        assert_eq!(names(&s["resources"]), ["Audit trail", "Document"], "{s:#}");
        assert_eq!(names(&s["scopes"]), ["doc:delete", "doc:read", "doc:write"]);
        assert_eq!(
            names(&s["policies"]),
            [
                "Ann only",
                "Audit",
                "Editors",
                "Editors in office hours",
                "Legal group",
                "Office hours",
                "Read documents",
                "Readers",
                "Write documents"
            ]
        );
        assert_eq!(s["decisionStrategy"], "AFFIRMATIVE");
        let user_policy = s["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Ann only")
            .unwrap();
        assert_eq!(user_policy["config"]["users"], "[\"ann\"]");
    }
    assert_eq!(
        client(&a, "docs-api")["authorizationSettings"],
        client(&b, "docs-api")["authorizationSettings"]
    );
}

#[test]
fn round_trip_organizations_and_identity_providers() {
    let env = Env::new();
    let (a, b, _src, _dst) = round_trip(&env, "organizations");
    for doc in [&a, &b] {
        let orgs = doc["organizations"].as_array().unwrap();
        let aliases: Vec<&str> = orgs.iter().map(|o| o["alias"].as_str().unwrap()).collect();
        assert_eq!(aliases, ["acme", "dormant", "partner"]);
        let partner = &orgs[2];
        assert_eq!(
            partner["members"],
            serde_json::json!([{"username": "carla"}])
        );
        assert_eq!(
            partner["identityProviders"],
            serde_json::json!([{"alias": "partner-oidc"}])
        );
        assert_eq!(
            partner["attributes"]["region"],
            serde_json::json!(["eu", "us"])
        );
        assert_eq!(orgs[0]["members"].as_array().unwrap().len(), 2);
        assert_eq!(doc["identityProviderMappers"].as_array().unwrap().len(), 3);
    }
    assert_eq!(a["organizations"], b["organizations"]);
    assert_eq!(a["identityProviderMappers"], b["identityProviderMappers"]);
}

#[test]
fn round_trip_client_policies_localization_and_flows() {
    let env = Env::new();
    let (a, b, _src, _dst) = round_trip(&env, "policies");
    for doc in [&a, &b] {
        assert_eq!(
            doc["localizationTexts"]["de"]["customGreeting"], "Hallo {0}",
            "{:#}",
            doc["localizationTexts"]
        );
        assert_eq!(
            names(&doc["clientPolicies"]["policies"]),
            ["partners-strict", "off-for-now"]
        );
        assert_eq!(
            names(&doc["clientProfiles"]["profiles"]),
            ["strict-confidential"]
        );
        assert_eq!(doc["browserFlow"], "browser with otp step");
        let flows: Vec<&str> = doc["authenticationFlows"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["alias"].as_str())
            .collect();
        assert!(
            flows.contains(&"browser with otp step conditional"),
            "{flows:?}"
        );
    }
    for k in [
        "localizationTexts",
        "clientPolicies",
        "clientProfiles",
        "passwordPolicy",
        "supportedLocales",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    // Realm attributes: the copy may have more (defaults a new realm gets), never fewer.
    assert_eq!(a["attributes"]["acr.loa.map"], "{\"silver\":1,\"gold\":2}");
    for (k, v) in a["attributes"].as_object().unwrap() {
        assert_eq!(&b["attributes"][k], v, "attributes.{k}");
    }
}
