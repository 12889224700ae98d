//! `cargo xtask census [--check] [--version V] [--dist DIR]`: the surface a Keycloak
//! distribution serves, read from the JAX-RS annotations of its jars.
//!
//! Every concrete class with a class-level `@Path` is a root; the walk follows sub-resource
//! locators (including those that return `Object`, resolved through the provider SPIs and the
//! locator's bytecode), and every resource method gives one HTTP method + path. Paths are
//! compared with the OpenAPI document by method and template (parameter names ignored); the
//! others get a decision from `xtask/census.toml`.
//!
//! Outputs: `coverage/served-surface.json` and `.md` for the project's version,
//! `coverage/served-surface-<version>.json` (less detail) for others, and
//! `coverage/served-by-version.json` (method + template -> versions that serve it), rebuilt from
//! the per-version files, and the same table as Rust in `crates/cloakroom/src/served.rs`. `--check` regenerates the project version's files in memory and
//! fails when the committed ones differ.

mod classfile;
mod decisions;
mod dist;
mod jars;
mod jaxrs;
mod locate;
mod providers;
pub(crate) mod report;
mod served_rs;
#[cfg(test)]
mod tests;
mod versions;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const SPEC: &str = "spec/keycloak-26.7.3-admin-openapi.json";
const TABLE: &str = "xtask/census.toml";

const USAGE: &str = "usage: cargo xtask census [--check] [--version V] [--dist DIR]

  (no options)   census of Keycloak 26.7.3: coverage/served-surface.{json,md}
  --version V    census of another version (fetched with Maven): coverage/served-surface-V.json
  --dist DIR     read an unpacked distribution instead of fetching one
  --check        regenerate in memory and fail when the committed files differ";

struct Options {
    check: bool,
    version: Option<String>,
    dist: Option<PathBuf>,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o = Options {
        check: false,
        version: None,
        dist: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => o.check = true,
            "--version" => {
                o.version = Some(it.next().context("--version needs a version")?.clone())
            }
            "--dist" => {
                o.dist = Some(PathBuf::from(
                    it.next().context("--dist needs a directory")?,
                ))
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(o)
}

pub fn run(args: &[String]) -> Result<()> {
    let o = parse_args(args)?;
    let t0 = Instant::now();
    let root = crate::repo_root();
    let dist = match &o.dist {
        Some(dir) => dist::from_dir(dir, o.version.as_deref())?,
        None => dist::fetch(o.version.as_deref().unwrap_or(cloakroom_devserver::VERSION))?,
    };
    let main = dist.version == cloakroom_devserver::VERSION;
    let outputs = census(&root, &dist, main)?;
    let mut drift = Vec::new();
    for (file, text) in &outputs {
        let path = root.join(file);
        if o.check {
            let old = std::fs::read_to_string(&path).unwrap_or_default();
            if old != *text {
                drift.push(file.clone());
            }
        } else {
            write_atomically(&path, text)?;
        }
    }
    if !drift.is_empty() {
        bail!(
            "the committed census differs from the distribution's jars: {} (run `cargo xtask census` \
             and review the change)",
            drift.join(", ")
        );
    }
    let verb = if o.check { "checked" } else { "wrote" };
    let names: Vec<&str> = outputs.iter().map(|(f, _)| f.as_str()).collect();
    println!(
        "census of {}: {verb} {} in {:.1} s",
        dist.version,
        names.join(", "),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The files the census of `dist` produces, as (repository-relative path, contents).
fn census(root: &Path, dist: &dist::Dist, main: bool) -> Result<Vec<(String, String)>> {
    let classes = jars::read_distribution(&dist.home)?;
    let mut walk = jaxrs::Walk::new(&classes);
    for (class, path) in walk.roots() {
        walk.walk(&class, &path);
    }
    let spec = report::spec_operations(&root.join(SPEC))?;
    let table = decisions::load(&root.join(TABLE))?;
    let rows = report::rows(&walk.served, &spec, &table);
    let unreviewed: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.decision.is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    if main && !unreviewed.is_empty() {
        bail!(
            "{} served endpoints have no decision; add rules to {TABLE}:\n  {}",
            unreviewed.len(),
            unreviewed.into_iter().collect::<Vec<_>>().join("\n  ")
        );
    }
    let meta = report::Meta {
        version: &dist.version,
        sha256: &dist.sha256,
        spec: SPEC,
        jars: classes.jars_read,
        classes: classes.classes_read,
    };
    let doc = report::document(&meta, &rows, &walk.unresolved, main);
    let json = pretty(&doc)?;
    let mut out = Vec::new();
    let file = if main {
        "coverage/served-surface.json".to_string()
    } else {
        format!("coverage/served-surface-{}.json", dist.version)
    };
    if main {
        out.push((
            "coverage/served-surface.md".to_string(),
            report::markdown(&meta, &rows),
        ));
    }
    let by_version = versions::served_by_version(root, &dist.version, &doc)?;
    out.push((file, json));
    out.push((
        "coverage/served-by-version.json".to_string(),
        versions::render(&by_version),
    ));
    out.push((served_rs::FILE.to_string(), served_rs::render(&by_version)?));
    out.sort();
    Ok(out)
}

fn pretty(v: &serde_json::Value) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// Writes through a temporary file in the same directory, so a failed run never leaves a
/// half-written file.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
