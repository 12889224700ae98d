//! `cargo xtask coverage`: which Admin API operations the last live test run exercised.
//!
//! Inputs, all produced by `cargo xtask test`:
//! - `target/cloakroom-oplog/*.jsonl`: one line per HTTP exchange made by a test client
//!   (`{method, template, status, test}`), written by the tests' observer;
//! - `target/cloakroom-oplog/results.txt`: `<test name> ok|FAILED|ignored`, one per test, taken
//!   from libtest's output.
//!
//! An operation **passed** when a test that passed got a 2xx answer from it. It **failed** when
//! it was called but never answered 2xx in a passing test. It was **not-run** when no test
//! called it. `coverage/known-issues.toml` may explain, per operation, why it cannot pass on the
//! real server; such explanations become the `reason`, never a pass. (`coverage/known-issues/*.toml`
//! files are read too, one per area.)
//!
//! `--only Client,Clients` prints the operations of those handles that did not pass, for
//! whoever is writing their tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

const SPEC: &str = "spec/keycloak-26.7.3-admin-openapi.json";
const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// The directory the tests write the operation log to: `$CLOAKROOM_OPLOG_DIR`, else
/// `target/cloakroom-oplog`.
pub fn oplog_dir() -> PathBuf {
    match std::env::var_os("CLOAKROOM_OPLOG_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => crate::repo_root().join("target/cloakroom-oplog"),
    }
}

#[derive(Default)]
struct Seen {
    /// Tests that got a 2xx from the operation.
    ok_tests: BTreeSet<String>,
    /// Statuses that were not 2xx (or no answer), with a test that saw them.
    other: BTreeMap<String, String>,
}

