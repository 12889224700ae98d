//! Clients: settings, protocol mappers, default and optional scopes, scope mappings,
//! service-account roles and authorization settings.

use serde_json::{Value, json};

use super::normalise::{FALSE_WHEN_UNSET, IGNORED_CLIENT_ATTRIBUTES};
use super::snapshot::{Live, by, list, s, scope_mappings};

pub fn clients(c: &mut Live) {
    let all = list(c.get("/clients"));
    for x in &all {
        let cid = s(x, "clientId");
        c.ids.add(&s(x, "id"), format!("client:{cid}"));
        c.clients.insert(cid, s(x, "id"));
    }
    for mut x in all {
        let cid = s(&x, "clientId");
        let id = s(&x, "id");
        x["protocolMappers"] = by(list(x["protocolMappers"].take()), "name");
        if let Some(a) = x["attributes"].as_object_mut() {
            for (k, _) in IGNORED_CLIENT_ATTRIBUTES {
                a.remove(*k);
            }
            for (k, _) in FALSE_WHEN_UNSET {
                if a.get(*k).is_some_and(|v| v == "false") {
                    a.remove(*k);
                }
            }
        }
        for kind in ["default", "optional"] {
            let names: Vec<String> = list(c.get(&format!("/clients/{id}/{kind}-client-scopes")))
                .iter()
                .map(|sc| s(sc, "name"))
                .collect();
            x[format!("{kind}ClientScopes")] = json!(names);
        }
        if x["serviceAccountsEnabled"] == true {
            let user = c.get(&format!("/clients/{id}/service-account-user"));
            let roles = c.get(&format!("/users/{}/role-mappings", s(&user, "id")));
            x["(service account roles)"] = json!(c.role_names(&roles));
        }
        if x["authorizationServicesEnabled"] == true {
            x["authorizationSettings"] =
                authz(c.get(&format!("/clients/{id}/authz/resource-server/settings")));
        }
        let m = c.get(&format!("/clients/{id}/scope-mappings"));
        scope_mappings(c, &format!("client:{cid}"), &m);
        c.put("clients", cid, x);
    }
}

/// Authorization settings keyed by name (resources, scopes, policies). A policy's
/// `applyPolicies`, `scopes`, `resources`, … are sets that the server serializes as a JSON
/// array inside a string, in storage order: their elements are sorted.
fn authz(mut v: Value) -> Value {
    for p in v["policies"].as_array_mut().into_iter().flatten() {
        for (_, x) in p["config"].as_object_mut().into_iter().flatten() {
            let parsed = x
                .as_str()
                .and_then(|t| serde_json::from_str::<Value>(t).ok());
            if let Some(Value::Array(mut items)) = parsed {
                items.sort_by_cached_key(|i| i.to_string());
                *x = Value::String(Value::Array(items).to_string());
            }
        }
    }
    for k in ["resources", "scopes", "policies"] {
        let items = list(v[k].take());
        v[k] = by(items, "name");
    }
    v
}
