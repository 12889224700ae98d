//! `names.toml`: the reviewed table of handle and method names (see the file's header).

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// Rust names of path parameters, by spec name.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub handles: BTreeMap<String, HandleDef>,
    pub ops: BTreeMap<String, OpDef>,
    /// Model fields that `Debug` must not show.
    #[serde(default)]
    pub secrets: SecretsDef,
}

/// `[secrets]`: what generated `Debug` impls redact (serialization is unchanged).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsDef {
    /// `Schema.jsonField` whose whole value is redacted.
    #[serde(default)]
    pub fields: Vec<String>,
    /// `Schema.jsonField` of map type whose values are redacted when their key looks secret.
    #[serde(default)]
    pub keyed: Vec<String>,
    /// Lower-case words that make a map key (or an unknown field's name) look secret.
    #[serde(default)]
    pub key_words: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandleDef {
    pub prefix: String,
    pub module: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub doc: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpDef {
    pub handle: String,
    pub method: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub since: Option<String>,
    pub body: Option<String>,
    pub response: Option<String>,
    pub multipart: Option<MultipartDef>,
    pub form_required: Option<Vec<String>>,
    pub reason: Option<String>,
}

impl OpDef {
    pub fn has_fixup(&self) -> bool {
        self.body.is_some()
            || self.response.is_some()
            || self.multipart.is_some()
            || self.form_required.is_some()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultipartDef {
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub optional: Vec<String>,
    #[serde(default)]
    pub files: Vec<String>,
}

impl Names {
    pub fn parse(text: &str) -> Result<Names> {
        let names: Names = toml::from_str(text).context("names table is not valid")?;
        for (key, op) in &names.ops {
            if op.has_fixup() && op.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                bail!("names table: `{key}` has a fix-up without a `reason`");
            }
            if !op.has_fixup() && op.reason.is_some() {
                bail!("names table: `{key}` has a `reason` but no fix-up");
            }
            if let Some(v) = &op.since {
                parse_version(v).with_context(|| format!("names table: `{key}`: bad `since`"))?;
            }
        }
        Ok(names)
    }
}

/// `26.8.1` → `[26, 8, 1]`.
pub fn parse_version(v: &str) -> Result<Vec<u64>> {
    let parts: Result<Vec<u64>, _> = v.split('.').map(str::parse).collect();
    match parts {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => bail!("`{v}` is not a version like 26.8.1"),
    }
}

/// Whether an entry with `since` applies to the document of `version`.
pub fn applies(since: Option<&str>, version: &str) -> Result<bool> {
    match since {
        None => Ok(true),
        Some(s) => Ok(parse_version(version)? >= parse_version(s)?),
    }
}
