//! The distributions the census reads: 26.7.3 through `cargo xtask keycloak fetch`, other
//! versions downloaded with Maven into `.cache/keycloak/census/` and checked against the
//! sha256 recorded here when they were first fetched.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::keycloak;

/// sha256 of `keycloak-quarkus-dist-<version>.zip` from Maven Central, per version fetched.
pub const KNOWN_SHA256: &[(&str, &str)] = &[
    (
        "26.4.7",
        "dd9834c023460be856f731423d86228c23b5d002194a2064642bec0cc6573eaa",
    ),
    (
        "26.5.6",
        "490189d9dff05272432d51f71a069462eeca97f2920a694d539a1e6c26a5a347",
    ),
    (
        "26.7.3",
        "27a6535553c3cdcd083872ba40629efafb3475e3b758e0c6f691395561dd0f1f",
    ),
];

pub struct Dist {
    pub version: String,
    pub home: PathBuf,
    pub sha256: String,
}

fn known(version: &str) -> Option<&'static str> {
    KNOWN_SHA256
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, s)| *s)
}

/// A distribution unpacked elsewhere (`--dist DIR`).
pub fn from_dir(dir: &Path, version: Option<&str>) -> Result<Dist> {
    if !dir.join("lib/lib/main").is_dir() {
        bail!(
            "{} has no lib/lib/main: not an unpacked Keycloak distribution",
            dir.display()
        );
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let version = match version {
        Some(v) => v.to_string(),
        None => match name.strip_prefix("keycloak-") {
            Some(v) => v.to_string(),
            None => bail!(
                "cannot tell the version of {}: pass --version",
                dir.display()
            ),
        },
    };
    Ok(Dist {
        version,
        home: dir.to_path_buf(),
        sha256: "not checked (--dist)".to_string(),
    })
}

/// The distribution of `version`, fetched and unpacked when needed.
pub fn fetch(version: &str) -> Result<Dist> {
    if !version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        bail!("{version:?} is not a Keycloak version");
    }
    if version == keycloak::VERSION {
        let home = keycloak::fetch()?;
        let sha256 = known(version).unwrap_or_default().to_string();
        return Ok(Dist {
            version: version.to_string(),
            home,
            sha256,
        });
    }
    let cache = crate::repo_root().join(".cache/keycloak/census");
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let zip = cache.join(format!("keycloak-quarkus-dist-{version}.zip"));
    if !zip.is_file() {
        download(version, &cache)?;
    }
    let sha256 = keycloak::sha256(&zip)?;
    match known(version) {
        Some(expected) if expected != sha256 => bail!(
            "{} has sha256 {sha256}, expected {expected}: remove it (and \
             ~/.m2/repository/org/keycloak/keycloak-quarkus-dist/{version}) and try again",
            zip.display()
        ),
        Some(_) => {}
        None => eprintln!(
            "census: keycloak-quarkus-dist {version} has sha256 {sha256}; record it in \
             xtask/src/census/dist.rs KNOWN_SHA256"
        ),
    }
    let home = cache.join(format!("keycloak-{version}"));
    if !home.join("lib/lib/main").is_dir() {
        unpack_jars(&zip, &cache, version)?;
    }
    Ok(Dist {
        version: version.to_string(),
        home,
        sha256,
    })
}

fn download(version: &str, cache: &Path) -> Result<()> {
    eprintln!("census: downloading org.keycloak:keycloak-quarkus-dist:{version}:zip with Maven...");
    let out = Command::new("mvn")
        .args(["-B", "-q"])
        .arg(format!("{}:copy", keycloak::DEPENDENCY_PLUGIN))
        .arg(format!(
            "-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:zip"
        ))
        .arg(format!("-DoutputDirectory={}", cache.display()))
        .stdin(Stdio::null())
        .output()
        .context("running `mvn` (install Maven to fetch other Keycloak versions)")?;
    if !out.status.success() {
        bail!(
            "mvn failed ({}) downloading keycloak-quarkus-dist {version}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Unpacks only the jars (`lib/` and `providers/`), through a scratch directory so a half
/// unpacked tree never looks complete.
fn unpack_jars(zip: &Path, cache: &Path, version: &str) -> Result<()> {
    let scratch = cache.join(format!(".unpack-{version}-{}", std::process::id()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    let top = format!("keycloak-{version}");
    let status = Command::new("unzip")
        .arg("-qq")
        .arg(zip)
        .arg(format!("{top}/lib/*"))
        .arg(format!("{top}/providers/*"))
        .arg("-d")
        .arg(&scratch)
        .status()
        .context("running `unzip`")?;
    // 11: a pattern matched nothing (an empty providers/ directory).
    if !matches!(status.code(), Some(0 | 11)) {
        bail!("unzip {} failed ({status})", zip.display());
    }
    let inner = scratch.join(&top);
    if !inner.join("lib/lib/main").is_dir() {
        bail!(
            "unexpected layout in {}: no {top}/lib/lib/main",
            zip.display()
        );
    }
    let home = cache.join(&top);
    if home.exists() {
        fs::remove_dir_all(&home)?;
    }
    fs::rename(&inner, &home).with_context(|| format!("moving the jars to {}", home.display()))?;
    fs::remove_dir_all(&scratch)?;
    Ok(())
}
