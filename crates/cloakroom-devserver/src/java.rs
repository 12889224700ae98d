//! The JDK to run Keycloak with: Temurin 25 when installed (what Keycloak 26.7 recommends),
//! else `JAVA_HOME`, else `java` on `PATH`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::error::{Context, bail};
use crate::process::which;

/// A chosen JDK.
#[derive(Debug, Clone)]
pub struct Java {
    /// Its home (`JAVA_HOME`), when known.
    pub home: Option<PathBuf>,
    /// The `java` binary.
    pub bin: PathBuf,
    /// Where it came from and `java -version`'s first line.
    pub description: String,
}

impl Java {
    /// Sets `JAVA` and `JAVA_HOME` for `kc.sh` (or removes a stale `JAVA_HOME`).
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("JAVA", &self.bin);
        match &self.home {
            Some(h) => cmd.env("JAVA_HOME", h),
            None => cmd.env_remove("JAVA_HOME"),
        };
    }
}

fn temurin_25(jvm: &Path) -> Option<PathBuf> {
    let mut homes: Vec<PathBuf> = fs::read_dir(jvm)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("temurin-25"))
                && p.join("bin/java").is_file()
        })
        .collect();
    homes.sort();
    let preferred = jvm.join("temurin-25-jdk-amd64");
    if homes.contains(&preferred) {
        return Some(preferred);
    }
    homes.into_iter().next()
}

/// Chooses the JDK as described in the module doc.
pub fn choose() -> Result<Java> {
    let (home, bin, source) = if let Some(home) = temurin_25(Path::new("/usr/lib/jvm")) {
        (Some(home.clone()), home.join("bin/java"), "Temurin 25")
    } else if let Some(home) = std::env::var_os("JAVA_HOME")
        .map(PathBuf::from)
        .filter(|h| h.join("bin/java").is_file())
    {
        (Some(home.clone()), home.join("bin/java"), "JAVA_HOME")
    } else if let Some(bin) = which("java") {
        (None, bin, "java on PATH")
    } else {
        bail!(
            "no Java found: install a JDK 17+ (Temurin 25 is the one Keycloak {} recommends) \
             or set JAVA_HOME",
            crate::VERSION
        );
    };
    let out = Command::new(&bin)
        .arg("-version")
        .output()
        .ctx(|| format!("running {} -version", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("unknown version")
        .to_string();
    Ok(Java {
        description: format!("{} ({source}: {version})", bin.display()),
        home,
        bin,
    })
}
