//! Compares two realm snapshots kind by kind and object by object: every field of either side
//! that the other lacks or has with another value is one difference.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::snapshot::Kinds;

/// One difference: kind, natural key, what differs.
pub type Diff = (String, String, String);

/// What the document says that decides whether a server-generated value is compared.
pub struct Declared {
    /// clientIds whose secret the document gives (otherwise each server generated one).
    pub client_secrets: BTreeSet<String>,
    /// (kind, key) of the objects the document names, for the kinds where a realm has objects
    /// of its own from the start (see [`Kept`]).
    pub objects: BTreeSet<(String, String)>,
    /// The realm's default groups, by path.
    pub default_groups: BTreeSet<String>,
    /// Users whose document password is `temporary`.
    pub temporary_passwords: BTreeSet<String>,
    /// The document's own object for (kind, key), where the snapshot keeps the document's
    /// shape: clients, client scopes, the realm's attributes.
    pub docs: BTreeMap<(String, String), Value>,
}

impl Declared {
    pub fn of(doc: &Value) -> Declared {
        let items = |k: &str| doc[k].as_array().cloned().unwrap_or_default();
        let client_secrets = items("clients")
            .iter()
            .filter(|c| c["secret"].is_string())
            .filter_map(|c| c["clientId"].as_str().map(str::to_owned))
            .collect();
        let mut objects = BTreeSet::new();
        let mut docs = BTreeMap::new();
        for (kind, section, field) in [
            ("clients", "clients", "clientId"),
            ("client-scopes", "clientScopes", "name"),
            ("required-actions", "requiredActions", "alias"),
        ] {
            for o in items(section) {
                if let Some(k) = o[field].as_str() {
                    objects.insert((kind.to_owned(), k.to_owned()));
                    if kind != "required-actions" {
                        docs.insert((kind.to_owned(), k.to_owned()), o.clone());
                    }
                }
            }
        }
        docs.insert(
            ("realm".to_owned(), "attributes".to_owned()),
            doc.get("attributes")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
        );
        for (key, section) in [
            ("default", "defaultDefaultClientScopes"),
            ("optional", "defaultOptionalClientScopes"),
        ] {
            if doc.get(section).is_some() {
                objects.insert(("default-client-scopes".to_owned(), key.to_owned()));
            }
        }
        let default_groups = items("defaultGroups")
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect();
        let temporary_passwords = items("users")
            .iter()
            .filter(|u| {
                u["credentials"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "password" && c["temporary"] == true)
                })
            })
            .filter_map(|u| u["username"].as_str().map(str::to_owned))
            .collect();
        Declared {
            client_secrets,
            objects,
            default_groups,
            temporary_passwords,
            docs,
        }
    }

    /// Whether the document states the field at `path` of this object. Only a key missing from
    /// an object of the document counts as not stated; a path through a list (protocol mappers
    /// are a list in the document, a map here) counts as stated, and so does any object whose
    /// document shape is not known.
    fn states(&self, kind: &str, key: &str, path: &[String]) -> bool {
        let Some(mut v) = self.docs.get(&(kind.to_owned(), key.to_owned())) else {
            return true;
        };
        for p in path {
            match v {
                Value::Object(m) => match m.get(p) {
                    Some(x) => v = x,
                    None => return false,
                },
                // Protocol mappers: a list in the document, keyed by name here.
                Value::Array(a) => match a.iter().find(|x| x["name"] == p.as_str()) {
                    Some(x) => v = x,
                    None => return true,
                },
                _ => return true,
            }
        }
        true
    }

    /// A protocol mapper's config key that the document's mapper does not state: Keycloak fills
    /// in its own default (`userinfo.token.claim`, `introspection.token.claim`), differently
    /// in its importer and its Admin API, and apply leaves such keys to the server.
    fn server_filled(&self, kind: &str, key: &str, path: &[String]) -> bool {
        path.len() == 4
            && path[0] == "protocolMappers"
            && path[2] == "config"
            && !self.states(kind, key, path)
    }

    /// Whether the document names this object; kinds not tracked count as named.
    fn names(&self, kind: &str, key: &str) -> bool {
        let tracked = [
            "clients",
            "client-scopes",
            "required-actions",
            "default-client-scopes",
        ];
        !tracked.contains(&kind) || self.objects.contains(&(kind.to_owned(), key.to_owned()))
    }
}

/// On the update path, what the realm held before the apply. `realm apply` merges: objects and
/// fields the document does not name stay as they were (only `--prune` deletes, and never a
/// built-in object), while Keycloak's importer makes a realm with exactly the document's
/// objects, and fills in what the document leaves out with its own defaults. So a difference is
/// *kept*, not a gap, when the applied realm's value is the one it had before the apply and
/// either the importer's realm lacks it, or the document does not name the object, or the
/// document's object does not state that field.
pub struct Kept<'a> {
    pub before: &'a Kinds,
    /// How many differences were kept this way.
    pub count: usize,
}

impl Kept<'_> {
    fn object(&self, kind: &str, key: &str, got: &Value) -> bool {
        self.before.get(kind).and_then(|m| m.get(key)) == Some(got)
    }

    /// The value at `path` (dot-separated object keys) of the object before the apply.
    fn field<'v>(&'v self, kind: &str, key: &str, path: &[String]) -> Option<&'v Value> {
        let mut v = self.before.get(kind)?.get(key)?;
        for p in path {
            v = v.get(p.as_str())?;
        }
        Some(v)
    }
}

