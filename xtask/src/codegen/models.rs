//! `generated/models.rs`: one Rust type per component schema.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use serde_json::Value;

use super::names::SecretsDef;
use super::naming::{field_ident, pascal, serde_camel, snake};
use super::secrets::{self, Secrets, Shapes};
use super::spec::Spec;
use super::types::{self, Ty};

enum Kind {
    Struct(Vec<Field>),
    Enum(Vec<(String, String)>),
    Alias(Ty),
}

struct Field {
    json: String,
    rust: String,
    ty: Ty,
    deprecated: bool,
    boxed: bool,
}

struct Model {
    name: String,
    deprecated: bool,
    kind: Kind,
}

/// Counts for the report.
#[derive(Default)]
pub struct Counts {
    pub structs: usize,
    pub enums: usize,
    pub aliases: usize,
}

fn classify(name: &str, schema: &Value) -> Result<Kind> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            bail!("schema `{name}`: only string enums are supported");
        }
        let mut variants = Vec::new();
        let mut seen = BTreeSet::new();
        for v in values {
            let Some(v) = v.as_str() else {
                bail!("schema `{name}`: non-string enum value")
            };
            let variant = pascal(&snake(v));
            if variant.is_empty() || variant == "Unknown" || !seen.insert(variant.clone()) {
                bail!("schema `{name}`: enum value `{v}` gives no distinct variant name");
            }
            variants.push((variant, v.to_owned()));
        }
        return Ok(Kind::Enum(variants));
    }
    match schema.get("properties").and_then(Value::as_object) {
        Some(props) if !props.is_empty() => {
            let mut fields = Vec::new();
            let mut seen = BTreeSet::new();
            for (json, p) in props {
                let rust = field_ident(&snake(json));
                if rust.is_empty() || rust == "extra" || !seen.insert(rust.clone()) {
                    bail!("schema `{name}`: property `{json}` gives no distinct field name");
                }
                fields.push(Field {
                    json: json.clone(),
                    rust,
                    ty: types::from_schema(p)?,
                    deprecated: p
                        .get("deprecated")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    boxed: false,
                });
            }
            Ok(Kind::Struct(fields))
        }
        _ => Ok(Kind::Alias(types::from_schema(schema)?)),
    }
}

/// Marks fields that hold a struct directly (not through `Vec` or a map) and would make the
/// type infinitely large: those are boxed.
fn box_cycles(models: &mut [Model]) {
    let structs: BTreeSet<String> = models
        .iter()
        .filter(|m| matches!(m.kind, Kind::Struct(_)))
        .map(|m| m.name.clone())
        .collect();
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in models.iter() {
        if let Kind::Struct(fields) = &m.kind {
            for f in fields {
                if let Ty::Named(t) = &f.ty
                    && structs.contains(t)
                {
                    edges.entry(m.name.clone()).or_default().push(t.clone());
                }
            }
        }
    }
    let reaches = |from: &str, to: &str| {
        let mut stack = vec![from.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).cloned().unwrap_or_default());
            }
        }
        false
    };
    for m in models.iter_mut() {
        let name = m.name.clone();
        if let Kind::Struct(fields) = &mut m.kind {
            for f in fields {
                if let Ty::Named(t) = &f.ty
                    && structs.contains(t)
                    && reaches(t, &name)
                {
                    f.boxed = true;
                }
            }
        }
    }
}

/// A named alias resolved to the type it stands for (one level is all the spec uses).
fn resolve(models: &[Model], ty: &Ty) -> Ty {
    if let Ty::Named(n) = ty
        && let Some(Model {
            kind: Kind::Alias(t),
            ..
        }) = models.iter().find(|m| &m.name == n)
    {
        return t.clone();
    }
    ty.clone()
}

fn check_secrets(models: &[Model], def: &SecretsDef) -> Result<Secrets> {
    let mut shapes: Shapes<'_> = BTreeMap::new();
    for m in models {
        if let Kind::Struct(fields) = &m.kind {
            shapes.insert(
                &m.name,
                fields.iter().map(|f| (f.json.as_str(), &f.ty)).collect(),
            );
        }
    }
    Secrets::check(def, &shapes, &|t| resolve(models, t))
}

