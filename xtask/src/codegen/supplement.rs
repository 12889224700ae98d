//! `spec/cloakroom-supplement.json`: endpoints the server serves but its OpenAPI document leaves
//! out, written and reviewed by this project, merged into the document before generation.
//!
//! The supplement is an OpenAPI fragment (`paths` and `components.schemas` only). Parameters sit
//! on the operations, never on the path item, so an operation can join a path the document
//! already has. What the document itself already has wins: the supplement's copy is skipped
//! and named in a note, so a newer Keycloak that documents an endpoint shows up at once.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The supplement the project keeps, relative to the repository root.
pub const DEFAULT_SUPPLEMENT: &str = "spec/cloakroom-supplement.json";

/// Merges `supplement` into the document `doc`; returns the notes about skipped entries.
pub fn merge(doc: &mut Value, supplement: &Value) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let paths = supplement
        .get("paths")
        .and_then(Value::as_object)
        .context("the supplement has no `paths`")?;
    let doc_paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .context("the document has no `paths`")?;
    for (path, item) in paths {
        let item = item
            .as_object()
            .with_context(|| format!("supplement path `{path}` is not an object"))?;
        if item.contains_key("parameters") {
            bail!("supplement path `{path}`: put `parameters` on each operation");
        }
        let target = doc_paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .with_context(|| format!("document path `{path}` is not an object"))?;
        for (method, op) in item {
            if target.contains_key(method) {
                notes.push(format!(
                    "the document already has `{} {path}`; the supplement's copy is not used",
                    method.to_uppercase()
                ));
                continue;
            }
            target.insert(method.clone(), op.clone());
        }
    }
    let schemas = supplement
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .context("the supplement has no `components.schemas`")?;
    let doc_schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .context("the document has no `components.schemas`")?;
    for (name, schema) in schemas {
        if doc_schemas.contains_key(name) {
            notes.push(format!(
                "the document already has schema `{name}`; the supplement's copy is not used"
            ));
            continue;
        }
        doc_schemas.insert(name.clone(), schema.clone());
    }
    Ok(notes)
}

/// The document text with the supplement text merged in, and the notes.
pub fn merge_text(spec_text: &str, supplement_text: &str) -> Result<(String, Vec<String>)> {
    let mut doc: Value = serde_json::from_str(spec_text).context("the spec is not JSON")?;
    let supplement: Value =
        serde_json::from_str(supplement_text).context("the supplement is not JSON")?;
    let notes = merge(&mut doc, &supplement)?;
    Ok((doc.to_string(), notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_document_wins_and_is_named() {
        let mut doc =
            json!({"paths": {"/a": {"get": {"x": 1}}}, "components": {"schemas": {"A": {}}}});
        let supp = json!({"paths": {"/a": {"get": {"x": 2}, "post": {"x": 3}}, "/b": {"get": {}}},
                          "components": {"schemas": {"A": {"y": 1}, "B": {}}}});
        let notes = merge(&mut doc, &supp).unwrap();
        assert_eq!(doc["paths"]["/a"]["get"]["x"], 1);
        assert_eq!(doc["paths"]["/a"]["post"]["x"], 3);
        assert!(doc["paths"]["/b"]["get"].is_object());
        assert_eq!(doc["components"]["schemas"]["A"], json!({}));
        assert!(doc["components"]["schemas"]["B"].is_object());
        assert_eq!(notes.len(), 2, "{notes:?}");
    }

    #[test]
    fn path_level_parameters_are_refused() {
        let mut doc = json!({"paths": {}, "components": {"schemas": {}}});
        let supp = json!({"paths": {"/a": {"parameters": []}}, "components": {"schemas": {}}});
        assert!(merge(&mut doc, &supp).is_err());
    }
}
