//! What an export needs beyond the objects themselves, read through the Admin API in document
//! shape: required actions, the realm's components with their sub-components, the realm's
//! default client scopes, and scope mappings (realm roles, and client roles by client) of
//! clients and client scopes.

use std::collections::BTreeMap;

use cloakroom::request::encode_segment;
use serde_json::{Map, Value, json};

use super::doc::MASK;
use super::kinds::components::MATERIAL;
use super::snapshot::{Live, sort_by_key, strip};
use crate::exit::CliResult;

impl Live<'_> {
    /// Required actions as registered, by priority.
    pub async fn required_actions(&self) -> CliResult<Vec<Value>> {
        let mut v = match self.session.get("/authentication/required-actions").await? {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        v.sort_by_key(|r| r["priority"].as_i64().unwrap_or(0));
        Ok(v)
    }

    /// `{providerType: [component with subComponents]}` of the realm's own components. Masked
    /// values (secrets) are left out unless `include_secrets` (they are not readable either
    /// way: the export then says so by leaving them out too).
    pub async fn components(&self) -> CliResult<Value> {
        let realm_id = self.session.realm_id().await?;
        let all = match self.session.get("/components").await? {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        Ok(nest(&all, &realm_id))
    }

    /// (defaultDefaultClientScopes, defaultOptionalClientScopes) by name.
    pub async fn default_client_scopes(&self) -> CliResult<(Value, Value)> {
        let mut out = Vec::new();
        for kind in ["default", "optional"] {
            let v = self
                .session
                .get(&format!("/default-{kind}-client-scopes"))
                .await?;
            let mut names: Vec<String> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["name"].as_str().map(str::to_owned))
                .collect();
            names.sort();
            out.push(json!(names));
        }
        let optional = out.pop().unwrap_or_default();
        let default = out.pop().unwrap_or_default();
        Ok((default, optional))
    }

    /// (scopeMappings, clientScopeMappings) of every client and client scope, as Keycloak's
    /// export writes them: `[{client|clientScope, roles}]` and `{roleClient: [{…, roles}]}`.
    pub async fn scope_mappings(&self, clients: &[Value]) -> CliResult<(Value, Value)> {
        let mut owners: Vec<(&str, String, String)> = Vec::new();
        for c in clients {
            if let (Some(id), Some(cid)) = (c["id"].as_str(), c["clientId"].as_str()) {
                owners.push((
                    "client",
                    cid.to_owned(),
                    format!("/clients/{}", encode_segment(id)),
                ));
            }
        }
        if let Value::Array(scopes) = self.session.get("/client-scopes").await? {
            for s in scopes {
                if let (Some(id), Some(n)) = (s["id"].as_str(), s["name"].as_str()) {
                    owners.push((
                        "clientScope",
                        n.to_owned(),
                        format!("/client-scopes/{}", encode_segment(id)),
                    ));
                }
            }
        }
        let mut realm = Vec::new();
        let mut by_client: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (field, name, base) in owners {
            let m = self.session.get(&format!("{base}/scope-mappings")).await?;
            let roles = role_names(&m["realmMappings"]);
            if !roles.is_empty() {
                realm.push(json!({ field: name, "roles": roles }));
            }
            for (_, cm) in m["clientMappings"].as_object().into_iter().flatten() {
                let Some(role_client) = cm["client"].as_str() else {
                    continue;
                };
                let roles = role_names(&cm["mappings"]);
                if !roles.is_empty() {
                    by_client
                        .entry(role_client.to_owned())
                        .or_default()
                        .push(json!({ field: name, "roles": roles }));
                }
            }
        }
        let by_client: Map<String, Value> = by_client
            .into_iter()
            .map(|(k, v)| (k, Value::Array(v)))
            .collect();
        Ok((Value::Array(realm), Value::Object(by_client)))
    }
}

fn role_names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    n.sort();
    n
}

/// The components under `parent`, grouped by provider type, each with its own sub-components.
fn nest(all: &[Value], parent: &str) -> Value {
    let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for c in all.iter().filter(|c| c["parentId"] == parent) {
        let Some(ty) = c["providerType"].as_str() else {
            continue;
        };
        let id = c["id"].as_str().unwrap_or("");
        let mut c = c.clone();
        if let Some(Value::Object(cfg)) = c.get_mut("config") {
            cfg.retain(|k, v| {
                // Key material Keycloak never shows: left out, so an export applied elsewhere
                // lets the server generate its own.
                !MATERIAL.contains(&k.as_str())
                    && !(v.as_array().is_some_and(|a| a.len() == 1 && a[0] == MASK))
            });
        }
        let subs = nest(all, id);
        strip(&mut c);
        if let Value::Object(m) = &mut c {
            m.remove("parentId");
            m.remove("providerType");
            m.insert("subComponents".into(), subs);
        }
        by_type.entry(ty.to_owned()).or_default().push(c);
    }
    let mut out = Map::new();
    for (ty, mut list) in by_type {
        sort_by_key(&mut list, "name");
        out.insert(ty, Value::Array(list));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_nest_under_their_parent_without_hidden_or_masked_values() {
        let all = vec![
            json!({"id": "k", "parentId": "r", "providerType": "org.keycloak.keys.KeyProvider",
                   "name": "rsa", "config": {"priority": ["100"], "privateKey": ["x"]}}),
            json!({"id": "l", "parentId": "r", "providerType": "org.keycloak.storage.UserStorageProvider",
                   "name": "ldap", "config": {"bindCredential": [MASK], "vendor": ["other"]}}),
            json!({"id": "m", "parentId": "l", "providerType": "org.keycloak.storage.ldap.mappers.LDAPStorageMapper",
                   "name": "email", "config": {}}),
            json!({"id": "x", "parentId": "elsewhere", "providerType": "t", "name": "n"}),
        ];
        let v = nest(&all, "r");
        assert_eq!(
            v["org.keycloak.keys.KeyProvider"][0]["config"],
            json!({"priority": ["100"]})
        );
        let ldap = &v["org.keycloak.storage.UserStorageProvider"][0];
        assert_eq!(ldap["config"], json!({"vendor": ["other"]}));
        assert_eq!(
            ldap["subComponents"]["org.keycloak.storage.ldap.mappers.LDAPStorageMapper"][0]["name"],
            "email"
        );
        assert!(v.get("t").is_none());
    }
}
