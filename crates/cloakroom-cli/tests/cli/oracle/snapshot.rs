//! Reads one realm kind by kind through the Admin API into objects keyed by natural key
//! (username, clientId, alias, group path, …), with server ids replaced by what they name.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::admin::{Admin, seg};
use super::normalise::{IdNames, sort_sets, strip_server_fields};

/// kind → natural key → object.
pub type Kinds = BTreeMap<&'static str, BTreeMap<String, Value>>;

/// Reads a realm. `passwords`: username → password to try with the password grant;
/// `document`: the text of the realm document (to tell its key material from generated keys).
pub fn read(
    admin: &Admin,
    realm: &str,
    passwords: &BTreeMap<String, String>,
    document: &str,
) -> Kinds {
    let mut c = Live {
        admin,
        realm,
        passwords,
        document,
        base: format!("/{}", seg(realm)),
        ids: IdNames::default(),
        kinds: Kinds::new(),
        clients: BTreeMap::new(),
    };
    realm_settings(&mut c);
    required_actions(&mut c);
    components(&mut c);
    keys(&mut c);
    client_scopes(&mut c);
    super::snapshot_clients::clients(&mut c);
    roles(&mut c);
    super::snapshot_people::groups(&mut c);
    super::snapshot_people::users(&mut c);
    super::snapshot_people::organizations(&mut c);
    super::snapshot_flows::identity_providers(&mut c);
    super::snapshot_flows::flows(&mut c);
    super::snapshot_flows::policies(&mut c);
    super::snapshot_flows::localization(&mut c);
    super::snapshot_flows::user_profile(&mut c);
    let Live { mut kinds, ids, .. } = c;
    for objects in kinds.values_mut() {
        for (key, v) in std::mem::take(objects) {
            let mut v = v;
            ids.rewrite(&mut v, realm);
            strip_server_fields(&mut v);
            if !keeps_order(&v) {
                sort_sets(&mut v);
            }
            objects.insert(ids.rewrite_str(&key, realm), v);
        }
    }
    kinds
}

/// Objects whose arrays are ordered lists: marked by the reader with `"(ordered)": true`.
fn keeps_order(v: &Value) -> bool {
    v.get("(ordered)").is_some()
}

/// The realm being read, and what has been read so far.
pub struct Live<'a> {
    pub admin: &'a Admin,
    pub realm: &'a str,
    pub passwords: &'a BTreeMap<String, String>,
    pub document: &'a str,
    pub base: String,
    pub ids: IdNames,
    pub kinds: Kinds,
    /// clientId → internal id.
    pub clients: BTreeMap<String, String>,
}

impl Live<'_> {
    /// `GET` below the realm. A failure is part of the picture (it shows as a difference when
    /// the other realm answers), not a reason to stop reading.
    pub fn get(&self, p: &str) -> Value {
        match self.admin.get(&format!("{}{p}", self.base)) {
            Ok(v) => v,
            Err(e) => json!({ "(GET failed)": format!("{p}: {e}") }),
        }
    }
    pub fn put(&mut self, kind: &'static str, key: impl Into<String>, v: Value) {
        self.kinds.entry(kind).or_default().insert(key.into(), v);
    }
    /// Role mappings (`realmMappings` / `clientMappings`) as sorted `realm:x` / `client:c:x`.
    pub fn role_names(&self, mappings: &Value) -> Vec<String> {
        let mut out: Vec<String> = list(mappings["realmMappings"].clone())
            .iter()
            .map(|r| format!("realm:{}", s(r, "name")))
            .collect();
        if let Some(m) = mappings["clientMappings"].as_object() {
            for (cid, v) in m {
                for r in list(v["mappings"].clone()) {
                    out.push(format!("client:{cid}:{}", s(&r, "name")));
                }
            }
        }
        out.sort();
        out
    }
}

pub fn list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        _ => Vec::new(),
    }
}

pub fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or("").to_owned()
}

/// Turns a list of objects into an object keyed by `field` (protocol mappers by name, …).
pub fn by(items: Vec<Value>, field: &str) -> Value {
    let mut m = Map::new();
    for x in items {
        m.insert(s(&x, field), x);
    }
    Value::Object(m)
}

fn realm_settings(c: &mut Live) {
    let mut rep = c.get("");
    c.ids.add(&s(&rep, "id"), "realm");
    let m = rep.as_object_mut();
    let attributes = m.and_then(|m| m.remove("attributes")).unwrap_or(json!({}));
    // Compared as kinds of their own (`client-policies`, `client-profiles`, `default-groups`).
    for k in ["clientPolicies", "clientProfiles", "defaultGroups"] {
        rep.as_object_mut().map(|m| m.remove(k));
    }
    c.put("realm", "settings", rep);
    c.put("realm", "attributes", attributes);
    let events = c.get("/events/config");
    c.put("realm", "events-config", events);
    let groups: Vec<String> = list(c.get("/default-groups"))
        .iter()
        .map(|g| s(g, "path"))
        .collect();
    c.put("default-groups", "(realm)", json!(groups));
    for kind in ["default", "optional"] {
        let names: Vec<String> = list(c.get(&format!("/default-{kind}-client-scopes")))
            .iter()
            .map(|x| s(x, "name"))
            .collect();
        c.put("default-client-scopes", kind, json!(names));
    }
}

