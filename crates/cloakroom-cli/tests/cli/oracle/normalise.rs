//! What the oracle does not compare, each with its reason, and the rewriting that makes two
//! realms comparable: server ids become the natural key of what they name, and the realm's
//! own name becomes `{realm}`.

use std::collections::BTreeMap;

use serde_json::Value;

/// Object keys removed wherever they appear in an Admin API answer. Nothing else is ignored
/// (see also `IGNORED_CLIENT_ATTRIBUTES` and the generated-material rules in `compare.rs`).
pub const IGNORED_KEYS: &[(&str, &str)] = &[
    ("id", "server id (each realm has its own)"),
    ("_id", "server id in authorization settings"),
    ("internalId", "server id of an identity provider"),
    (
        "containerId",
        "server id of the realm or client holding a role",
    ),
    (
        "parentId",
        "server id of a parent; the natural key carries the parent",
    ),
    (
        "flowId",
        "server id of an execution's sub-flow; the alias is compared",
    ),
    ("createdTimestamp", "creation time, set by the server"),
    (
        "createdDate",
        "creation time of a credential, set by the server",
    ),
    ("subGroupCount", "derived from the groups compared by path"),
    (
        "subGroups",
        "sub-groups are compared as groups of their own, by path",
    ),
    (
        "access",
        "what the calling admin may do with the object, not part of it",
    ),
];

/// Client attributes the server writes on its own.
pub const IGNORED_CLIENT_ATTRIBUTES: &[(&str, &str)] = &[(
    "client.secret.creation.time",
    "time the secret was set, written by the server",
)];

/// Client attributes Keycloak reads with `Boolean.parseBoolean`: `"false"` and unset mean the
/// same, so `"false"` is compared as unset.
pub const FALSE_WHEN_UNSET: &[(&str, &str)] = &[
    (
        "backchannel.logout.session.required",
        "the importer leaves it unset, the Admin API sets it on a new client",
    ),
    (
        "backchannel.logout.revoke.offline.tokens",
        "the importer leaves it unset, the Admin API sets it on a new client",
    ),
];

/// Removes `IGNORED_KEYS` everywhere in `v`.
pub fn strip_server_fields(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, _) in IGNORED_KEYS {
                m.remove(*k);
            }
            m.values_mut().for_each(strip_server_fields);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_server_fields),
        _ => {}
    }
}

/// Sorts arrays: the Admin API returns sets (redirect URIs, role names, domains, …) in no
/// stable order. Callers keep the order where it means something (user profile attributes,
/// flow executions, which are keyed by position).
pub fn sort_sets(v: &mut Value) {
    match v {
        Value::Object(m) => m.values_mut().for_each(sort_sets),
        Value::Array(a) => {
            a.iter_mut().for_each(sort_sets);
            a.sort_by_cached_key(|x| x.to_string());
        }
        _ => {}
    }
}

/// Server id → what it names (`client:app`, `flow:browser`, `realm`, …).
#[derive(Default)]
pub struct IdNames(pub BTreeMap<String, String>);

impl IdNames {
    pub fn add(&mut self, id: &str, name: impl Into<String>) {
        if !id.is_empty() {
            self.0.insert(id.to_owned(), name.into());
        }
    }

    /// Rewrites every string in `v`: ids it names become `<name>`, other UUIDs `<unknown id>`,
    /// and the realm's name `{realm}`.
    pub fn rewrite(&self, v: &mut Value, realm: &str) {
        match v {
            Value::String(s) => *s = self.rewrite_str(s, realm),
            Value::Array(a) => a.iter_mut().for_each(|x| self.rewrite(x, realm)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    self.rewrite(&mut x, realm);
                    m.insert(self.rewrite_str(&k, realm), x);
                }
            }
            _ => {}
        }
    }

    pub fn rewrite_str(&self, s: &str, realm: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = find_uuid(rest) {
            out.push_str(&rest[..at]);
            let id = &rest[at..at + 36];
            match self.0.get(id) {
                Some(n) => out.push_str(&format!("<{n}>")),
                None => out.push_str("<unknown id>"),
            }
            rest = &rest[at + 36..];
        }
        out.push_str(rest);
        if let Some(n) = self.0.get(&out) {
            // Ids that are not UUIDs (a realm whose id is its name, e.g. `master`).
            return format!("<{n}>");
        }
        replace_realm(&out, realm)
    }
}

/// The realm's name (and its lower-case form, used in `default-roles-<realm>`) as `{realm}`.
pub fn replace_realm(s: &str, realm: &str) -> String {
    s.replace(realm, "{realm}")
        .replace(&realm.to_lowercase(), "{realm}")
}

/// Byte offset of the first UUID (8-4-4-4-12 hex digits) in `s`.
pub fn find_uuid(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 36 {
        return None;
    }
    (0..=b.len() - 36).find(|&i| is_uuid(&b[i..i + 36]))
}

fn is_uuid(b: &[u8]) -> bool {
    b.iter().enumerate().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    })
}

#[test]
fn uuids_are_found_and_named() {
    let mut ids = IdNames::default();
    ids.add("0b3c5a5e-1111-4a4a-9f9f-000000000001", "client:app");
    let s = "x/0b3c5a5e-1111-4a4a-9f9f-000000000001/y 1b3c5a5e-1111-4a4a-9f9f-000000000001 r1";
    assert_eq!(
        ids.rewrite_str(s, "r1"),
        "x/<client:app>/y <unknown id> {realm}"
    );
}
