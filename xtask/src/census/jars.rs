//! Getting at the class files of a Keycloak distribution: every jar under `lib/` and
//! `providers/`, read through `unzip -p` (class files are self-delimiting, so the concatenated
//! output is parsed one class after another without temporary files).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use super::classfile::{self, Class};

/// The classes the census keeps, by internal name, with the jar each came from.
pub struct Classes {
    pub by_name: BTreeMap<String, (Class, String)>,
    pub jars_read: usize,
    pub classes_read: usize,
}

impl Classes {
    pub fn get(&self, name: &str) -> Option<&Class> {
        self.by_name.get(name).map(|(c, _)| c)
    }
    pub fn jar_of(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(|(_, j)| j.as_str())
    }
}

/// Every `*.jar` below `dir` (sorted, so the result does not depend on directory order).
fn jars_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            jars_under(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "jar") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether the census needs to keep a class: Keycloak's own classes (for the provider and type
/// hierarchy) and any class that carries a JAX-RS annotation.
fn keep(c: &Class) -> bool {
    const RS: &str = "Ljakarta/ws/rs/";
    c.name.starts_with("org/keycloak/")
        || c.annotations.iter().any(|a| a.type_desc.starts_with(RS))
        || c.methods
            .iter()
            .any(|m| m.annotations.iter().any(|a| a.type_desc.starts_with(RS)))
}

/// Reads the classes of every jar of the distribution at `home`.
pub fn read_distribution(home: &Path) -> Result<Classes> {
    let mut jars = Vec::new();
    // lib/quarkus holds what the build step generated from these jars; it is not read.
    jars_under(&home.join("lib/lib"), &mut jars)?;
    jars_under(&home.join("lib/app"), &mut jars)?;
    jars_under(&home.join("providers"), &mut jars)?;
    jars.sort();
    if jars.is_empty() {
        bail!(
            "{} has no jars under lib/lib or providers: not a Keycloak distribution",
            home.display()
        );
    }
    let mut by_name = BTreeMap::new();
    let mut classes_read = 0;
    for jar in &jars {
        let jar_name = jar
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = class_bytes(jar)?;
        let classes = classfile::parse_stream(&bytes)
            .with_context(|| format!("parsing the classes of {}", jar.display()))?;
        classes_read += classes.len();
        for c in classes.into_iter().filter(keep) {
            // Multi-release jars repeat a class under META-INF/versions: the first one wins.
            by_name
                .entry(c.name.clone())
                .or_insert((c, jar_name.clone()));
        }
    }
    Ok(Classes {
        by_name,
        jars_read: jars.len(),
        classes_read,
    })
}

/// The bytes of every `*.class` entry of `jar`, back to back.
fn class_bytes(jar: &Path) -> Result<Vec<u8>> {
    let out = Command::new("unzip")
        .arg("-p")
        .arg(jar)
        .arg("*.class")
        .stdin(Stdio::null())
        .output()
        .context("running `unzip` (install it, e.g. `apt-get install unzip`)")?;
    // Exit code 11: no entry matched (a jar without classes).
    match out.status.code() {
        Some(0) => Ok(out.stdout),
        Some(11) => Ok(Vec::new()),
        _ => bail!(
            "unzip -p {} failed ({}): {}",
            jar.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}