pub fn run(args: &[String]) -> Result<()> {
    let root = crate::repo_root();
    let mut oplog = oplog_dir();
    let mut out = root.join("coverage/admin-api.json");
    let mut min_passed: Option<usize> = None;
    let mut only: Option<BTreeSet<String>> = None;
    let mut served_table = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            // The served-coverage table is of the census's version (26.7.3): a run on another
            // version (`cargo xtask test --matrix`) writes its admin-api report only.
            "--no-served" => served_table = false,
            "--oplog" => oplog = PathBuf::from(it.next().context("--oplog needs a directory")?),
            "--out" => out = PathBuf::from(it.next().context("--out needs a file")?),
            "--min-passed" => {
                min_passed = Some(
                    it.next()
                        .context("--min-passed needs a number")?
                        .parse()
                        .context("--min-passed needs a number")?,
                )
            }
            "--only" => {
                only = Some(
                    it.next()
                        .context("--only needs handle names, e.g. Client,Clients")?
                        .split(',')
                        .map(|h| format!("{}Handle::", h.trim()))
                        .collect(),
                )
            }
            other => bail!(
                "unknown argument `{other}`; usage: cargo xtask coverage [--oplog DIR] [--out FILE] [--min-passed N] [--only HANDLE,...] [--no-served]"
            ),
        }
    }

    let mut spec: Value = serde_json::from_str(
        &fs::read_to_string(root.join(SPEC)).with_context(|| format!("reading {SPEC}"))?,
    )?;
    // Served endpoints the document lacks are typed from the project's supplement: count them too.
    let supplement = crate::codegen::supplement::DEFAULT_SUPPLEMENT;
    let supplement: Value = serde_json::from_str(
        &fs::read_to_string(root.join(supplement))
            .with_context(|| format!("reading {supplement}"))?,
    )?;
    crate::codegen::supplement::merge(&mut spec, &supplement)?;
    let names = rust_names(&root.join("xtask/names.toml"))?;
    let mut known = known_issues(&root.join("coverage/known-issues.toml"))?;
    if let Ok(dir) = fs::read_dir(root.join("coverage/known-issues")) {
        let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "toml"))
        {
            known.extend(known_issues(f)?);
        }
    }
    let results = test_results(&oplog.join("results.txt"))?;
    let seen = exchanges(&oplog, &results)?;

    let mut ops = Vec::new();
    let paths = spec["paths"].as_object().context("spec has no paths")?;
    for (path, item) in paths {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let method = m.to_uppercase();
            let key = format!("{method} {path}");
            let deprecated = op["deprecated"].as_bool().unwrap_or(false);
            let s = seen.get(&key);
            let (status, test, mut reason) = match s {
                Some(s) if !s.ok_tests.is_empty() => {
                    ("passed", s.ok_tests.iter().next().cloned(), None)
                }
                Some(s) => {
                    let detail = s
                        .other
                        .iter()
                        .map(|(st, t)| format!("{st} in {t}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    (
                        "failed",
                        s.other.values().next().cloned(),
                        Some(format!("no 2xx answer in a passing test ({detail})")),
                    )
                }
                None => ("not-run", None, Some("no test called it".to_string())),
            };
            if let Some(k) = known.get(&key).filter(|_| status != "passed") {
                reason = Some(match reason {
                    Some(r) => format!("{k} ({r})"),
                    None => k.clone(),
                });
            }
            ops.push(json!({
                "method": method,
                "path": path,
                "deprecated": deprecated,
                "rust_name": names.get(&key),
                "status": status,
                "test": test.map(|t| format!("cloakroom::it::{t}")),
                "reason": reason,
            }));
        }
    }
    ops.sort_by(|a, b| {
        (a["path"].as_str(), a["method"].as_str()).cmp(&(b["path"].as_str(), b["method"].as_str()))
    });

    if let Some(only) = &only {
        let mine: Vec<&Value> = ops
            .iter()
            .filter(|o| {
                let name = o["rust_name"].as_str().unwrap_or("");
                only.iter().any(|h| name.starts_with(h.as_str()))
            })
            .collect();
        let done = mine.iter().filter(|o| o["status"] == "passed").count();
        println!(
            "{done} of {} operations of these handles passed",
            mine.len()
        );
        for o in mine.iter().filter(|o| o["status"] != "passed") {
            println!(
                "  {:<8} {} {} {}: {}",
                o["status"].as_str().unwrap_or(""),
                o["method"].as_str().unwrap_or(""),
                o["path"].as_str().unwrap_or(""),
                o["rust_name"].as_str().unwrap_or(""),
                o["reason"].as_str().unwrap_or("")
            );
        }
        return Ok(());
    }
    let count = |f: &dyn Fn(&Value) -> bool| ops.iter().filter(|o| f(o)).count();
    let total = ops.len();
    let deprecated = count(&|o| o["deprecated"] == true);
    let passed = count(&|o| o["status"] == "passed");
    let passed_nd = count(&|o| o["status"] == "passed" && o["deprecated"] == false);
    let failed = count(&|o| o["status"] == "failed");
    let not_run = count(&|o| o["status"] == "not-run");
    let tests_failed = results.values().filter(|r| r.as_str() == "FAILED").count();
    let summary = format!(
        "{passed_nd} of {} non-deprecated operations passed against the real server \
         ({passed} of {total} in all; {failed} failed, {not_run} not run; {tests_failed} tests failed)",
        total - deprecated
    );
    let doc = json!({
        "spec": SPEC,
        "keycloak": "26.7.3",
        "summary": summary,
        "counts": {
            "operations": total,
            "deprecated": deprecated,
            "non_deprecated": total - deprecated,
            "passed": passed,
            "passed_non_deprecated": passed_nd,
            "failed": failed,
            "not_run": not_run,
            "tests_run": results.len(),
            "tests_failed": tests_failed,
        },
        "operations": ops,
    });
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = out.with_extension("json.tmp");
    fs::write(&tmp, format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
    fs::rename(&tmp, &out)?;
    println!("coverage: {summary}");
    println!("wrote {}", out.display());
    if served_table {
        let dir = out.parent().unwrap_or(Path::new("."));
        let served = crate::served_coverage::write(&root, dir, &live_by_endpoint(&seen), &known)?;
        println!("served: {served}");
        println!("wrote {}", dir.join("served-coverage.{json,md}").display());
    }
    if let Some(min) = min_passed.filter(|m| passed_nd < *m) {
        bail!("only {passed_nd} non-deprecated operations passed; at least {min} required");
    }
    Ok(())
}

