//! The version matrix of `cargo xtask test`: the full suite on every version one server at a
//! time (`--matrix`, one coverage report per version), and CI's compatibility suite on the
//! older versions.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::keycloak::Wanted;

/// The versions of the matrix, newest first (the first is the default server).
pub const VERSIONS: [&str; 3] = ["26.7.3", "26.5.6", "26.4.7"];

/// The compatibility suite: the library's live suite (`it`), which exercises every typed
/// operation family; the CLI, examples and property tests do not depend on the server version.
pub const COMPAT_SUITE: [&str; 4] = ["-p", "cloakroom", "--test", "it"];

/// `args` without `flag`, and whether it was there (before any `--`).
pub fn take_flag(args: &[String], flag: &str) -> (bool, Vec<String>) {
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let found = args[..end].iter().any(|a| a == flag);
    let rest = args
        .iter()
        .enumerate()
        .filter(|(i, a)| *i >= end || a.as_str() != flag)
        .map(|(_, a)| a.clone())
        .collect();
    (found, rest)
}

/// The compatibility suite follows a plain `cargo xtask test` (no arguments, no
/// `--version`/`CLOAKROOM_KC_VERSION`), in CI too; `CLOAKROOM_COMPAT=0` leaves it out. (Its
/// first runs: 26.5.6 and 26.4.7, all 107 tests, session 6.)
pub fn compat_wanted(args: &[String]) -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    var("CLOAKROOM_COMPAT") != "0" && args.is_empty() && var("CLOAKROOM_KC_VERSION").is_empty()
}

/// The compatibility suite on every older version of the matrix, one server at a time; the
/// first failing status, else success.
pub fn run_compat(wanted: &Wanted) -> Result<ExitStatus> {
    let extra: Vec<String> = COMPAT_SUITE.iter().map(|s| s.to_string()).collect();
    let mut worst = None;
    for v in &VERSIONS[1..] {
        let t0 = Instant::now();
        println!("\n=== compatibility suite on Keycloak {v}");
        let status = crate::test::run_suite(&at(wanted, v), &extra, &oplog_for(v))?;
        println!(
            "=== compatibility suite on Keycloak {v}: {status} in {:.0} s (server start {})",
            t0.elapsed().as_secs_f64(),
            start_text()
        );
        if !status.success() && worst.is_none() {
            worst = Some(status);
        }
    }
    Ok(worst.unwrap_or_default())
}

/// `--matrix`: the suite (`extra`, default the whole workspace) on each version, then one
/// coverage report per version and `coverage/versions.md`. `CLOAKROOM_MATRIX_VERSIONS`
/// (comma-separated) narrows the versions.
pub fn run_matrix(wanted: &Wanted, extra: &[String]) -> Result<()> {
    let versions: Vec<String> = match std::env::var("CLOAKROOM_MATRIX_VERSIONS") {
        Ok(v) if !v.trim().is_empty() => v.split(',').map(|s| s.trim().to_owned()).collect(),
        _ => VERSIONS.iter().map(|s| s.to_string()).collect(),
    };
    let mut failed = None;
    for v in &versions {
        let t0 = Instant::now();
        println!("\n=== matrix: Keycloak {v}");
        let oplog = oplog_for(v);
        let status = crate::test::run_suite(&at(wanted, v), extra, &oplog)?;
        let row = Row {
            version: v.clone(),
            start: start_text(),
            seconds: t0.elapsed().as_secs_f64(),
            counts: outcome_counts(&oplog.join("results.txt")),
        };
        let out = report_path(v);
        let mut args = vec!["--oplog", path_str(&oplog)?, "--out", path_str(&out)?];
        if v != VERSIONS[0] {
            args.push("--no-served");
        }
        crate::coverage::run(&args.into_iter().map(String::from).collect::<Vec<_>>())?;
        write_row(&row, &out)?;
        if !status.success() && failed.is_none() {
            failed = Some(status);
        }
    }
    match failed {
        Some(s) => crate::test::exit_with(s),
        None => Ok(()),
    }
}

