//! Turning the walk into `coverage/served-surface*.json` and the Markdown table: one entry per
//! HTTP method + path, compared with the OpenAPI document and given a decision.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::decisions::Table;
use super::jaxrs::{Served, Unresolved};

const SPEC_METHODS: [&str; 7] = ["get", "post", "put", "delete", "patch", "head", "options"];

/// `{anything}` becomes `{}`, so templates compare whatever their parameters are called.
pub fn normalise(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for ch in path.chars() {
        match ch {
            '{' => {
                if depth == 0 {
                    out.push('{');
                }
                depth += 1;
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(ch),
        }
    }
    out
}

/// The operations of an OpenAPI document: (METHOD, normalised path) -> the document's path.
pub fn spec_operations(file: &Path) -> Result<BTreeMap<(String, String), String>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let mut out = BTreeMap::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, ops) in paths {
            for m in SPEC_METHODS {
                if ops.get(m).is_some() {
                    out.insert((m.to_ascii_uppercase(), normalise(path)), path.clone());
                }
            }
        }
    }
    Ok(out)
}

/// One row of the census.
pub struct Row {
    pub method: String,
    pub path: String,
    pub public: bool,
    pub spec_path: Option<String>,
    /// Every `Class#method` that serves it (several when locators reach it several ways).
    pub sources: BTreeSet<String>,
    pub jar: String,
    /// Features the endpoint needs: those every route to it tests.
    pub features: Option<BTreeSet<String>>,
    /// `None` when no rule covers an endpoint outside the document.
    pub decision: Option<(String, String)>,
}

pub fn rows(
    served: &BTreeSet<Served>,
    spec: &BTreeMap<(String, String), String>,
    table: &Table,
) -> Vec<Row> {
    let mut by_key: BTreeMap<(String, String), Row> = BTreeMap::new();
    for s in served {
        let row = by_key
            .entry((normalise(&s.path), s.method.clone()))
            .or_insert_with(|| {
                let spec_path = spec.get(&(s.method.clone(), normalise(&s.path))).cloned();
                let decision = if spec_path.is_some() {
                    Some((
                        "typed".to_string(),
                        "in the OpenAPI document: generated".to_string(),
                    ))
                } else {
                    table
                        .decide(&s.method, &s.path)
                        .map(|(d, r)| (d.as_str().to_string(), r.to_string()))
                };
                Row {
                    method: s.method.clone(),
                    path: s.path.clone(),
                    public: !(s.path == "/admin" || s.path.starts_with("/admin/")),
                    spec_path,
                    sources: BTreeSet::new(),
                    jar: s.jar.clone(),
                    features: None,
                    decision,
                }
            });
        row.sources.insert(s.source.clone());
        row.features = Some(match row.features.take() {
            None => s.features.clone(),
            Some(f) => f.intersection(&s.features).cloned().collect(),
        });
    }
    by_key.into_values().collect()
}

fn split_source(source: &str) -> (&str, &str) {
    source.split_once('#').unwrap_or((source, ""))
}

fn row_json(r: &Row, detailed: bool) -> Value {
    let mut sources = r.sources.iter();
    let first = sources.next().map_or("", String::as_str);
    let (class, method) = split_source(first);
    let mut v = json!({
        "method": r.method,
        "path": r.path,
        "public": r.public,
        "in_spec": r.spec_path.is_some(),
    });
    let obj = v.as_object_mut().expect("an object");
    if let Some(p) = r.spec_path.as_ref().filter(|p| **p != r.path) {
        obj.insert("spec_path".into(), json!(p));
    }
    obj.insert("class".into(), json!(class));
    obj.insert("java_method".into(), json!(method));
    if detailed {
        let also: Vec<&String> = sources.collect();
        if !also.is_empty() {
            obj.insert("also".into(), json!(also));
        }
        obj.insert("jar".into(), json!(r.jar));
    }
    if let Some(f) = r.features.as_ref().filter(|f| !f.is_empty()) {
        obj.insert("features".into(), json!(f));
    }
    let (decision, reason) = r
        .decision
        .clone()
        .unwrap_or_else(|| ("unreviewed".into(), "no rule in xtask/census.toml".into()));
    obj.insert("decision".into(), json!(decision));
    if detailed {
        obj.insert("reason".into(), json!(reason));
    }
    v
}