pub fn render(spec: &Spec, header: &str, secrets_def: &SecretsDef) -> Result<(String, Counts)> {
    let mut models = Vec::new();
    for (name, schema) in &spec.schemas {
        if !super::naming::is_pascal(name) {
            bail!("schema name `{name}` is not a Rust type name");
        }
        models.push(Model {
            name: name.clone(),
            deprecated: schema
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            kind: classify(name, schema)?,
        });
    }
    // Every referenced schema must exist.
    for m in &models {
        let mut tys = Vec::new();
        match &m.kind {
            Kind::Struct(fields) => tys.extend(fields.iter().map(|f| &f.ty)),
            Kind::Alias(t) => tys.push(t),
            Kind::Enum(_) => {}
        }
        for t in tys {
            check_refs(t, spec, &m.name)?;
        }
    }
    box_cycles(&mut models);
    let secrets = check_secrets(&models, secrets_def)?;

    let mut counts = Counts::default();
    let mut out = String::new();
    out.push_str(header);
    out.push_str(
        "//! The types of the Keycloak Admin API: one per schema of the OpenAPI document.\n\
         //!\n\
         //! Every struct field is optional and every struct keeps the fields it does not know in\n\
         //! `extra`, so reading an object, changing a field and sending it back loses nothing.\n\
         //! Build values with `..Default::default()`; send an explicit JSON `null` with\n\
         //! [`Model::set_null`].\n\n",
    );
    out.push_str("use serde::{Deserialize, Serialize};\n\n");
    out.push_str(MODEL_TRAIT);
    secrets.render_helpers(&mut out);

    for m in &models {
        match &m.kind {
            Kind::Struct(fields) => {
                counts.structs += 1;
                render_struct(&mut out, m, fields, &secrets);
            }
            Kind::Enum(variants) => {
                counts.enums += 1;
                render_enum(&mut out, m, variants, &spec.version);
            }
            Kind::Alias(ty) => {
                counts.aliases += 1;
                out.push_str(&format!("/// `{}` of the Keycloak Admin API.\n", m.name));
                out.push_str(&format!("pub type {} = {};\n\n", m.name, ty.rust("")));
            }
        }
    }
    render_tests(&mut out, &models, &secrets);
    Ok((out, counts))
}

fn check_refs(t: &Ty, spec: &Spec, owner: &str) -> Result<()> {
    match t {
        Ty::Named(n) if spec.schema(n).is_none() => {
            bail!("schema `{owner}` refers to unknown schema `{n}`")
        }
        Ty::Vec(i) | Ty::Map(i) | Ty::Option(i) => check_refs(i, spec, owner),
        _ => Ok(()),
    }
}

const MODEL_TRAIT: &str = r#"/// What every generated struct offers beyond its fields.
pub trait Model {
    /// The fields this version does not know, by JSON name; sent back unchanged.
    fn extra(&self) -> &serde_json::Map<String, serde_json::Value>;

    /// Mutable access to [`Model::extra`].
    fn extra_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value>;

    /// Sets the known field with this JSON name to `None`; `false` when there is none.
    fn clear_field(&mut self, json_name: &str) -> bool;

    /// Sends an explicit JSON `null` for `json_name` (a known field or not): the known field,
    /// if any, becomes `None` and the `null` is kept in `extra`, which is serialized after it.
    fn set_null(&mut self, json_name: &str) {
        self.clear_field(json_name);
        self.extra_mut().insert(json_name.to_owned(), serde_json::Value::Null);
    }
}

"#;

