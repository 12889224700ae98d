//! The second table of `cargo xtask coverage`: every admin endpoint the server serves (from
//! `coverage/served-surface.json`, the census), whether a passing test exercised it live, and
//! the census decision (typed / raw-only / internal) with its reason.
//!
//! The operation log names each exchange by the template the library sent it with (the
//! OpenAPI document's spelling, or the supplement's); the census names the same endpoint by its
//! JAX-RS path. They are matched by method and path with every parameter written `{}`. Where
//! the library types a literal the server takes as a parameter (`…/policy/role/{id}` for the
//! JAX-RS `…/policy/{type}/{id}`), a `{}` segment of a census row matches any one segment of the
//! logged template, and each logged template counts for the most specific row it matches only
//! (see [`best_row`]).
//!
//! A row not passed may carry an explanation from `coverage/known-issues*` (keyed like the
//! admin-api report, by method and the document's path): it goes in the row's `live_reason`
//! with what the log saw, never turning it into a pass.
//!
//! Writes `served-coverage.json` and `served-coverage.md` next to the first table. No floor
//! yet: it reports.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::census::report::normalise;

const SURFACE: &str = "coverage/served-surface.json";

/// What the operation log says about one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    /// A passing test that got a 2xx from it.
    pub passed_in: Option<String>,
    /// It was called at all (any status, any test).
    pub called: bool,
    /// What the non-2xx answers were and a test that saw each (`500 in a::b`), when it was
    /// called but not passed.
    pub detail: Option<String>,
}

impl Live {
    /// Adds what another logged template counting for the same row saw.
    fn merge(&mut self, other: &Live) {
        self.called |= other.called;
        if self.passed_in.is_none() {
            self.passed_in = other.passed_in.clone();
        }
        self.detail = match (self.detail.take(), &other.detail) {
            (Some(a), Some(b)) if a != *b => Some(format!("{a}, {b}")),
            (a, b) => a.or_else(|| b.clone()),
        };
    }
}

/// `METHOD /path/{}` for a method and a template, whatever its parameters are called.
pub fn key(method: &str, template: &str) -> String {
    let path = normalise(template);
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => path,
    };
    format!("{} {path}", method.to_ascii_uppercase())
}

/// How specifically the census row key `row` matches the logged key `logged`: `None` when it
/// does not (another method, another number of segments, or a literal segment that differs);
/// else which of the row's segments are literal. A row's `{}` segment matches any one segment,
/// a literal one only itself (so a logged `{}` matches only a row's `{}`).
fn specificity(row: &str, logged: &str) -> Option<Vec<bool>> {
    let (rm, rp) = row.split_once(' ')?;
    let (lm, lp) = logged.split_once(' ')?;
    let (rs, ls): (Vec<&str>, Vec<&str>) = (rp.split('/').collect(), lp.split('/').collect());
    if rm != lm || rs.len() != ls.len() {
        return None;
    }
    rs.iter()
        .zip(&ls)
        .map(|(r, l)| match *r {
            "{}" => Some(false),
            _ if r == l => Some(true),
            _ => None,
        })
        .collect()
}

/// The row among `rows` (keys made by [`key`]) that the logged key counts for: the one with the
/// most literal segments, and of equals the one whose literals come first. A row with the
/// logged key itself always wins (no other matching row has as many literals).
pub fn best_row<'a>(rows: impl IntoIterator<Item = &'a str>, logged: &str) -> Option<&'a str> {
    rows.into_iter()
        .filter_map(|r| specificity(r, logged).map(|s| (s.iter().filter(|l| **l).count(), s, r)))
        .max_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)).then_with(|| b.2.cmp(a.2)))
        .map(|(_, _, r)| r)
}

