//! Compares two realm snapshots kind by kind and object by object: every field of either side
//! that the other lacks or has with another value is one difference.

use std::collections::BTreeSet;

use serde_json::Value;

use super::snapshot::Kinds;

/// One difference: kind, natural key, what differs.
pub type Diff = (String, String, String);

/// What the document says that decides whether a server-generated value is compared.
pub struct Declared {
    /// clientIds whose secret the document gives (otherwise each server generated one).
    pub client_secrets: BTreeSet<String>,
}

impl Declared {
    pub fn of(doc: &Value) -> Declared {
        let client_secrets = doc["clients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["secret"].is_string())
            .filter_map(|c| c["clientId"].as_str().map(str::to_owned))
            .collect();
        Declared { client_secrets }
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
pub fn compare(want: &Kinds, got: &Kinds, d: &Declared) -> Vec<Diff> {
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
                (None, Some(_)) => push(&mut out, "not made by the importer".into()),
                (Some(x), Some(y)) => {
                    let (mut x, mut y) = (x.clone(), y.clone());
                    drop_generated(kind, key, &mut x, d);
                    drop_generated(kind, key, &mut y, d);
                    let mut fields = Vec::new();
                    fields_differ("", &x, &y, &mut fields);
                    for f in fields {
                        push(&mut out, f);
                    }
                }
                (None, None) => {}
            }
        }
    }
    out
}

fn fields_differ(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for k in keys {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => fields_differ(&p, v, w, out),
                (Some(v), None) => out.push(format!("{p}: {} → absent", short(v))),
                (None, Some(w)) => out.push(format!("{p}: absent → {}", short(w))),
                (None, None) => {}
            }
        }
    } else if a != b {
        let p = if path.is_empty() { "(value)" } else { path };
        out.push(format!("{p}: {} → {}", short(a), short(b)));
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
        "",
        &json!({"a": 1, "b": {"c": "x", "d": [1]}, "gone": true}),
        &json!({"a": 2, "b": {"c": "x", "d": [1, 2]}, "new": null}),
        &mut out,
    );
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