fn required_actions(c: &mut Live) {
    for ra in list(c.get("/authentication/required-actions")) {
        c.put("required-actions", s(&ra, "alias"), ra);
    }
    let unregistered: Vec<String> = list(c.get("/authentication/unregistered-required-actions"))
        .iter()
        .map(|x| s(x, "providerId"))
        .collect();
    c.put("required-actions", "(unregistered)", json!(unregistered));
}

/// The user-profile component is compared as the `user-profile` kind (its configuration is one
/// JSON string here).
const USER_PROFILE_TYPE: &str = "org.keycloak.userprofile.UserProfileProvider";

fn components(c: &mut Live) {
    let all = list(c.get("/components"));
    let realm_id = c
        .ids
        .0
        .iter()
        .find(|(_, n)| *n == "realm")
        .map(|(i, _)| i.clone());
    let names: BTreeMap<String, String> =
        all.iter().map(|x| (s(x, "id"), component_key(x))).collect();
    for x in all {
        if s(&x, "providerType") == USER_PROFILE_TYPE {
            continue;
        }
        let parent = s(&x, "parentId");
        let mut key = names[&s(&x, "id")].clone();
        if Some(&parent) != realm_id.as_ref() {
            let p = names
                .get(&parent)
                .cloned()
                .unwrap_or_else(|| "<unknown parent>".into());
            key = format!("{p} / {key}");
        }
        c.ids.add(&s(&x, "id"), format!("component:{key}"));
        c.put("components", key, x);
    }
}

/// Fields of `GET /keys` that are key material: each realm's server generates its own unless
/// the document carries it. They are replaced by `(material)`: whether the key is the
/// document's (its certificate or kid is in the document) or another one.
const KEY_MATERIAL: &[&str] = &["certificate", "kid", "publicKey", "validTo"];

/// The realm's keys as `GET /keys` shows them (the component configuration does not show key
/// material), keyed by provider, algorithm and use. `active` (algorithm → kid) is left out: it
/// follows from the keys' status and priority, which are compared.
fn keys(c: &mut Live) {
    for mut k in list(c.get("/keys")["keys"].take()) {
        let key = format!(
            "{} {} {}",
            s(&k, "providerId"),
            s(&k, "algorithm"),
            s(&k, "use")
        );
        let ours = ["certificate", "kid"]
            .iter()
            .any(|f| !s(&k, f).is_empty() && c.document.contains(&s(&k, f)));
        for f in KEY_MATERIAL {
            k.as_object_mut().map(|m| m.remove(*f));
        }
        k["(material)"] = json!(if ours { "the document's" } else { "generated" });
        c.put("keys", key, k);
    }
}

/// `KeyProvider rsa-generated`; `ClientRegistrationPolicy Trusted Hosts (anonymous)`: the
/// same name can be used once per sub-type.
fn component_key(x: &Value) -> String {
    let sub = match s(x, "subType") {
        t if t.is_empty() => String::new(),
        t => format!(" ({t})"),
    };
    format!("{} {}{sub}", short(&s(x, "providerType")), s(x, "name"))
}

/// `org.keycloak.keys.KeyProvider` → `KeyProvider`.
fn short(t: &str) -> &str {
    t.rsplit('.').next().unwrap_or(t)
}

fn client_scopes(c: &mut Live) {
    for mut sc in list(c.get("/client-scopes")) {
        let name = s(&sc, "name");
        let id = s(&sc, "id");
        c.ids.add(&id, format!("client-scope:{name}"));
        sc["protocolMappers"] = by(list(sc["protocolMappers"].take()), "name");
        let m = c.get(&format!("/client-scopes/{id}/scope-mappings"));
        scope_mappings(c, &format!("client-scope:{name}"), &m);
        c.put("client-scopes", name, sc);
    }
}

/// Records what a client or client scope has in scope: realm roles as `scope-mappings`,
/// client roles as `client-scope-mappings` (only when there are some).
pub fn scope_mappings(c: &mut Live, key: &str, m: &Value) {
    let names = c.role_names(m);
    let (realm, client): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| n.starts_with("realm:"));
    if !realm.is_empty() {
        c.put("scope-mappings", key, json!(realm));
    }
    if !client.is_empty() {
        c.put("client-scope-mappings", key, json!(client));
    }
}

fn roles(c: &mut Live) {
    let mut all: Vec<(String, Value)> = list(c.get("/roles?briefRepresentation=false"))
        .into_iter()
        .map(|r| (format!("realm:{}", s(&r, "name")), r))
        .collect();
    let clients: Vec<(String, String)> = c.clients.clone().into_iter().collect();
    for (cid, id) in clients {
        for r in list(c.get(&format!("/clients/{id}/roles?briefRepresentation=false"))) {
            all.push((format!("client:{cid}:{}", s(&r, "name")), r));
        }
    }
    for (key, r) in &all {
        c.ids.add(&s(r, "id"), format!("role:{key}"));
    }
    for (key, mut r) in all {
        if r["composite"] == true {
            let comps = c.get(&format!("/roles-by-id/{}/composites", s(&r, "id")));
            let mut names: Vec<String> = list(comps)
                .iter()
                .map(|x| {
                    if x["clientRole"] == true {
                        let cid = c
                            .ids
                            .0
                            .get(&s(x, "containerId"))
                            .cloned()
                            .unwrap_or_default();
                        format!("{cid}:{}", s(x, "name"))
                    } else {
                        format!("realm:{}", s(x, "name"))
                    }
                })
                .collect();
            names.sort();
            r["composites"] = json!(names);
        }
        c.put("roles", key, r);
    }
}