/// What the log saw for each row key of `surface`'s admin endpoints: every logged key counts
/// for its [`best_row`]. Also the logged keys that match no row.
fn live_by_row(
    surface: &Value,
    live: &BTreeMap<String, Live>,
) -> (BTreeMap<String, Live>, Vec<String>) {
    let keys: std::collections::BTreeSet<String> = admin_endpoints(surface)
        .map(|(method, path, _)| key(method, path))
        .collect();
    let mut out: BTreeMap<String, Live> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for (logged, seen) in live {
        match best_row(keys.iter().map(String::as_str), logged) {
            Some(row) => out.entry(row.to_owned()).or_default().merge(seen),
            None => unmatched.push(logged.clone()),
        }
    }
    (out, unmatched)
}

/// The census's admin endpoints (not public): (method, path, entry).
fn admin_endpoints(surface: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    surface
        .get("endpoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| !e["public"].as_bool().unwrap_or(false))
        .filter_map(|e| Some((e["method"].as_str()?, e["path"].as_str()?, e)))
}

/// The rows of the table: one per served admin endpoint, in the census's order. `known` maps
/// `METHOD /path` (any parameter names) to why the real server does not honour it.
pub fn rows(
    surface: &Value,
    live: &BTreeMap<String, Live>,
    known: &BTreeMap<String, String>,
) -> Vec<Value> {
    let (by_row, _) = live_by_row(surface, live);
    let known: BTreeMap<String, &String> = known
        .iter()
        .filter_map(|(k, why)| {
            let (method, path) = k.split_once(' ')?;
            Some((key(method, path), why))
        })
        .collect();
    let mut out = Vec::new();
    for (method, path, e) in admin_endpoints(surface) {
        let k = key(method, path);
        let seen = by_row.get(&k).cloned().unwrap_or_default();
        let status = match (&seen.passed_in, seen.called) {
            (Some(_), _) => "passed",
            (None, true) => "failed",
            (None, false) => "not-run",
        };
        let live_reason = match (status, known.get(&k), &seen.detail) {
            ("passed", _, _) => None,
            (_, Some(why), Some(d)) => {
                Some(format!("{why} (no 2xx answer in a passing test: {d})"))
            }
            (_, Some(why), None) => Some((*why).clone()),
            ("failed", None, Some(d)) => Some(format!("no 2xx answer in a passing test ({d})")),
            _ => None,
        };
        out.push(json!({
            "method": method,
            "path": path,
            "in_spec": e["in_spec"],
            "features": e["features"],
            "decision": e["decision"],
            "reason": e["reason"],
            "live": status,
            "live_reason": live_reason,
            "test": seen.passed_in.map(|t| format!("cloakroom::it::{t}")),
        }));
    }
    out
}

/// The counts the report states.
pub fn counts(rows: &[Value]) -> Value {
    let n = |f: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| f(r)).count();
    let typed = |r: &Value| r["decision"] == "typed";
    json!({
        "served_admin": rows.len(),
        "typed": n(&typed),
        "typed_passed_live": n(&|r| typed(r) && r["live"] == "passed"),
        "typed_not_yet_exercised": n(&|r| typed(r) && r["live"] != "passed"),
        "raw_only": n(&|r| r["decision"] == "raw-only"),
        "internal": n(&|r| r["decision"] == "internal"),
        "not_typed_but_passed_live": n(&|r| !typed(r) && r["live"] == "passed"),
    })
}

