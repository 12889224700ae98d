//! `cargo xtask bench --only stub,verify [--reps R] [--stub-calls N]`: the sections that need
//! no Keycloak (the stub-server client costs and offline JWT verification), run alone. Each
//! section replaces its own part of `bench/results/latest.md` (between `<!-- section:NAME -->`
//! markers) and its key under `sections` in `latest.json`; the rest of the results (the
//! Keycloak-based run) stays as it was. The full `cargo xtask bench` runs them too, at the end.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// Calls per stub sample (GET → PUT: half as many pairs).
pub const DEFAULT_CALLS: usize = 2000;
const SECTIONS: [&str; 3] = ["stub", "verify", "bulk"];

pub fn run(args: &[String]) -> Result<()> {
    let mut sections: Vec<String> = Vec::new();
    let (mut reps, mut calls) = (5usize, DEFAULT_CALLS);
    let mut bulk = super::bulk::Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .with_context(|| format!("{name} needs a value"))
                .cloned()
        };
        match a.as_str() {
            "--only" => {
                sections = val("--only")?
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect()
            }
            "--reps" => reps = val("--reps")?.parse().context("--reps")?,
            "--stub-calls" => calls = val("--stub-calls")?.parse().context("--stub-calls")?,
            "--users" => bulk.users = val("--users")?.parse().context("--users")?,
            "--parallel" => bulk.parallel = val("--parallel")?.parse().context("--parallel")?,
            other => bail!(
                "unknown option with --only: {other} (--only stub,verify,bulk [--reps R] [--stub-calls N] [--users N] [--parallel P])"
            ),
        }
    }
    for s in &sections {
        if !SECTIONS.contains(&s.as_str()) {
            bail!("--only {s}: the sections are {}", SECTIONS.join(","));
        }
    }
    let names: Vec<&str> = sections.iter().map(String::as_str).collect();
    run_sections(&names, reps.max(1), calls.max(2), bulk)
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `names` and writes their parts of latest.md / latest.json / latest.svg.
pub fn run_sections(
    names: &[&str],
    reps: usize,
    calls: usize,
    bulk: super::bulk::Opts,
) -> Result<()> {
    for name in names {
        let load_start = loadavg();
        let started = std::time::Instant::now();
        let (title, rows, md_body) = match *name {
            "stub" => {
                super::install_rust()?;
                super::install_python()?;
                super::install_node()?;
                let rows = super::stub::rows(reps, calls)?;
                let load = format!("{load_start} at the start, {} at the end", loadavg());
                let md = super::stub::markdown(&rows, reps, calls, &load)?;
                (
                    "Client cost per call against the stub server (`cargo xtask bench --only stub`)",
                    rows,
                    md,
                )
            }
            "verify" => {
                let (rows, md) = crate::bench_extra::verify_section(reps)?;
                let md = format!(
                    "{md}\nLoad average: {load_start} at the start, {} at the end, on 2 cores.\n",
                    loadavg()
                );
                (
                    "Offline JWT verification next to `openssl speed` (`cargo xtask bench --only verify`)",
                    rows,
                    md,
                )
            }
            "bulk" => {
                let (rows, md) = super::bulk::section(reps, bulk)?;
                (
                    "Bulk CLI work next to its floors (`cargo xtask bench --only bulk`)",
                    rows,
                    md,
                )
            }
            other => bail!("no section {other}"),
        };
        let doc = json!({
            "generated_at": super::output(std::process::Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])),
            "reps": reps,
            "loadavg_start": load_start,
            "loadavg_end": loadavg(),
            "seconds": started.elapsed().as_secs_f64(),
            "rows": rows,
        });
        let md = format!(
            "## {title}\n\nGenerated {} ({:.0} s).\n\n{md_body}",
            doc["generated_at"].as_str().unwrap_or(""),
            doc["seconds"].as_f64().unwrap_or(0.0)
        );
        write_section(name, &md, doc)?;
        println!("{md}");
    }
    Ok(())
}

/// Replaces (or appends) section `name` in latest.md and latest.json; redraws the chart.
fn write_section(name: &str, md: &str, data: Value) -> Result<()> {
    let dir = crate::repo_root().join("bench/results");
    fs::create_dir_all(&dir)?;
    let json_path = dir.join("latest.json");
    let mut doc: Value = fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    if !doc["sections"].is_object() {
        doc["sections"] = json!({});
    }
    doc["sections"][name] = data;
    fs::write(&json_path, serde_json::to_string_pretty(&doc)? + "\n")?;
    fs::write(dir.join("latest.svg"), crate::chart::chart_svg(&doc))?;

    let md_path = dir.join("latest.md");
    let text = fs::read_to_string(&md_path).unwrap_or_default();
    fs::write(&md_path, replace_marked(&text, name, md))?;
    Ok(())
}

/// `text` with the part between `<!-- section:NAME -->` and `<!-- /section:NAME -->` replaced by
/// `body` (appended at the end when the markers are missing).
pub fn replace_marked(text: &str, name: &str, body: &str) -> String {
    let (open, close) = (
        format!("<!-- section:{name} -->"),
        format!("<!-- /section:{name} -->"),
    );
    let block = format!("{open}\n{}\n{close}", body.trim_end());
    match (text.find(&open), text.find(&close)) {
        (Some(a), Some(b)) if b > a => {
            format!("{}{block}{}", &text[..a], &text[b + close.len()..])
        }
        _ => format!("{}\n\n{block}\n", text.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_marked;

    #[test]
    fn sections_are_replaced_in_place_or_appended() {
        let once = replace_marked("# R\n", "stub", "A");
        assert_eq!(
            once,
            "# R\n\n<!-- section:stub -->\nA\n<!-- /section:stub -->\n"
        );
        let twice = replace_marked(&(once.clone() + "tail\n"), "stub", "B\n");
        assert_eq!(
            twice,
            "# R\n\n<!-- section:stub -->\nB\n<!-- /section:stub -->\ntail\n"
        );
        assert!(replace_marked(&once, "verify", "V").contains("section:stub -->\nA"));
    }
}
