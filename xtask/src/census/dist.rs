//! The distributions the census reads, fetched, sha256-checked and unpacked by the one
//! launcher crate (`cloakroom_devserver::dist`) into `.cache/keycloak/`, like every other use.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use cloakroom_devserver::dist::Distribution;

pub struct Dist {
    pub version: String,
    pub home: PathBuf,
    pub sha256: String,
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

/// The distribution of `version`, fetched and unpacked when needed (only versions whose
/// sha256 the launcher crate records, or `CLOAKROOM_KEYCLOAK_SHA256`).
pub fn fetch(version: &str) -> Result<Dist> {
    if !version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        bail!("{version:?} is not a Keycloak version");
    }
    let cache = crate::repo_root().join(".cache").join("keycloak");
    let progress = |line: &str| eprintln!("census: {line}");
    let dist = Distribution::ensure(&cache, version, "", &progress)?;
    let sha256 = cloakroom_devserver::known_sha256(version)
        .map(str::to_owned)
        .or_else(|| std::env::var("CLOAKROOM_KEYCLOAK_SHA256").ok())
        .unwrap_or_default();
    Ok(Dist {
        version: version.to_string(),
        home: dist.home,
        sha256,
    })
}
