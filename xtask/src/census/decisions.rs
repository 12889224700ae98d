//! The reviewed decision table (`xtask/census.toml`): for every served endpoint outside the
//! OpenAPI document, whether cloakroom gives it a typed call, leaves it to the raw API, or
//! treats it as internal to Keycloak's own UIs and flows.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Typed,
    RawOnly,
    Internal,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Typed => "typed",
            Decision::RawOnly => "raw-only",
            Decision::Internal => "internal",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Path patterns: `{x}` matches any one template segment, a final `**` any rest (or none).
    pub paths: Vec<String>,
    /// HTTP methods; all when absent.
    #[serde(default)]
    pub methods: Vec<String>,
    pub decision: Decision,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

pub fn load(file: &Path) -> Result<Table> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let table: Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    for (i, r) in table.rules.iter().enumerate() {
        if r.paths.is_empty() || r.reason.trim().is_empty() {
            bail!(
                "{}: rule {} needs paths and a reason",
                file.display(),
                i + 1
            );
        }
    }
    Ok(table)
}

impl Table {
    /// The first rule that matches, as (decision, reason).
    pub fn decide(&self, method: &str, path: &str) -> Option<(Decision, &str)> {
        self.rules
            .iter()
            .find(|r| {
                (r.methods.is_empty() || r.methods.iter().any(|m| m == method))
                    && r.paths.iter().any(|p| matches(p, path))
            })
            .map(|r| (r.decision, r.reason.as_str()))
    }
}

fn is_template(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Whether `path` matches `pattern` (see [`Rule::paths`]).
pub fn matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (fixed, open) = match pat.split_last() {
        Some((&"**", head)) => (head, true),
        _ => (&pat[..], false),
    };
    if got.len() < fixed.len() || (!open && got.len() != fixed.len()) {
        return false;
    }
    fixed
        .iter()
        .zip(&got)
        .all(|(p, g)| p == g || (is_template(p) && is_template(g)))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns() {
        assert!(matches("/admin/serverinfo", "/admin/serverinfo"));
        assert!(!matches("/admin/serverinfo", "/admin/serverinfo/x"));
        assert!(matches(
            "/admin/realms/{r}/ui-ext/**",
            "/admin/realms/{realm}/ui-ext"
        ));
        assert!(matches(
            "/admin/realms/{r}/ui-ext/**",
            "/admin/realms/{realm}/ui-ext/a/{id}"
        ));
        assert!(!matches(
            "/admin/realms/{r}/ui-ext/**",
            "/admin/realms/master/ui-ext"
        ));
        assert!(!matches("/admin/{x}", "/admin/serverinfo"));
    }
}
