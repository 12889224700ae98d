//! The documents the oracle judges, and the copy of each that Keycloak's importer gets.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::normalise::find_uuid;

pub struct Fixture {
    /// Path below `tests/fixtures/realms/`, e.g. `keycloak-made/kcmade-kc-export.json`.
    pub name: String,
    pub path: PathBuf,
    pub doc: Value,
    /// The file's text.
    pub text: String,
    /// username → password to try with the password grant.
    pub passwords: BTreeMap<String, String>,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realms")
}

/// Every realm document in `tests/fixtures/realms/` and `keycloak-made/`, sorted.
pub fn all() -> Vec<Fixture> {
    let root = root();
    let made = root.join("keycloak-made");
    let known: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(made.join("passwords.json"))
            .expect("keycloak-made/passwords.json"),
    )
    .expect("passwords.json is a JSON object of strings");
    let mut out = Vec::new();
    for dir in [&root, &made] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("fixtures dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| p.file_name().is_some_and(|n| n != "passwords.json"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let doc: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .strip_prefix(&root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            let passwords = passwords(&doc, &known);
            out.push(Fixture {
                name,
                path,
                doc,
                text,
                passwords,
            });
        }
    }
    out
}

/// Passwords of the users whose document has a password credential: its plain `value`, or
/// for hashed ones the test password listed in `keycloak-made/passwords.json`.
fn passwords(doc: &Value, known: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for u in doc["users"].as_array().into_iter().flatten() {
        let Some(name) = u["username"].as_str() else {
            continue;
        };
        for c in u["credentials"].as_array().into_iter().flatten() {
            if c["type"] != "password" {
                continue;
            }
            if let Some(v) = c["value"].as_str() {
                out.insert(name.to_owned(), v.to_owned());
            } else if let Some(v) = known.get(name) {
                out.insert(name.to_owned(), v.clone());
            }
        }
    }
    out
}

/// The document renamed to `to` for Keycloak's importer: the `realm` field, the realm's URLs
/// (`/realms/<name>/`, the admin console's `/admin/<name>/console/`) and its default role
/// `default-roles-<name>`.
pub fn renamed(doc: &Value, to: &str) -> Value {
    let from = doc["realm"].as_str().unwrap_or_default().to_owned();
    let mut text = doc.to_string();
    text = text.replace(&format!("/realms/{from}/"), &format!("/realms/{to}/"));
    text = text.replace(
        &format!("/admin/{from}/console/"),
        &format!("/admin/{to}/console/"),
    );
    text = text.replace(
        &format!("\"default-roles-{}\"", from.to_lowercase()),
        &format!("\"default-roles-{to}\""),
    );
    let mut v: Value = serde_json::from_str(&text).expect("renamed document");
    v["realm"] = Value::String(to.to_owned());
    v
}

/// The document with every id replaced by a fresh one, the same one for each occurrence (so
/// references stay intact): the value of every `id` key (UUIDs, and the short ids of
/// user-storage components), wherever a string equals it or, for UUIDs, contains it. Other
/// UUID-shaped values (the `kid` of a generated key) are kept. Used when the server already
/// holds the document's ids (the realm it was exported from, or a run that did not clean up).
pub fn fresh_ids(doc: &Value) -> Value {
    let mut ids = HashMap::new();
    collect_ids(doc, &mut ids);
    let mut v = doc.clone();
    replace_ids(&mut v, &ids);
    v
}

fn collect_ids(v: &Value, out: &mut HashMap<String, String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("id") {
                out.entry(id.clone()).or_insert_with(fresh_uuid);
            }
            m.values().for_each(|x| collect_ids(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_ids(x, out)),
        _ => {}
    }
}

fn replace_ids(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(new) = ids.get(s.as_str()) {
                *s = new.clone();
                return;
            }
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(at) = find_uuid(rest) {
                out.push_str(&rest[..at]);
                let old = &rest[at..at + 36];
                out.push_str(ids.get(old).map(String::as_str).unwrap_or(old));
                rest = &rest[at + 36..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_ids(x, ids)),
        Value::Object(m) => m.values_mut().for_each(|x| replace_ids(x, ids)),
        _ => {}
    }
}

fn fresh_uuid() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let pid = std::process::id();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t as u64) as u32,
        pid & 0xffff,
        (n >> 12) & 0xfff,
        n & 0xfff,
        (t >> 32) as u64 & 0xffff_ffff_ffff
    )
}

#[test]
fn fresh_ids_keep_references_and_other_uuids() {
    let doc = serde_json::json!({
        "id": "0b3c5a5e-1111-4a4a-9f9f-000000000001",
        "components": [{"id": "4mucQet2TleTY4QcSTIMYA", "config": {"kid": ["0b3c5a5e-2222-4a4a-9f9f-000000000002"]}},
                       {"parentId": "4mucQet2TleTY4QcSTIMYA", "containerId": "0b3c5a5e-1111-4a4a-9f9f-000000000001"}]
    });
    let v = fresh_ids(&doc);
    let realm = v["id"].as_str().unwrap();
    assert_ne!(realm, doc["id"]);
    assert_eq!(v["components"][1]["containerId"], realm);
    assert_ne!(v["components"][0]["id"], doc["components"][0]["id"]);
    assert_eq!(v["components"][1]["parentId"], v["components"][0]["id"]);
    assert_eq!(v["components"][0]["config"], doc["components"][0]["config"]);
}
