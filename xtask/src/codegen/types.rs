//! Rust types for spec schemas, and the small type syntax of `names.toml` fix-ups.

use anyhow::{Result, bail};
use serde_json::Value;

/// A Rust type used in generated code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    String,
    Bool,
    I32,
    I64,
    F64,
    /// `serde_json::Value`: anything the spec leaves untyped.
    Value,
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`.
    Map(Box<Ty>),
    /// `Option<T>`: only as an answer that may be empty.
    Option(Box<Ty>),
    /// A component schema.
    Named(String),
}

impl Ty {
    /// The type as Rust source; `models` is the path prefix for named types (`""` or `"models::"`).
    pub fn rust(&self, models: &str) -> String {
        match self {
            Ty::String => "String".into(),
            Ty::Bool => "bool".into(),
            Ty::I32 => "i32".into(),
            Ty::I64 => "i64".into(),
            Ty::F64 => "f64".into(),
            Ty::Value => "serde_json::Value".into(),
            Ty::Vec(t) => format!("Vec<{}>", t.rust(models)),
            Ty::Map(t) => format!("std::collections::BTreeMap<String, {}>", t.rust(models)),
            Ty::Option(t) => format!("Option<{}>", t.rust(models)),
            Ty::Named(n) => format!("{models}{n}"),
        }
    }

    /// The type as written in docs (no paths).
    pub fn doc(&self) -> String {
        match self {
            Ty::Value => "Value".into(),
            Ty::Vec(t) => format!("Vec<{}>", t.doc()),
            Ty::Map(t) => format!("BTreeMap<String, {}>", t.doc()),
            Ty::Option(t) => format!("Option<{}>", t.doc()),
            other => other.rust(""),
        }
    }

    /// Whether any named type occurs in this type.
    pub fn uses_models(&self) -> bool {
        match self {
            Ty::Named(_) => true,
            Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) => t.uses_models(),
            _ => false,
        }
    }
}

fn ref_name(r: &str) -> Result<String> {
    match r.strip_prefix("#/components/schemas/") {
        Some(n) if !n.is_empty() => Ok(n.to_owned()),
        _ => bail!("unsupported $ref `{r}`"),
    }
}

/// The Rust type of a schema. Anything the spec leaves open becomes `serde_json::Value`.
pub fn from_schema(schema: &Value) -> Result<Ty> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return Ok(Ty::Named(ref_name(r)?));
    }
    // An explicit map wins over `allOf` (26.8.1 types free-form config objects as
    // `allOf: [RawJsonValue]` plus `additionalProperties: true`).
    match schema.get("additionalProperties") {
        Some(Value::Bool(true)) => return Ok(Ty::Map(Box::new(Ty::Value))),
        Some(ap @ Value::Object(_)) => return Ok(Ty::Map(Box::new(from_schema(ap)?))),
        _ => {}
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        if all.len() == 1 {
            return from_schema(&all[0]);
        }
        return Ok(Ty::Value);
    }
    Ok(match schema.get("type").and_then(Value::as_str) {
        Some("string") => Ty::String,
        Some("boolean") => Ty::Bool,
        Some("integer") => match schema.get("format").and_then(Value::as_str) {
            Some("int32") => Ty::I32,
            _ => Ty::I64,
        },
        Some("number") => Ty::F64,
        Some("array") => match schema.get("items") {
            Some(items) => Ty::Vec(Box::new(from_schema(items)?)),
            None => Ty::Vec(Box::new(Ty::Value)),
        },
        _ => Ty::Value,
    })
}

/// Whether a schema is a binary string or says nothing at all (a body the generator cannot type).
pub fn is_untyped(schema: &Value) -> bool {
    let binary = schema.get("type").and_then(Value::as_str) == Some("string")
        && schema.get("format").and_then(Value::as_str) == Some("binary");
    binary || schema.as_object().is_none_or(|o| o.is_empty())
}

/// Parses the type syntax of `names.toml`: a schema name, `Vec<T>`, `Option<T>`,
/// `BTreeMap<String, T>`, `String`, `bool`, `i32`, `i64`, `f64` or `Value`.
pub fn parse(text: &str, is_schema: &dyn Fn(&str) -> bool) -> Result<Ty> {
    let t = text.trim();
    let inner = |prefix: &str| {
        t.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('>'))
            .map(str::trim)
    };
    if let Some(i) = inner("Vec<") {
        return Ok(Ty::Vec(Box::new(parse(i, is_schema)?)));
    }
    if let Some(i) = inner("Option<") {
        return Ok(Ty::Option(Box::new(parse(i, is_schema)?)));
    }
    if let Some(i) = inner("BTreeMap<") {
        let Some(v) = i
            .strip_prefix("String")
            .and_then(|r| r.trim_start().strip_prefix(','))
        else {
            bail!("map keys must be `String` in `{text}`");
        };
        return Ok(Ty::Map(Box::new(parse(v, is_schema)?)));
    }
    Ok(match t {
        "String" => Ty::String,
        "bool" => Ty::Bool,
        "i32" => Ty::I32,
        "i64" => Ty::I64,
        "f64" => Ty::F64,
        "Value" => Ty::Value,
        name if is_schema(name) => Ty::Named(name.to_owned()),
        _ => bail!("unknown type `{t}` (not a schema of this document)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_types() {
        let t = |v: Value| from_schema(&v).unwrap();
        assert_eq!(
            t(json!({"$ref": "#/components/schemas/A"})),
            Ty::Named("A".into())
        );
        assert_eq!(t(json!({"type": "integer", "format": "int32"})), Ty::I32);
        assert_eq!(t(json!({"type": "integer", "format": "int64"})), Ty::I64);
        assert_eq!(
            t(
                json!({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}})
            ),
            Ty::Map(Box::new(Ty::Vec(Box::new(Ty::String))))
        );
        assert_eq!(
            t(json!({"type": "object", "additionalProperties": {}})),
            Ty::Map(Box::new(Ty::Value))
        );
        assert_eq!(t(json!({"type": "object"})), Ty::Value);
        assert_eq!(t(json!({})), Ty::Value);
        assert_eq!(
            t(json!({"type": "object", "allOf": [{"$ref": "#/components/schemas/B"}]})),
            Ty::Named("B".into())
        );
        assert_eq!(
            t(json!({"allOf": [{"$ref": "#/components/schemas/B"}], "additionalProperties": true})),
            Ty::Map(Box::new(Ty::Value))
        );
    }

    #[test]
    fn table_type_syntax() {
        let schemas = |n: &str| n == "GroupRepresentation";
        assert_eq!(
            parse("Vec<GroupRepresentation>", &schemas).unwrap(),
            Ty::Vec(Box::new(Ty::Named("GroupRepresentation".into())))
        );
        assert_eq!(
            parse("BTreeMap<String, Vec<String>>", &schemas).unwrap(),
            Ty::Map(Box::new(Ty::Vec(Box::new(Ty::String))))
        );
        assert!(parse("Vec<Nope>", &schemas).is_err());
        assert!(parse("BTreeMap<i32, String>", &schemas).is_err());
    }
}