/// Reads the census and writes `served-coverage.{json,md}` into `dir`. Returns the summary.
pub fn write(
    root: &Path,
    dir: &Path,
    live: &BTreeMap<String, Live>,
    known: &BTreeMap<String, String>,
) -> Result<String> {
    let text = fs::read_to_string(root.join(SURFACE))
        .with_context(|| format!("reading {SURFACE} (run `cargo xtask census`)"))?;
    let surface: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {SURFACE}"))?;
    let (_, unmatched) = live_by_row(&surface, live);
    for k in &unmatched {
        println!("served: the log's `{k}` matches no served admin endpoint of the census");
    }
    let rows = rows(&surface, live, known);
    let counts = counts(&rows);
    let summary = format!(
        "{} served admin endpoints: {} typed ({} passed live, {} not yet exercised), {} raw-only, {} internal",
        counts["served_admin"],
        counts["typed"],
        counts["typed_passed_live"],
        counts["typed_not_yet_exercised"],
        counts["raw_only"],
        counts["internal"],
    );
    let doc = json!({
        "census": SURFACE,
        "keycloak": surface["keycloak"],
        "summary": summary,
        "counts": counts,
        "endpoints": rows,
    });
    fs::create_dir_all(dir)?;
    let json_text = format!("{}\n", serde_json::to_string_pretty(&doc)?);
    write_atomically(&dir.join("served-coverage.json"), &json_text)?;
    write_atomically(&dir.join("served-coverage.md"), &markdown(&doc))?;
    Ok(summary)
}