fn at(wanted: &Wanted, version: &str) -> Wanted {
    let mut w = wanted.clone();
    w.version = version.to_owned();
    w
}

/// The operation log of a version's run: the default directory for the default version (CI's
/// coverage step reads it), `target/cloakroom-oplog-<version>` for the others.
fn oplog_for(version: &str) -> PathBuf {
    if version == VERSIONS[0] {
        return crate::coverage::oplog_dir();
    }
    crate::repo_root().join(format!("target/cloakroom-oplog-{version}"))
}

fn report_path(version: &str) -> PathBuf {
    crate::repo_root().join(format!("coverage/admin-api-{version}.json"))
}

fn path_str(p: &std::path::Path) -> Result<&str> {
    p.to_str().context("a non-UTF-8 path")
}

fn start_text() -> String {
    match crate::test::last_start() {
        Some((true, _)) => "reused".into(),
        Some((false, s)) => format!("{s:.1} s"),
        None => "?".into(),
    }
}

struct Row {
    version: String,
    start: String,
    seconds: f64,
    counts: [usize; 3],
}

/// (ok, FAILED, ignored) from a run's `results.txt`.
fn outcome_counts(results: &std::path::Path) -> [usize; 3] {
    let text = fs::read_to_string(results).unwrap_or_default();
    let mut c = [0; 3];
    for outcome in text.lines().filter_map(|l| l.rsplit_once(' ')).map(|p| p.1) {
        match outcome {
            "ok" => c[0] += 1,
            "FAILED" => c[1] += 1,
            _ => c[2] += 1,
        }
    }
    c
}

/// Replaces `row`'s version line in `coverage/versions.md` (the table keeps the other
/// versions' rows from their own runs).
fn write_row(row: &Row, report: &std::path::Path) -> Result<()> {
    let path = crate::repo_root().join("coverage/versions.md");
    let existing = fs::read_to_string(&path).unwrap_or_default();
    let passed_ops = fs::read_to_string(report)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["counts"]["passed_non_deprecated"].as_u64())
        .map_or("?".into(), |n| n.to_string());
    let [ok, failed, ignored] = row.counts;
    let line = format!(
        "| {} | {ok} | {failed} | {ignored} | {passed_ops} | {} | {:.0} s |",
        row.version, row.start, row.seconds
    );
    let mut rows: Vec<String> = existing
        .lines()
        .filter(|l| l.starts_with("| 2"))
        .filter(|l| !l.starts_with(&format!("| {} |", row.version)))
        .map(str::to_owned)
        .collect();
    rows.push(line);
    rows.sort_by(|a, b| b.cmp(a));
    let mut out = String::from(
        "# Test results per Keycloak version\n\n\
         Written by `cargo xtask test --matrix` (one server at a time, the whole workspace suite \
         unless narrowed); each version's Admin API coverage is in `admin-api-<version>.json`. \
         An operation a version does not serve counts as passed when the test asserted the \
         typed `Error::NotServed`.\n\n\
         | version | tests ok | failed | ignored | Admin API ops passed | server start | run |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(out, "{r}");
    }
    fs::write(&path, out).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_flag_is_taken_before_the_separator_only() {
        let (found, rest) = take_flag(&strings(&["--matrix", "--", "--matrix"]), "--matrix");
        assert!(found);
        assert_eq!(rest, strings(&["--", "--matrix"]));
        let (found, rest) = take_flag(&strings(&["--", "--matrix"]), "--matrix");
        assert!(!found);
        assert_eq!(rest, strings(&["--", "--matrix"]));
    }

    #[test]
    fn counts_outcomes() {
        let dir = std::env::temp_dir().join(format!("matrix-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("results.txt");
        fs::write(&f, "a::b ok\na::c FAILED\na::d ok\na::e ignored\n").unwrap();
        assert_eq!(outcome_counts(&f), [2, 1, 1]);
        let _ = fs::remove_dir_all(&dir);
    }
}