fn render_struct(out: &mut String, m: &Model, fields: &[Field], secrets: &Secrets) {
    let redacts = secrets.has_any(&m.name);
    out.push_str(&format!("/// `{}` of the Keycloak Admin API.\n", m.name));
    if m.deprecated {
        out.push_str("///\n/// Deprecated by Keycloak.\n");
    }
    if redacts {
        out.push_str("///\n/// `Debug` redacts the fields that can hold a secret.\n");
        out.push_str("#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]\n");
    } else {
        out.push_str("#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]\n");
    }
    out.push_str("#[serde(rename_all = \"camelCase\")]\n");
    out.push_str(&format!("pub struct {} {{\n", m.name));
    for f in fields {
        out.push_str(&format!("    /// JSON `{}`.", f.json));
        if f.deprecated {
            out.push_str(" Deprecated by Keycloak.");
        }
        out.push('\n');
        let rename = if serde_camel(&f.rust) == f.json {
            String::new()
        } else {
            format!(
                "rename = \"{}\", ",
                f.json.replace('\\', "\\\\").replace('"', "\\\"")
            )
        };
        out.push_str(&format!(
            "    #[serde({rename}default, skip_serializing_if = \"Option::is_none\")]\n"
        ));
        let ty = if f.boxed {
            format!("Box<{}>", f.ty.rust(""))
        } else {
            f.ty.rust("")
        };
        out.push_str(&format!("    pub {}: Option<{ty}>,\n", f.rust));
    }
    out.push_str("    /// Fields this version does not know; sent back unchanged.\n");
    out.push_str("    #[serde(flatten)]\n");
    out.push_str("    pub extra: serde_json::Map<String, serde_json::Value>,\n");
    out.push_str("}\n\n");

    out.push_str(&format!("impl Model for {} {{\n", m.name));
    out.push_str("    fn extra(&self) -> &serde_json::Map<String, serde_json::Value> {\n        &self.extra\n    }\n\n");
    out.push_str(
        "    fn extra_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {\n        &mut self.extra\n    }\n\n",
    );
    out.push_str(
        "    fn clear_field(&mut self, json_name: &str) -> bool {\n        match json_name {\n",
    );
    for f in fields {
        out.push_str(&format!(
            "            {:?} => self.{} = None,\n",
            f.json, f.rust
        ));
    }
    out.push_str("            _ => return false,\n        }\n        true\n    }\n}\n\n");
    if redacts {
        let names: Vec<(&str, &str)> = fields
            .iter()
            .map(|f| (f.json.as_str(), f.rust.as_str()))
            .collect();
        secrets::render_debug(out, secrets, &m.name, &names);
    }
}

fn render_enum(out: &mut String, m: &Model, variants: &[(String, String)], version: &str) {
    let n = &m.name;
    out.push_str(&format!(
        "/// `{n}` of the Keycloak Admin API: the values Keycloak {version} knows, and\n\
         /// [`{n}::Unknown`] for any other, which is sent back as it came.\n"
    ));
    if m.deprecated {
        out.push_str("///\n/// Deprecated by Keycloak.\n");
    }
    out.push_str("#[derive(Clone, Debug, PartialEq, Eq, Hash)]\n#[non_exhaustive]\n");
    out.push_str(&format!("pub enum {n} {{\n"));
    for (v, json) in variants {
        out.push_str(&format!("    /// `{json}`\n    {v},\n"));
    }
    out.push_str("    /// A value this version does not know.\n    Unknown(String),\n}\n\n");

    out.push_str(&format!("impl {n} {{\n"));
    out.push_str("    /// The value as Keycloak spells it.\n    pub fn as_str(&self) -> &str {\n        match self {\n");
    for (v, json) in variants {
        out.push_str(&format!("            Self::{v} => {json:?},\n"));
    }
    out.push_str("            Self::Unknown(s) => s,\n        }\n    }\n}\n\n");

    out.push_str(&format!(
        "impl From<&str> for {n} {{\n    fn from(s: &str) -> Self {{\n        match s {{\n"
    ));
    for (v, json) in variants {
        out.push_str(&format!("            {json:?} => Self::{v},\n"));
    }
    out.push_str("            other => Self::Unknown(other.to_owned()),\n        }\n    }\n}\n\n");

    out.push_str(&format!(
        "impl std::str::FromStr for {n} {{\n    type Err = std::convert::Infallible;\n\n    \
         fn from_str(s: &str) -> Result<Self, Self::Err> {{\n        Ok(Self::from(s))\n    }}\n}}\n\n"
    ));
    out.push_str(&format!(
        "impl std::fmt::Display for {n} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        \
         f.write_str(self.as_str())\n    }}\n}}\n\n"
    ));
    out.push_str(&format!(
        "impl Serialize for {n} {{\n    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\n        \
         serializer.serialize_str(self.as_str())\n    }}\n}}\n\n"
    ));
    out.push_str(&format!(
        "impl<'de> Deserialize<'de> for {n} {{\n    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        \
         let s = String::deserialize(deserializer)?;\n        Ok(Self::from(s.as_str()))\n    }}\n}}\n\n"
    ));
}

