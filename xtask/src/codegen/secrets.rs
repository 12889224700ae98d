//! Redaction of secrets in the `Debug` output of generated models (`[secrets]` in names.toml).
//!
//! A listed field prints `Some([redacted])`; a listed map prints its keys, with the value of
//! every key that looks secret (it contains one of `key_words`) redacted. A struct with any
//! listed field also redacts secret-looking unknown fields in `extra`. Serialization is unchanged.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};

use super::names::SecretsDef;
use super::types::Ty;

/// How one field is printed by `Debug`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    Whole,
    Keys,
}

/// The checked `[secrets]` table: by schema, by JSON field name.
pub struct Secrets {
    by_schema: BTreeMap<String, BTreeMap<String, Redact>>,
    key_words: Vec<String>,
}

/// What the check needs to know of one model: its fields and their types.
pub type Shapes<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a Ty)>>;

impl Secrets {
    /// Checks every entry against the models: the field exists, and a `keyed` field is a map.
    pub fn check(
        def: &SecretsDef,
        shapes: &Shapes<'_>,
        resolve: &dyn Fn(&Ty) -> Ty,
    ) -> Result<Secrets> {
        let mut by_schema: BTreeMap<String, BTreeMap<String, Redact>> = BTreeMap::new();
        let entries = def
            .fields
            .iter()
            .map(|e| (e, Redact::Whole))
            .chain(def.keyed.iter().map(|e| (e, Redact::Keys)));
        for (entry, how) in entries {
            let Some((schema, field)) = entry.split_once('.') else {
                bail!("names table: [secrets] entry `{entry}` is not `Schema.field`");
            };
            let Some(fields) = shapes.get(schema) else {
                bail!("names table: [secrets] `{entry}`: no struct schema `{schema}`");
            };
            let Some((_, ty)) = fields.iter().find(|(j, _)| *j == field) else {
                bail!("names table: [secrets] `{entry}`: `{schema}` has no field `{field}`");
            };
            if how == Redact::Keys && !matches!(resolve(ty), Ty::Map(_)) {
                bail!("names table: [secrets] keyed `{entry}` is not a map");
            }
            let prev = by_schema
                .entry(schema.to_owned())
                .or_default()
                .insert(field.to_owned(), how);
            if prev.is_some() {
                bail!("names table: [secrets] `{entry}` is listed twice");
            }
        }
        if !by_schema.is_empty() && def.key_words.is_empty() {
            bail!("names table: [secrets] needs `key_words`");
        }
        let mut seen = BTreeSet::new();
        for w in &def.key_words {
            if w.is_empty() || *w != w.to_lowercase() || !seen.insert(w) {
                bail!("names table: [secrets] key word `{w}` must be lower case, non-empty, once");
            }
        }
        Ok(Secrets {
            by_schema,
            key_words: def.key_words.clone(),
        })
    }

    /// How `Debug` prints `schema.field`; `None` for a plain field.
    pub fn of(&self, schema: &str, field: &str) -> Option<Redact> {
        self.by_schema.get(schema)?.get(field).copied()
    }

    /// Whether the struct gets a hand-rolled `Debug`.
    pub fn has_any(&self, schema: &str) -> bool {
        self.by_schema.contains_key(schema)
    }

    /// The listed schemas and their fields.
    pub fn all(&self) -> &BTreeMap<String, BTreeMap<String, Redact>> {
        &self.by_schema
    }

    pub fn key_words(&self) -> &[String] {
        &self.key_words
    }

    /// The helpers the `Debug` impls use (only when something is listed).
    pub fn render_helpers(&self, out: &mut String) {
        if self.by_schema.is_empty() {
            return;
        }
        let words: Vec<String> = self.key_words.iter().map(|w| format!("{w:?}")).collect();
        out.push_str(&format!(
            "/// Lower-case words that make a configuration key or an unknown field name look secret.\n\
             pub const SECRET_KEY_WORDS: &[&str] = &[{}];\n\n",
            words.join(", ")
        ));
        out.push_str(HELPERS);
    }
}

const HELPERS: &str = r#"/// Whether `Debug` redacts the value under this key: it contains one of [`SECRET_KEY_WORDS`],
/// ignoring case (`bindCredential`, `clientSecret`, `keystorePassword`, ...).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEY_WORDS.iter().any(|w| key.contains(w))
}

/// Printed by `Debug` in place of a secret.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A map as `Debug` prints it, with the values of secret-looking keys redacted.
struct RedactKeys<'a>(Vec<(&'a str, &'a dyn std::fmt::Debug)>);

impl std::fmt::Debug for RedactKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(k, v)| (k, v))).finish()
    }
}

fn redact_keys<'a, V: std::fmt::Debug + 'a>(
    map: impl IntoIterator<Item = (&'a String, &'a V)>,
) -> RedactKeys<'a> {
    RedactKeys(
        map.into_iter()
            .map(|(k, v)| {
                let shown: &dyn std::fmt::Debug = if is_secret_key(k) { &Redacted } else { v };
                (k.as_str(), shown)
            })
            .collect(),
    )
}

"#;

/// The `Debug` impl of a struct with listed fields: `(json name, rust name)` in order.
pub fn render_debug(out: &mut String, secrets: &Secrets, schema: &str, fields: &[(&str, &str)]) {
    out.push_str(&format!(
        "impl std::fmt::Debug for {schema} {{\n    \
         fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        \
         f.debug_struct({schema:?})\n"
    ));
    for (json, rust) in fields {
        let value = match secrets.of(schema, json) {
            None => format!("&self.{rust}"),
            Some(Redact::Whole) => format!("&self.{rust}.as_ref().map(|_| Redacted)"),
            Some(Redact::Keys) => format!("&self.{rust}.as_ref().map(|m| redact_keys(m.iter()))"),
        };
        let label = rust.trim_start_matches("r#");
        out.push_str(&format!("            .field({label:?}, {value})\n"));
    }
    out.push_str(
        "            .field(\"extra\", &redact_keys(self.extra.iter()))\n            .finish()\n    }\n}\n\n",
    );
}

/// A JSON sample for a redacted field of this (resolved) type: every string is `secret`, and a
/// map holds one entry per key word (so each word is proven to redact) plus `shownKey`.
pub fn sample(ty: &Ty, how: Redact, secret: &str, words: &[String]) -> String {
    match (ty, how) {
        (Ty::Map(inner), Redact::Keys) => {
            let mut parts: Vec<String> = words
                .iter()
                .map(|w| {
                    format!(
                        "{:?}: {}",
                        format!("x{w}"),
                        sample(inner, how, secret, words)
                    )
                })
                .collect();
            parts.push(format!(
                "\"shownKey\": {}",
                sample(inner, how, "shown-value", words)
            ));
            format!("{{{}}}", parts.join(", "))
        }
        (Ty::Vec(inner), _) => format!("[{}]", sample(inner, how, secret, words)),
        (Ty::Map(inner), Redact::Whole) => {
            format!("{{\"k\": {}}}", sample(inner, how, secret, words))
        }
        _ => format!("{secret:?}"),
    }
}