fn markdown(doc: &Value) -> String {
    let mut s = String::from(
        "# Served admin endpoints: typed, raw-only, internal, and exercised live\n\n\
         Generated by `cargo xtask coverage` from `coverage/served-surface.json` and the last \
         live test run; do not edit.\n\n",
    );
    s.push_str(&format!("{}.\n\n", doc["summary"].as_str().unwrap_or("")));
    s.push_str("| method | path | decision | live | reason |\n|---|---|---|---|---|\n");
    for r in doc["endpoints"].as_array().into_iter().flatten() {
        let mut reason = r["reason"].as_str().unwrap_or("").to_owned();
        if let Some(why) = r["live_reason"].as_str() {
            reason.push_str(&format!(". **Not passed:** {why}"));
        }
        s.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            r["method"].as_str().unwrap_or(""),
            r["path"].as_str().unwrap_or(""),
            r["decision"].as_str().unwrap_or("?"),
            r["live"].as_str().unwrap_or(""),
            reason.replace('|', "\\|"),
        ));
    }
    s
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whatever_their_parameters_are_called() {
        assert_eq!(
            key("get", "/admin/realms/{realm}/users/{user-id}"),
            key("GET", "/admin/realms/{realm}/users/{id}")
        );
        assert_eq!(
            key("POST", "/admin/realms/{realm}/user-storage/{id}/sync"),
            "POST /admin/realms/{}/user-storage/{}/sync"
        );
        // A regular expression inside a JAX-RS parameter is part of the parameter.
        assert_eq!(
            key("GET", "/admin/realms/{realm}/x/{path: .*}"),
            "GET /admin/realms/{}/x/{}"
        );
        assert_eq!(key("GET", "/admin/realms/"), "GET /admin/realms");
        assert_ne!(
            key("GET", "/admin/realms/{realm}/users"),
            key("POST", "/admin/realms/{realm}/users")
        );
        assert_ne!(
            key("GET", "/admin/realms/{realm}/users"),
            key("GET", "/admin/realms/{realm}/users/{id}")
        );
    }

    #[test]
    fn rows_take_the_census_decision_and_the_live_outcome() {
        let surface = json!({"endpoints": [
            {"method": "GET", "path": "/admin/realms/{realm}/users/{id}", "public": false,
             "in_spec": true, "decision": "typed", "reason": "generated"},
            {"method": "GET", "path": "/admin/serverinfo", "public": false,
             "in_spec": false, "decision": "typed", "reason": "server info"},
            {"method": "GET", "path": "/admin/realms/{realm}/console/x", "public": false,
             "in_spec": false, "decision": "internal", "reason": "admin console"},
            {"method": "GET", "path": "/realms/{realm}/protocol/openid-connect/certs",
             "public": true, "in_spec": false, "decision": "typed", "reason": "public"},
        ]});
        let mut live = BTreeMap::new();
        live.insert(
            key("GET", "/admin/realms/{realm}/users/{user-id}"),
            Live {
                passed_in: Some("a::b".into()),
                called: true,
                detail: None,
            },
        );
        live.insert(
            key("GET", "/admin/serverinfo"),
            Live {
                passed_in: None,
                called: true,
                detail: Some("500 in c::d".into()),
            },
        );
        let rows = rows(&surface, &live, &BTreeMap::new());
        assert_eq!(rows.len(), 3, "public endpoints are not in the admin table");
        assert_eq!(rows[0]["live"], "passed");
        assert_eq!(rows[0]["test"], "cloakroom::it::a::b");
        assert_eq!(rows[1]["live"], "failed");
        assert_eq!(
            rows[1]["live_reason"],
            "no 2xx answer in a passing test (500 in c::d)"
        );
        assert_eq!(rows[2]["live"], "not-run");
        assert!(rows[0]["live_reason"].is_null());
        assert!(rows[2]["live_reason"].is_null());
        let c = counts(&rows);
        assert_eq!(c["served_admin"], 3);
        assert_eq!(c["typed_passed_live"], 1);
        assert_eq!(c["typed_not_yet_exercised"], 1);
        assert_eq!(c["internal"], 1);
        assert_eq!(c["raw_only"], 0);
    }

    fn ran(test: &str) -> Live {
        Live {
            passed_in: Some(test.into()),
            called: true,
            detail: None,
        }
    }

    const AUTHZ: &str = "/admin/realms/{realm}/clients/{client-uuid}/authz/resource-server";

    #[test]
    fn a_placeholder_segment_of_a_row_matches_a_literal_of_the_log() {
        let keys = [
            key("GET", &format!("{AUTHZ}/policy/{{type}}/{{type}}")),
            key("GET", &format!("{AUTHZ}/policy/{{id}}/scopes")),
            key("GET", &format!("{AUTHZ}/policy/search")),
            key("GET", &format!("{AUTHZ}/policy/{{id}}")),
            key("POST", &format!("{AUTHZ}/policy/{{type}}")),
        ];
        let rows = || keys.iter().map(String::as_str);
        let logged = |m: &str, p: &str| key(m, &format!("{AUTHZ}/{p}"));
        // The library's literal type stands where the census has a parameter.
        assert_eq!(
            best_row(rows(), &logged("GET", "policy/role/{policy-id}")),
            Some(keys[0].as_str())
        );
        assert_eq!(
            best_row(rows(), &logged("POST", "policy/role")),
            Some(keys[4].as_str())
        );
        // A row with the logged key itself, or more literal segments, wins over a placeholder.
        assert_eq!(
            best_row(rows(), &logged("GET", "policy/{policy-id}/scopes")),
            Some(keys[1].as_str())
        );
        assert_eq!(
            best_row(rows(), &logged("GET", "policy/search")),
            Some(keys[2].as_str())
        );
        assert_eq!(
            best_row(rows(), &logged("GET", "policy/{id}")),
            Some(keys[3].as_str())
        );
        // A logged parameter is not a literal: it never matches a row's literal segment, nor
        // does anything match across methods or numbers of segments.
        assert_eq!(best_row(rows(), &logged("GET", "{x}/search")), None);
        assert_eq!(best_row(rows(), &logged("PUT", "policy/role/{id}")), None);
        assert_eq!(
            best_row(rows(), &logged("GET", "policy/role/{id}/x/y")),
            None
        );
        // Of rows with as many literals, the one whose literals come first.
        let tie = [key("GET", "/a/{x}/c"), key("GET", "/a/b/{y}")];
        assert_eq!(
            best_row(tie.iter().map(String::as_str), "GET /a/b/c"),
            Some(tie[1].as_str())
        );
    }

    #[test]
    fn per_type_calls_count_for_the_type_rows_and_nothing_else() {
        let row = |m: &str, p: &str, decision: &str| {
            json!({"method": m, "path": format!("{AUTHZ}/{p}"), "public": false,
                   "decision": decision, "reason": "r"})
        };
        let surface = json!({"endpoints": [
            row("POST", "policy/{type}", "typed"),
            row("GET", "policy/{type}/{type}", "typed"),
            row("PUT", "policy/{type}/{type}", "typed"),
            row("DELETE", "policy/{type}/{type}", "raw-only"),
            row("GET", "policy/{id}", "typed"),
            row("GET", "policy/search", "typed"),
        ]});
        let mut live = BTreeMap::new();
        let logged = |m: &str, p: &str| key(m, &format!("{AUTHZ}/{p}"));
        live.insert(logged("POST", "policy/role"), ran("authz::role"));
        live.insert(logged("POST", "policy/client"), ran("authz::client"));
        live.insert(logged("GET", "policy/role/{policy-id}"), ran("authz::role"));
        live.insert(
            logged("PUT", "policy/client/{policy-id}"),
            Live {
                passed_in: None,
                called: true,
                detail: Some("400 in authz::client".into()),
            },
        );
        live.insert(logged("PUT", "policy/role/{policy-id}"), ran("authz::role"));
        live.insert(logged("GET", "policy/{policy-id}"), ran("authz::get"));
        let rows = rows(&surface, &live, &BTreeMap::new());
        let status: Vec<&str> = rows.iter().map(|r| r["live"].as_str().unwrap()).collect();
        assert_eq!(
            status,
            ["passed", "passed", "passed", "not-run", "passed", "not-run"],
            "{rows:#?}"
        );
        assert_eq!(rows[0]["test"], "cloakroom::it::authz::client");
        assert_eq!(rows[1]["test"], "cloakroom::it::authz::role");
        // A failure of one type does not hide a pass of another.
        assert_eq!(rows[2]["test"], "cloakroom::it::authz::role");
        assert!(rows[2]["live_reason"].is_null());
        assert_eq!(rows[4]["test"], "cloakroom::it::authz::get");
    }

    #[test]
    fn a_known_issue_explains_a_row_that_did_not_pass_and_never_passes_it() {
        let surface = json!({"endpoints": [
            {"method": "PATCH", "path": "/admin/api/{realmName}/clients/v2/{id}", "public": false,
             "decision": "typed", "reason": "v2 clients"},
            {"method": "GET", "path": "/admin/api/{realmName}/clients/v2/{id}", "public": false,
             "decision": "typed", "reason": "v2 clients"},
            {"method": "DELETE", "path": "/admin/api/{realmName}/clients/v2/{id}", "public": false,
             "decision": "typed", "reason": "v2 clients"},
        ]});
        let mut live = BTreeMap::new();
        live.insert(
            key("PATCH", "/admin/api/{realm}/clients/v2/{id}"),
            Live {
                passed_in: None,
                called: true,
                detail: Some("500 in v2::t".into()),
            },
        );
        live.insert(
            key("GET", "/admin/api/{realm}/clients/v2/{id}"),
            ran("v2::t"),
        );
        let mut known = BTreeMap::new();
        for m in ["PATCH", "GET", "DELETE"] {
            known.insert(
                format!("{m} /admin/api/{{realm}}/clients/v2/{{id}}"),
                "server bug".to_string(),
            );
        }
        let rows = rows(&surface, &live, &known);
        assert_eq!(rows[0]["live"], "failed");
        assert_eq!(
            rows[0]["live_reason"],
            "server bug (no 2xx answer in a passing test: 500 in v2::t)"
        );
        assert_eq!(rows[1]["live"], "passed");
        assert!(rows[1]["live_reason"].is_null());
        assert_eq!(rows[2]["live"], "not-run");
        assert_eq!(rows[2]["live_reason"], "server bug");
        let md = markdown(&json!({"summary": "s", "endpoints": rows}));
        assert!(
            md.contains("| PATCH | `/admin/api/{realmName}/clients/v2/{id}` | typed | failed | v2 clients. **Not passed:** server bug (no 2xx"),
            "{md}"
        );
    }
}