fn render_tests(out: &mut String, models: &[Model], secrets: &Secrets) {
    out.push_str(
        r#"#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown field survives a round trip, and an empty model serializes to `{}`.
    fn round_trip<T>()
    where
        T: Model + Default + Serialize + serde::de::DeserializeOwned,
    {
        let input = serde_json::json!({ "cloakroomUnknownField": { "nested": [1, "two", null] } });
        let value: T = serde_json::from_value(input.clone()).expect("deserializes");
        assert_eq!(value.extra().len(), 1);
        assert_eq!(serde_json::to_value(&value).expect("serializes"), input);
        assert_eq!(serde_json::to_value(T::default()).expect("serializes"), serde_json::json!({}));
    }

    /// Known values map to variants; unknown ones are kept and sent back as they came.
    fn enum_round_trip<T>(known: &str)
    where
        T: Serialize + serde::de::DeserializeOwned + std::fmt::Display + std::str::FromStr,
    {
        for s in [known, "CLOAKROOM_UNKNOWN_VALUE"] {
            let value: T = serde_json::from_value(serde_json::json!(s)).expect("deserializes");
            assert_eq!(value.to_string(), s);
            assert_eq!(serde_json::to_value(&value).expect("serializes"), serde_json::json!(s));
        }
    }

    #[test]
    fn every_struct_keeps_unknown_fields() {
"#,
    );
    for m in models {
        if matches!(m.kind, Kind::Struct(_)) {
            out.push_str(&format!("        round_trip::<{}>();\n", m.name));
        }
    }
    out.push_str("    }\n\n    #[test]\n    fn every_enum_keeps_unknown_values() {\n");
    for m in models {
        if let Kind::Enum(variants) = &m.kind
            && let Some((_, json)) = variants.first()
        {
            out.push_str(&format!(
                "        enum_round_trip::<{}>({json:?});\n",
                m.name
            ));
        }
    }
    out.push_str("    }\n");
    render_secret_test(out, models, secrets);
    out.push_str("}\n");
}

/// A test that sets every redacted field and finds the secret nowhere in `{:?}` / `{:#?}`.
fn render_secret_test(out: &mut String, models: &[Model], secrets: &Secrets) {
    if secrets.all().is_empty() {
        return;
    }
    const SECRET: &str = "S3CR3T-9f2c-value";
    out.push_str(&format!(
        "\n    /// Every field listed under `[secrets]` in names.toml is set to a secret, which\n    \
         /// `Debug` must not show; a non-secret map key stays visible.\n    \
         fn no_secret_in_debug<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) {{\n        \
         let value: T = serde_json::from_str(json).expect(\"deserializes\");\n        \
         for shown in [format!(\"{{value:?}}\"), format!(\"{{value:#?}}\")] {{\n            \
         assert!(!shown.contains({SECRET:?}), \"{{shown}}\");\n            \
         assert!(shown.contains(\"[redacted]\"), \"{{shown}}\");\n        }}\n    }}\n\n    \
         #[test]\n    fn no_model_shows_a_secret_in_debug() {{\n"
    ));
    for (schema, fields) in secrets.all() {
        let Some(Model {
            kind: Kind::Struct(all),
            ..
        }) = models.iter().find(|m| &m.name == schema)
        else {
            continue;
        };
        let mut parts = Vec::new();
        for (json, how) in fields {
            if let Some(f) = all.iter().find(|f| &f.json == json) {
                let ty = resolve(models, &f.ty);
                parts.push(format!(
                    "{json:?}: {}",
                    secrets::sample(&ty, *how, SECRET, secrets.key_words())
                ));
            }
        }
        parts.push(format!("\"xClientSecret\": {SECRET:?}"));
        let json = format!("{{{}}}", parts.join(", "));
        out.push_str(&format!(
            "        no_secret_in_debug::<{schema}>(r#\"{json}\"#);\n"
        ));
    }
    out.push_str("    }\n");
}