/// The log's exchanges keyed for the served-surface table (parameters written `{}`).
fn live_by_endpoint(
    seen: &BTreeMap<String, Seen>,
) -> BTreeMap<String, crate::served_coverage::Live> {
    let mut out: BTreeMap<String, crate::served_coverage::Live> = BTreeMap::new();
    for (k, s) in seen {
        let Some((method, template)) = k.split_once(' ') else {
            continue;
        };
        let e = out
            .entry(crate::served_coverage::key(method, template))
            .or_default();
        e.called = true;
        if e.passed_in.is_none() {
            e.passed_in = s.ok_tests.iter().next().cloned();
        }
        if !s.other.is_empty() {
            let detail = s
                .other
                .iter()
                .map(|(st, t)| format!("{st} in {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            e.detail = Some(match e.detail.take() {
                Some(d) => format!("{d}, {detail}"),
                None => detail,
            });
        }
    }
    out
}

/// `"METHOD /path"` → `Handle::method` from the names table.
fn rust_names(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let mut out = BTreeMap::new();
    if let Some(ops) = table.get("ops").and_then(|o| o.as_table()) {
        for (key, entry) in ops {
            let handle = entry.get("handle").and_then(|h| h.as_str());
            let method = entry.get("method").and_then(|h| h.as_str());
            if let (Some(h), Some(m)) = (handle, method) {
                out.insert(key.clone(), format!("{h}Handle::{m}"));
            }
        }
    }
    Ok(out)
}

/// Hand-written explanations for operations the real server does not honour.
fn known_issues(path: &Path) -> Result<BTreeMap<String, String>> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(BTreeMap::new());
    };
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    Ok(table
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect())
}

/// `test name` → `ok` / `FAILED` / `ignored`.
fn test_results(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (run `cargo xtask test` first: it records test outcomes there)",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(t, r)| (t.to_owned(), r.to_owned()))
        .collect())
}

fn exchanges(dir: &Path, results: &BTreeMap<String, String>) -> Result<BTreeMap<String, Seen>> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        for line in fs::read_to_string(&p)?.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (Some(method), Some(template), Some(test)) = (
                v["method"].as_str(),
                v["template"].as_str(),
                v["test"].as_str(),
            ) else {
                continue;
            };
            if !template.starts_with("/admin/") {
                continue;
            }
            let s = seen.entry(format!("{method} {template}")).or_default();
            let status = v["status"].as_u64();
            let test_ok = results.get(test).map(String::as_str) == Some("ok");
            match status {
                Some(200..=299) if test_ok => {
                    s.ok_tests.insert(test.to_owned());
                }
                Some(200..=299) => {
                    s.other
                        .insert("2xx in a failed test".into(), test.to_owned());
                }
                Some(code) => {
                    s.other
                        .entry(code.to_string())
                        .or_insert_with(|| test.to_owned());
                }
                None => {
                    s.other
                        .entry("no answer".into())
                        .or_insert_with(|| test.to_owned());
                }
            }
        }
    }
    Ok(seen)
}

/// Libtest's result lines (`test a::b ... ok`) → `a::b ok`.
pub fn result_line(line: &str) -> Option<String> {
    let rest = line.strip_prefix("test ")?;
    let (name, outcome) = rest.rsplit_once(" ... ")?;
    let outcome = outcome.trim();
    let outcome = outcome.split_whitespace().next()?;
    matches!(outcome, "ok" | "FAILED" | "ignored").then(|| format!("{name} {outcome}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_lines() {
        assert_eq!(
            result_line("test core_auth::grants ... ok").as_deref(),
            Some("core_auth::grants ok")
        );
        assert_eq!(
            result_line("test a::b ... FAILED").as_deref(),
            Some("a::b FAILED")
        );
        assert_eq!(result_line("test result: ok. 3 passed"), None);
        assert_eq!(result_line("running 3 tests"), None);
    }
}