pub fn counts(rows: &[Row]) -> BTreeMap<String, usize> {
    let mut c = BTreeMap::new();
    let admin: Vec<&Row> = rows.iter().filter(|r| !r.public).collect();
    c.insert("served".to_string(), rows.len());
    c.insert("admin".to_string(), admin.len());
    c.insert("public".to_string(), rows.len() - admin.len());
    c.insert(
        "admin_in_spec".to_string(),
        admin.iter().filter(|r| r.spec_path.is_some()).count(),
    );
    c.insert(
        "admin_not_in_spec".to_string(),
        admin.iter().filter(|r| r.spec_path.is_none()).count(),
    );
    let decided = |d: &str, public: bool| {
        rows.iter()
            .filter(|r| r.public == public && r.decision.as_ref().is_some_and(|(x, _)| x == d))
            .filter(|r| public || r.spec_path.is_none())
            .count()
    };
    for (name, d) in [
        ("typed", "typed"),
        ("raw_only", "raw-only"),
        ("internal", "internal"),
    ] {
        c.insert(format!("admin_not_in_spec_{name}"), decided(d, false));
        c.insert(format!("public_{name}"), decided(d, true));
    }
    c.insert(
        "typed_total".to_string(),
        rows.iter()
            .filter(|r| r.decision.as_ref().is_some_and(|(x, _)| x == "typed"))
            .count(),
    );
    c.insert(
        "feature_gated".to_string(),
        rows.iter()
            .filter(|r| r.features.as_ref().is_some_and(|f| !f.is_empty()))
            .count(),
    );
    c.insert(
        "unreviewed".to_string(),
        rows.iter().filter(|r| r.decision.is_none()).count(),
    );
    c
}

pub struct Meta<'a> {
    pub version: &'a str,
    pub sha256: &'a str,
    pub spec: &'a str,
    pub jars: usize,
    pub classes: usize,
}

pub fn document(
    meta: &Meta,
    rows: &[Row],
    unresolved: &BTreeSet<Unresolved>,
    detailed: bool,
) -> Value {
    let unresolved: Vec<Value> = unresolved
        .iter()
        .map(|u| json!({"path": u.path, "locator": u.source, "returns": u.returns, "reason": u.reason}))
        .collect();
    json!({
        "keycloak": meta.version,
        "distribution_sha256": meta.sha256,
        "compared_with": meta.spec,
        "generated_by": "cargo xtask census",
        "jars_read": meta.jars,
        "classes_read": meta.classes,
        "counts": counts(rows),
        "unresolved_locators": unresolved,
        "endpoints": rows.iter().map(|r| row_json(r, detailed)).collect::<Vec<_>>(),
    })
}

/// The Markdown table of the served admin endpoints outside the document, and the counts.
pub fn markdown(meta: &Meta, rows: &[Row]) -> String {
    let c = counts(rows);
    let mut out = format!(
        "# Served surface of Keycloak {}\n\nGenerated by `cargo xtask census` from the JAX-RS \
         annotations in the distribution's jars ({} jars, {} classes); compared with `{}`. \
         Full data: `served-surface.json`.\n\n",
        meta.version, meta.jars, meta.classes, meta.spec
    );
    out.push_str("| | count |\n|---|---:|\n");
    for (k, v) in &c {
        out.push_str(&format!("| {k} | {v} |\n"));
    }
    out.push_str(
        "\n## Admin endpoints outside the OpenAPI document\n\n\
         | method | path | decision | reason | features | Java |\n|---|---|---|---|---|---|\n",
    );
    for r in rows.iter().filter(|r| !r.public && r.spec_path.is_none()) {
        let (d, reason) = r
            .decision
            .clone()
            .unwrap_or_else(|| ("unreviewed".into(), String::new()));
        let java = r
            .sources
            .iter()
            .next()
            .map_or("", |s| s.rsplit('.').next().unwrap_or(s));
        let features = r
            .features
            .as_ref()
            .map(|f| f.iter().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | `{}` | {d} | {} | {features} | `{java}` |\n",
            r.method,
            r.path,
            reason.replace('|', "\\|")
        ));
    }
    out.push_str("\n## Public endpoints by decision\n\n| decision | count |\n|---|---:|\n");
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.public) {
        let d = r
            .decision
            .as_ref()
            .map_or("unreviewed", |(d, _)| d.as_str());
        *by.entry(d.to_string()).or_default() += 1;
    }
    for (d, n) in by {
        out.push_str(&format!("| {d} | {n} |\n"));
    }
    out
}
