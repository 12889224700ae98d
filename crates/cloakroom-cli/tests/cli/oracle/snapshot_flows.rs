//! Identity providers and their mappers, authentication flows with their executions, client
//! policies and profiles, localization texts and the user profile.

use serde_json::{Map, Value, json};

use super::admin::seg;
use super::snapshot::{Live, by, list, s};

pub fn identity_providers(c: &mut Live) {
    for idp in list(c.get("/identity-provider/instances?briefRepresentation=false&max=1000")) {
        let alias = s(&idp, "alias");
        for m in list(c.get(&format!(
            "/identity-provider/instances/{}/mappers",
            seg(&alias)
        ))) {
            c.put(
                "identity-provider-mappers",
                format!("{alias} / {}", s(&m, "name")),
                m,
            );
        }
        c.put("identity-providers", alias, idp);
    }
}

pub fn flows(c: &mut Live) {
    let all = list(c.get("/authentication/flows"));
    for f in &all {
        c.ids.add(&s(f, "id"), format!("flow:{}", s(f, "alias")));
    }
    for mut f in all {
        let alias = s(&f, "alias");
        let execs = list(c.get(&format!("/authentication/flows/{}/executions", seg(&alias))));
        let mut keyed = Map::new();
        // An execution is known by its place in the flow (level and index, as the admin
        // console shows it) and what it runs; its configuration is read by id.
        for mut e in execs {
            let what = match s(&e, "providerId") {
                p if !p.is_empty() => p,
                _ => s(&e, "displayName"),
            };
            let key = format!("{}.{} {what}", e["level"], e["index"]);
            // A sub-flow added through the Admin API without a description gets an empty one;
            // Keycloak's importer leaves it unset. Both show no description.
            if e["description"] == "" {
                e.as_object_mut().map(|m| m.remove("description"));
            }
            let cfg = s(&e, "authenticationConfig");
            if !cfg.is_empty() {
                e["authenticationConfig"] = c.get(&format!("/authentication/config/{cfg}"));
            }
            keyed.insert(key, e);
        }
        f["authenticationExecutions"] = Value::Object(keyed);
        c.put("flows", alias, f);
    }
}

pub fn policies(c: &mut Live) {
    let profiles = c.get("/client-policies/profiles");
    let policies = c.get("/client-policies/policies");
    for p in list(profiles["profiles"].clone()) {
        c.put("client-profiles", s(&p, "name"), ordered(p));
    }
    for p in list(policies["policies"].clone()) {
        c.put("client-policies", s(&p, "name"), ordered(p));
    }
}

/// Marks an object whose arrays keep their order (executors, conditions, profiles of a policy,
/// user profile attributes: Keycloak applies them in that order).
fn ordered(mut v: Value) -> Value {
    v["(ordered)"] = json!(true);
    v
}

pub fn localization(c: &mut Live) {
    for locale in list(c.get("/localization")) {
        let l = locale.as_str().unwrap_or("").to_owned();
        let texts = c.get(&format!("/localization/{}", seg(&l)));
        c.put("localization", l, texts);
    }
}

pub fn user_profile(c: &mut Live) {
    let up = c.get("/users/profile");
    let attrs = by(list(up["attributes"].clone()), "name");
    let order: Vec<String> = list(up["attributes"].clone())
        .iter()
        .map(|a| s(a, "name"))
        .collect();
    let mut rest = up;
    rest["attributes"] = json!(order);
    c.put("user-profile", "(config)", ordered(rest));
    for (name, a) in attrs.as_object().cloned().unwrap_or_default() {
        c.put("user-profile", format!("attribute {name}"), a);
    }
}
