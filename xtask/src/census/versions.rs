//! `coverage/served-by-version.json`: for every method + path template (parameters written
//! `{}`), the Keycloak versions whose census found it. Built from the per-version census
//! files, with the census just made taking the place of its version's file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::report::normalise;

fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The census documents in `coverage/`, by version.
fn committed(root: &Path) -> Result<BTreeMap<String, Value>> {
    let dir = root.join("coverage");
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.starts_with("served-surface") && name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if let Some(v) = doc.get("keycloak").and_then(Value::as_str) {
            out.insert(v.to_string(), doc);
        }
    }
    Ok(out)
}

pub fn served_by_version(root: &Path, version: &str, doc: &Value) -> Result<Value> {
    let mut docs = committed(root)?;
    docs.insert(version.to_string(), doc.clone());
    let mut versions: Vec<&String> = docs.keys().collect();
    versions.sort_by_key(|v| version_key(v));
    let mut ops: BTreeMap<String, BTreeSet<(Vec<u64>, String)>> = BTreeMap::new();
    for v in &versions {
        let endpoints = docs[*v].get("endpoints").and_then(Value::as_array);
        for e in endpoints.into_iter().flatten() {
            let (Some(m), Some(p)) = (
                e.get("method").and_then(Value::as_str),
                e.get("path").and_then(Value::as_str),
            ) else {
                continue;
            };
            ops.entry(format!("{m} {}", normalise(p)))
                .or_default()
                .insert((version_key(v), (*v).clone()));
        }
    }
    let all: Vec<&String> = versions.clone();
    let ops: BTreeMap<String, Value> = ops
        .into_iter()
        .map(|(k, vs)| {
            let vs: Vec<String> = vs.into_iter().map(|(_, v)| v).collect();
            (k, json!(vs))
        })
        .collect();
    Ok(json!({
        "generated_by": "cargo xtask census",
        "key": "HTTP method, a space, and the path template with every parameter written {}",
        "versions": all,
        "operations": ops,
    }))
}

/// One operation per line: the file is meant to be embedded and diffed.
pub fn render(doc: &Value) -> String {
    let mut out = String::from("{\n");
    for key in ["generated_by", "key", "versions"] {
        out.push_str(&format!("  {}: {},\n", json!(key), doc[key]));
    }
    out.push_str("  \"operations\": {\n");
    let ops = doc["operations"].as_object().cloned().unwrap_or_default();
    let n = ops.len();
    for (i, (k, v)) in ops.iter().enumerate() {
        let comma = if i + 1 < n { "," } else { "" };
        out.push_str(&format!("    {}: {v}{comma}\n", json!(k)));
    }
    out.push_str("  }\n}\n");
    out
}
