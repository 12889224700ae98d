//! The realm document: its sections keyed by natural key, comparison rules, and the checks
//! and rewrites applied to a document before it is planned.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::exit::{CliError, CliResult};

/// Top-level keys that hold collections rather than realm settings.
pub const COLLECTIONS: &[&str] = &[
    "roles",
    "groups",
    "clients",
    "clientScopes",
    "identityProviders",
    "identityProviderMappers",
    "authenticationFlows",
    "authenticatorConfig",
    "organizations",
    "users",
    "requiredActions",
    "components",
];

pub type Sections = BTreeMap<&'static str, BTreeMap<String, Value>>;

fn keyed(items: Option<&Value>, key: impl Fn(&Value) -> Option<String>) -> BTreeMap<String, Value> {
    items
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| Some((key(v)?, v.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn field(name: &'static str) -> impl Fn(&Value) -> Option<String> {
    move |v| v[name].as_str().map(str::to_owned)
}

fn flatten_groups(groups: &[Value], parent: &str, out: &mut BTreeMap<String, Value>) {
    for g in groups {
        let Some(name) = g["name"].as_str() else {
            continue;
        };
        let path = format!("{parent}/{name}");
        let mut own = g.clone();
        if let Value::Object(m) = &mut own {
            m.remove("subGroups");
            m.insert("path".into(), Value::String(path.clone()));
        }
        out.insert(path.clone(), own);
        if let Some(subs) = g["subGroups"].as_array() {
            flatten_groups(subs, &path, out);
        }
    }
}

/// Splits a document into keyed sections.
pub fn sections(doc: &Value) -> Sections {
    let mut s: Sections = BTreeMap::new();
    let mut settings = Map::new();
    if let Value::Object(m) = doc {
        for (k, v) in m {
            if !COLLECTIONS.contains(&k.as_str()) {
                settings.insert(k.clone(), v.clone());
            }
        }
    }
    s.insert(
        "realm",
        BTreeMap::from([("settings".to_owned(), Value::Object(settings))]),
    );
    let mut roles = BTreeMap::new();
    for (k, v) in keyed(doc["roles"].get("realm"), field("name")) {
        roles.insert(format!("realm/{k}"), v);
    }
    if let Some(cr) = doc["roles"]["client"].as_object() {
        for (cid, list) in cr {
            for (k, v) in keyed(Some(list), field("name")) {
                roles.insert(format!("client/{cid}/{k}"), v);
            }
        }
    }
    s.insert("roles", roles);
    let mut groups = BTreeMap::new();
    flatten_groups(
        doc["groups"].as_array().map(Vec::as_slice).unwrap_or(&[]),
        "",
        &mut groups,
    );
    s.insert("groups", groups);
    for (section, key) in KEYS {
        s.insert(section, keyed(doc.get(*section), field(key)));
    }
    s.insert(
        "identityProviderMappers",
        keyed(doc.get("identityProviderMappers"), |v| {
            Some(format!(
                "{}/{}",
                v["identityProviderAlias"].as_str()?,
                v["name"].as_str()?
            ))
        }),
    );
    s.insert(
        "components",
        super::kinds::components::keyed_components(doc.get("components")),
    );
    s
}

/// Arrays of scalars compare as sets; everything else as is.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y))
            if x.iter().chain(y).all(|v| !v.is_object() && !v.is_array()) =>
        {
            let mut x: Vec<String> = x.iter().map(Value::to_string).collect();
            let mut y: Vec<String> = y.iter().map(Value::to_string).collect();
            x.sort();
            y.sort();
            x == y
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Fields of `desired` whose value differs from `live` (absent in `live` counts as different).
pub fn changed_fields(desired: &Value, live: &Value, prefix: &str, skip: &[&str]) -> Vec<String> {
    changed_values(desired, live, prefix, skip)
        .into_iter()
        .map(|(p, _, _)| p)
        .collect()
}

/// Like [`changed_fields`], with each field's live value (if any) and the document's.
pub fn changed_values(
    desired: &Value,
    live: &Value,
    prefix: &str,
    skip: &[&str],
) -> Vec<(String, Option<Value>, Value)> {
    let mut out = Vec::new();
    if let (Value::Object(d), Value::Object(l)) = (desired, live) {
        for (k, dv) in d {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match (dv, l.get(k)) {
                (Value::Object(_), Some(lv @ Value::Object(_))) => {
                    out.extend(changed_values(dv, lv, &p, &[]))
                }
                (_, Some(lv)) if same(dv, lv) => {}
                // A secret the server masks is never a difference.
                (_, _) if masked(dv) || l.get(k).is_some_and(masked) => {}
                (Value::Null, None) => {}
                (_, lv) => out.push((p, lv.cloned(), dv.clone())),
            }
        }
    } else if !same(desired, live) {
        out.push((prefix.to_owned(), Some(live.clone()), desired.clone()));
    }
    out
}

/// `field: before → after`, with secrets masked and long values shortened.
pub fn describe(changes: &[(String, Option<Value>, Value)]) -> Vec<String> {
    changes
        .iter()
        .map(|(p, before, after)| {
            let last = p.rsplit('.').next().unwrap_or(p).to_lowercase();
            let secret = ["secret", "password", "credential", "privatekey", "token"]
                .iter()
                .any(|s| last.contains(s));
            if secret {
                return format!("{p}: (secret changed)");
            }
            let show = |v: &Value| {
                let t = v.to_string();
                if t.chars().count() > 60 {
                    format!("{}…", t.chars().take(57).collect::<String>())
                } else {
                    t
                }
            };
            match before {
                Some(b) => format!("{p}: {} → {}", show(b), show(after)),
                None => format!("{p}: (unset) → {}", show(after)),
            }
        })
        .collect()
}

/// How Keycloak shows a secret it does not reveal.
pub const MASK: &str = "**********";

/// A masked secret: the mask, or a list of just the mask (component configs).
fn masked(v: &Value) -> bool {
    match v {
        Value::String(s) => s == MASK,
        Value::Array(a) => a.len() == 1 && a[0] == MASK,
        _ => false,
    }
}

pub fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

/// Names in a JSON array of strings.
pub fn names(v: Option<&Value>) -> BTreeSet<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Role composites `{realm: [...], client: {cid: [...]}}` as (client, name) pairs.
pub fn composite_refs(c: &Value) -> BTreeSet<(Option<String>, String)> {
    let mut out: BTreeSet<(Option<String>, String)> = names(c.get("realm"))
        .into_iter()
        .map(|n| (None, n))
        .collect();
    if let Some(cm) = c["client"].as_object() {
        for (cid, list) in cm {
            out.extend(
                names(Some(list))
                    .into_iter()
                    .map(|n| (Some(cid.clone()), n)),
            );
        }
    }
    out
}

/// Replaces the source realm's name where Keycloak embeds it (URLs and the default role).
pub fn rename_realm(doc: &Value, from: &str, to: &str) -> CliResult<Value> {
    let mut text = serde_json::to_string(doc).map_err(|e| CliError::other(e.to_string()))?;
    text = text.replace(&format!("/realms/{from}/"), &format!("/realms/{to}/"));
    // The admin console's own URLs (security-admin-console's base and redirect URIs).
    text = text.replace(
        &format!("/admin/{from}/console/"),
        &format!("/admin/{to}/console/"),
    );
    for f in [from.to_owned(), from.to_lowercase()] {
        text = text.replace(
            &format!("\"default-roles-{f}\""),
            &format!("\"default-roles-{}\"", to.to_lowercase()),
        );
    }
    let mut v: Value = serde_json::from_str(&text).map_err(|e| CliError::other(e.to_string()))?;
    v["realm"] = Value::String(to.to_owned());
    Ok(v)
}

/// The natural key of each collection's objects: (collection, key field).
const KEYS: &[(&str, &str)] = &[
    ("users", "username"),
    ("clients", "clientId"),
    ("clientScopes", "name"),
    ("identityProviders", "alias"),
    ("authenticationFlows", "alias"),
    ("authenticatorConfig", "alias"),
    ("organizations", "alias"),
    ("requiredActions", "alias"),
];

/// Checks that every object of the document can be keyed: each problem names the object by its
/// position, e.g. `users[0]: username must be a string`.
pub fn check(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(m) = doc.as_object() else {
        return vec!["the document must be an object".into()];
    };
    for (coll, key) in KEYS {
        check_list(m.get(*coll), coll, &[key], &mut out);
    }
    check_list(
        m.get("identityProviderMappers"),
        "identityProviderMappers",
        &["identityProviderAlias", "name"],
        &mut out,
    );
    if let Some(roles) = m.get("roles") {
        match roles {
            Value::Object(r) => {
                check_list(r.get("realm"), "roles.realm", &["name"], &mut out);
                match r.get("client") {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(c)) => {
                        for (cid, list) in c {
                            check_list(
                                Some(list),
                                &format!("roles.client.{cid}"),
                                &["name"],
                                &mut out,
                            );
                        }
                    }
                    Some(_) => out.push("roles.client: must be an object".into()),
                }
            }
            Value::Null => {}
            _ => out.push("roles: must be an object".into()),
        }
    }
    check_groups(m.get("groups"), "groups", &mut out);
    out
}

fn check_list(v: Option<&Value>, at: &str, keys: &[&str], out: &mut Vec<String>) {
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let mut seen = BTreeSet::new();
            for (i, it) in items.iter().enumerate() {
                if !it.is_object() {
                    out.push(format!("{at}[{i}]: must be an object"));
                    continue;
                }
                let mut full = Vec::new();
                for k in keys {
                    match it.get(*k) {
                        Some(Value::String(s)) if !s.is_empty() => full.push(s.clone()),
                        _ => out.push(format!("{at}[{i}]: {k} must be a non-empty string")),
                    }
                }
                if full.len() == keys.len() && !seen.insert(full.join("/")) {
                    out.push(format!("{at}[{i}]: `{}` is named twice", full.join("/")));
                }
            }
        }
        Some(_) => out.push(format!("{at}: must be a list")),
    }
}

fn check_groups(v: Option<&Value>, at: &str, out: &mut Vec<String>) {
    check_list(v, at, &["name"], out);
    if let Some(Value::Array(items)) = v {
        for (i, g) in items.iter().enumerate() {
            if let Some(subs) = g.get("subGroups") {
                check_groups(Some(subs), &format!("{at}[{i}].subGroups"), out);
            }
        }
    }
}

/// Whether a string has the shape of a UUID.
pub fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

/// Whether an id that is not a UUID is long and random enough to be replaced wherever it occurs
/// (at least 16 letters, digits, `-` or `_`, with a digit and a letter: no ordinary name).
fn looks_like_short_id(s: &str) -> bool {
    s.len() >= 16
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

/// Gives every server id of a document a fresh UUID, replacing every string equal to an old id
/// everywhere, so references stay right. Ids are the values of `id`, `_id` and `internalId`:
/// UUIDs, and the shorter random ids newer servers give user-storage components (such as
/// `4mucQet2TleTY4QcSTIMYA`, which users name in `federationLink`). A realm id that is not a
/// UUID is dropped (the server assigns one).
pub fn fresh_ids(doc: &mut Value) {
    let mut old = BTreeSet::new();
    if let Some(m) = doc.as_object() {
        if let Some(id) = m
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| looks_like_uuid(s))
        {
            old.insert(id.to_owned());
        }
        m.iter()
            .filter(|(k, _)| k.as_str() != "id")
            .for_each(|(_, x)| collect_ids(x, &mut old));
    }
    let map: BTreeMap<String, String> = old.into_iter().map(|o| (o, new_uuid())).collect();
    replace_strings(doc, &map);
    if let Some(m) = doc.as_object_mut() {
        if m.get("id")
            .and_then(Value::as_str)
            .is_some_and(|s| !looks_like_uuid(s))
        {
            m.remove("id");
        }
    }
}

fn collect_ids(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                // An identity provider's id is its `internalId`.
                let is_id = k == "id" || k == "_id" || k == "internalId";
                if let (true, Some(s)) = (is_id, x.as_str()) {
                    if looks_like_uuid(s) || looks_like_short_id(s) {
                        out.insert(s.to_owned());
                    }
                }
                collect_ids(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_ids(x, out)),
        _ => {}
    }
}