/// Users get the realm's default role and default groups when they are created through the
/// Admin API, and `realm apply` keeps them (issue 12: a user keeps `default-roles-<realm>`
/// unless the document removes it); Keycloak's importer gives an imported user only what the
/// document lists. Removed from the applied user when the importer's lacks them.
///
/// A password the document marks `temporary`: the Admin API makes the user change it at the next
/// login (required action `UPDATE_PASSWORD`), as the document says; Keycloak's importer ignores
/// `temporary`. The applied user's required action and the password grant it refuses are
/// compared as the importer's.
fn drop_defaults(kind: &str, key: &str, want: &Value, got: &mut Value, d: &Declared) {
    if kind != "users" {
        return;
    }
    let listed = |v: &Value| {
        v["requiredActions"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "UPDATE_PASSWORD"))
    };
    if d.temporary_passwords.contains(key) {
        if listed(got)
            && !listed(want)
            && let Some(a) = got["requiredActions"].as_array_mut()
        {
            a.retain(|x| x != "UPDATE_PASSWORD");
        }
        if got["(password grant)"]
            .as_str()
            .is_some_and(|g| g.contains("Account is not fully set up"))
        {
            got["(password grant)"] = want["(password grant)"].clone();
        }
    }
    let has = |v: &Value, k: &str, x: &str| {
        v[k].as_array()
            .is_some_and(|a| a.iter().any(|y| y.as_str() == Some(x)))
    };
    let mut drop = vec![("(roles)", "realm:default-roles-{realm}".to_owned())];
    drop.extend(d.default_groups.iter().map(|g| ("(groups)", g.clone())));
    for (k, x) in drop {
        if !has(want, k, &x)
            && let Some(a) = got.get_mut(k).and_then(Value::as_array_mut)
        {
            a.retain(|y| y.as_str() != Some(x.as_str()));
        }
    }
}

/// Drops the secret a server generates for a confidential client whose document gives none
/// (key material: see `snapshot::KEY_MATERIAL`).
fn drop_generated(kind: &str, key: &str, v: &mut Value, d: &Declared) {
    if kind == "clients"
        && !d.client_secrets.contains(key)
        && let Some(m) = v.as_object_mut()
    {
        m.remove("secret");
    }
}

/// Differences between the realm made by Keycloak's importer (`want`) and the one the CLI made
/// (`got`).
pub fn compare(want: &Kinds, got: &Kinds, d: &Declared, mut kept: Option<&mut Kept>) -> Vec<Diff> {
    let mut out = Vec::new();
    let kinds: BTreeSet<&&str> = want.keys().chain(got.keys()).collect();
    let empty = Default::default();
    for kind in kinds {
        let a = want.get(*kind).unwrap_or(&empty);
        let b = got.get(*kind).unwrap_or(&empty);
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            let push =
                |out: &mut Vec<Diff>, what: String| out.push((kind.to_string(), key.clone(), what));
            match (a.get(key), b.get(key)) {
                (Some(_), None) => push(&mut out, "missing".into()),
                (None, Some(y)) => match kept.as_deref_mut() {
                    Some(k) if k.object(kind, key, y) => k.count += 1,
                    _ => push(&mut out, "not made by the importer".into()),
                },
                (Some(x), Some(y)) => {
                    let (mut x, mut y) = (x.clone(), y.clone());
                    drop_generated(kind, key, &mut x, d);
                    drop_generated(kind, key, &mut y, d);
                    drop_defaults(kind, key, &x, &mut y, d);
                    let mut fields = Vec::new();
                    fields_differ(&[], &x, &y, &mut fields);
                    for (path, absent, f) in fields {
                        if d.server_filled(kind, key, &path)
                            && path_value(&x, &path).is_none() != path_value(&y, &path).is_none()
                        {
                            continue;
                        }
                        let keep = kept.as_deref_mut().filter(|k| {
                            k.field(kind, key, &path) == path_value(&y, &path)
                                && (absent || !d.names(kind, key) || !d.states(kind, key, &path))
                        });
                        match keep {
                            Some(k) => k.count += 1,
                            None => push(&mut out, f),
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
    out
}

/// The value at `path` in `v`.
fn path_value<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, p| v.get(p.as_str()))
}

/// One difference: where (object keys from the top), whether the importer's side lacks the
/// field, and the line.
type Field = (Vec<String>, bool, String);

fn fields_differ(path: &[String], a: &Value, b: &Value, out: &mut Vec<Field>) {
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for k in keys {
            let mut here = path.to_vec();
            here.push(k.clone());
            let p = here.join(".");
            match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => fields_differ(&here, v, w, out),
                (Some(v), None) => out.push((here, false, format!("{p}: {} → absent", short(v)))),
                (None, Some(w)) => out.push((here, true, format!("{p}: absent → {}", short(w)))),
                (None, None) => {}
            }
        }
    } else if a != b {
        let p = if path.is_empty() {
            "(value)".to_owned()
        } else {
            path.join(".")
        };
        out.push((
            path.to_vec(),
            false,
            format!("{p}: {} → {}", short(a), short(b)),
        ));
    }
}

/// A value on one line, at most 100 characters.
pub fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() <= 100 {
        t
    } else {
        let head: String = t.chars().take(97).collect();
        format!("{head}...")
    }
}

#[test]
fn every_field_that_differs_is_one_line() {
    use serde_json::json;
    let mut out = Vec::new();
    fields_differ(
        &[],
        &json!({"a": 1, "b": {"c": "x", "d": [1]}, "gone": true}),
        &json!({"a": 2, "b": {"c": "x", "d": [1, 2]}, "new": null}),
        &mut out,
    );
    let out: Vec<String> = out.into_iter().map(|(_, _, l)| l).collect();
    assert_eq!(
        out,
        [
            "a: 1 → 2",
            "b.d: [1] → [1,2]",
            "gone: true → absent",
            "new: absent → null"
        ]
    );
}