fn replace_strings(v: &mut Value, map: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(n) = map.get(s.as_str()) {
                *s = n.clone();
            }
        }
        Value::Object(m) => m.values_mut().for_each(|x| replace_strings(x, map)),
        Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, map)),
        _ => {}
    }
}

/// A random (version 4) UUID from the standard library's randomly keyed hasher.
fn new_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    };
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&word().to_le_bytes());
    b[8..].copy_from_slice(&word().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The document's objects, one per (section, key): what the summary accounts for. Sub-flows and
/// authenticator configs belong to their top-level flow.
pub fn objects(s: &Sections) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (section, items) in s {
        for (key, v) in items {
            match *section {
                "realm" => out.push(("realm".to_owned(), String::new())),
                "authenticatorConfig" => {}
                "authenticationFlows" if v["topLevel"] == false => {}
                _ => out.push(((*section).to_owned(), key.clone())),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changed_fields_compare_only_what_the_document_says() {
        let d = json!({"a": 1, "b": {"c": [2, 1]}, "e": null, "s": MASK});
        let l = json!({"a": 1, "b": {"c": [1, 2], "x": 9}, "z": 3, "s": "x"});
        assert!(changed_fields(&d, &l, "", &[]).is_empty());
        let l2 = json!({"a": 2, "b": {"c": [1]}, "s": "y"});
        assert_eq!(changed_fields(&d, &l2, "", &[]), ["a", "b.c"]);
    }

    #[test]
    fn descriptions_show_values_and_mask_secrets() {
        let d = json!({"enabled": false, "secret": "new", "attributes": {"k": "v"}});
        let l = json!({"enabled": true, "secret": "old"});
        assert_eq!(
            describe(&changed_values(&d, &l, "", &[])),
            [
                "enabled: true → false",
                "secret: (secret changed)",
                "attributes: (unset) → {\"k\":\"v\"}"
            ]
        );
    }

    #[test]
    fn rename_touches_urls_and_default_role() {
        let d = json!({"realm": "Src", "clients": [{"baseUrl": "/realms/Src/account/"}],
            "roles": {"realm": [{"name": "default-roles-src"}]}});
        let r = rename_realm(&d, "Src", "dst").unwrap();
        assert_eq!(r["realm"], "dst");
        assert_eq!(r["clients"][0]["baseUrl"], "/realms/dst/account/");
        assert_eq!(r["roles"]["realm"][0]["name"], "default-roles-dst");
    }

    #[test]
    fn objects_without_keys_are_errors_with_positions() {
        let d = json!({"realm": "x", "users": [{"username": 5}, {"username": "a"}, {"username": "a"}],
            "groups": [{"name": "g", "subGroups": [{}]}], "roles": {"client": {"app": [{"name": 1}]}}});
        assert_eq!(
            check(&d),
            [
                "users[0]: username must be a non-empty string",
                "users[2]: `a` is named twice",
                "roles.client.app[0]: name must be a non-empty string",
                "groups[0].subGroups[0]: name must be a non-empty string",
            ]
        );
    }

    #[test]
    fn fresh_ids_replace_every_reference() {
        let id = "0b7f0f2e-5a7d-4f3e-9a63-8d2c1f0e4b11";
        let mut d = json!({"id": "master", "components": {"x": [{"id": id}]},
            "users": [{"federationLink": id}]});
        fresh_ids(&mut d);
        let new = d["components"]["x"][0]["id"].as_str().unwrap().to_owned();
        assert!(looks_like_uuid(&new) && new != id);
        assert_eq!(d["users"][0]["federationLink"], new.as_str());
        assert!(d.get("id").is_none());
    }

    #[test]
    fn fresh_ids_replace_short_component_ids_but_not_names() {
        let short = "4mucQet2TleTY4QcSTIMYA";
        let mut d = json!({"id": "master", "realm": "master",
            "components": {"x": [{"id": short, "name": "ldap",
                "subComponents": {"y": [{"id": "mapper", "parentId": short}]}}]},
            "users": [{"federationLink": short, "username": "master"}]});
        fresh_ids(&mut d);
        let new = d["components"]["x"][0]["id"].as_str().unwrap().to_owned();
        assert!(looks_like_uuid(&new));
        assert_eq!(d["users"][0]["federationLink"], new.as_str());
        assert_eq!(
            d["components"]["x"][0]["subComponents"]["y"][0]["parentId"],
            new.as_str()
        );
        // Short words are no ids; the realm's own name stays.
        assert_eq!(
            d["components"]["x"][0]["subComponents"]["y"][0]["id"],
            "mapper"
        );
        assert_eq!(d["users"][0]["username"], "master");
        assert_eq!(d["realm"], "master");
    }
}
