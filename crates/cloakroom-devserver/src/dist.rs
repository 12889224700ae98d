//! The Keycloak distribution: `org.keycloak:keycloak-quarkus-dist:<version>:zip` fetched with
//! Maven (which copies it from `~/.m2` when it is there), its sha256 checked against the one
//! recorded for the version, and unpacked through a scratch directory so a half-unpacked tree
//! never looks complete.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Context, bail};
use crate::process::which;
use crate::{Error, Result};

/// Never rely on Maven's super-POM default (2.8 in Maven 3.8.7, which has no `-Dartifact`).
const DEPENDENCY_PLUGIN: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

/// Where human progress lines go (stderr for the CLI, stdout for xtask, nowhere when quiet).
pub type Progress<'a> = &'a dyn Fn(&str);

/// An unpacked distribution.
#[derive(Debug, Clone)]
pub struct Distribution {
    pub version: String,
    /// The directory holding `bin/kc.sh`.
    pub home: PathBuf,
}

fn is_unpacked(home: &Path) -> bool {
    home.join("bin/kc.sh").is_file() && home.join("lib/quarkus-run.jar").is_file()
}

/// The expected sha256: the recorded one, or `CLOAKROOM_KEYCLOAK_SHA256` for another version.
fn expected_sha256(version: &str) -> Result<String> {
    if let Some(sha) = crate::known_sha256(version) {
        return Ok(sha.to_string());
    }
    match std::env::var("CLOAKROOM_KEYCLOAK_SHA256") {
        Ok(sha) if !sha.trim().is_empty() => Ok(sha.trim().to_ascii_lowercase()),
        _ => {
            let known: Vec<&str> = crate::KNOWN_VERSIONS.iter().map(|(v, _)| *v).collect();
            bail!(
                "no sha256 is recorded for keycloak-quarkus-dist {version} (known: {}): set \
                 CLOAKROOM_KEYCLOAK_SHA256 to the zip's sha256 to use it",
                known.join(", ")
            )
        }
    }
}

impl Distribution {
    /// An already unpacked distribution (e.g. `CLOAKROOM_KEYCLOAK_HOME`).
    pub fn at(home: &Path, version: &str) -> Result<Distribution> {
        if !home.join("bin/kc.sh").is_file() {
            bail!("{} has no bin/kc.sh", home.display());
        }
        Ok(Distribution {
            version: version.to_string(),
            home: home.to_path_buf(),
        })
    }

    /// Fetches, checks and unpacks `version` into `<cache>/keycloak-<version><flavour>` unless
    /// it is unpacked there already. A flavour (e.g. `-postgres`) keeps a separate tree for
    /// other build options, so runs with different options never re-augment each other's.
    pub fn ensure(cache: &Path, version: &str, flavour: &str, progress: Progress) -> Result<Self> {
        let home = cache.join(format!("keycloak-{version}{flavour}"));
        if is_unpacked(&home) {
            return Ok(Distribution {
                version: version.to_string(),
                home,
            });
        }
        let expected = expected_sha256(version)?;
        fs::create_dir_all(cache).ctx(|| format!("creating {}", cache.display()))?;
        let zip = cache.join(format!("keycloak-quarkus-dist-{version}.zip"));
        if zip.is_file() && sha256(&zip)? != expected {
            progress(&format!(
                "{} has the wrong sha256: fetching it again",
                zip.display()
            ));
            fs::remove_file(&zip).ctx(|| format!("removing {}", zip.display()))?;
        }
        if !zip.is_file() {
            download(cache, version, progress)?;
            let sum = sha256(&zip)?;
            if sum != expected {
                bail!(
                    "{} has sha256 {sum}, expected {expected}. Maven copies from ~/.m2 when the \
                     artifact is there: remove ~/.m2/repository/org/keycloak/keycloak-quarkus-dist/{version} \
                     and {} and try again",
                    zip.display(),
                    zip.display()
                );
            }
            progress(&format!("sha256 ok: {sum}"));
        }
        unpack(&zip, cache, version, &home, progress)?;
        Ok(Distribution {
            version: version.to_string(),
            home,
        })
    }

    /// A private copy under `dir` (for build options the shared tree must not get).
    pub fn copy_to(&self, dir: &Path) -> Result<Distribution> {
        let home = dir.join(format!("keycloak-{}", self.version));
        let status = Command::new("cp")
            .arg("-a")
            .arg(&self.home)
            .arg(&home)
            .status()
            .ctx(|| "running cp")?;
        if !status.success() {
            bail!(
                "cp -a {} {} failed ({status})",
                self.home.display(),
                home.display()
            );
        }
        Ok(Distribution {
            version: self.version.clone(),
            home,
        })
    }
}

/// Runs Maven in batch mode (no colour escapes), its output kept for errors only, with a
/// progress line every 15 s.
fn download(cache: &Path, version: &str, progress: Progress) -> Result<()> {
    let Some(mvn) = which("mvn") else {
        bail!(
            "`mvn` is not on PATH: install Maven (e.g. `apt-get install maven`) to download \
             org.keycloak:keycloak-quarkus-dist:{version}:zip, or put keycloak-quarkus-dist-{version}.zip \
             into {}",
            cache.display()
        );
    };
    let log_path = cache.join(format!(".mvn-{}.log", std::process::id()));
    let log = fs::File::create(&log_path).ctx(|| format!("creating {}", log_path.display()))?;
    progress(&format!(
        "fetching org.keycloak:keycloak-quarkus-dist:{version}:zip with Maven..."
    ));
    let t0 = Instant::now();
    let mut child = Command::new(mvn)
        .args(["-B", "-q", "-Dstyle.color=never"])
        .arg(format!("{DEPENDENCY_PLUGIN}:copy"))
        .arg(format!(
            "-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:zip"
        ))
        .arg(format!("-DoutputDirectory={}", cache.display()))
        .env("MAVEN_OPTS", "-Djansi.passthrough=false")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .ctx(|| "running mvn")?;
    let mut last = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if last.elapsed() >= Duration::from_secs(15) {
            progress(&format!(
                "  still fetching ({:.0} s)",
                t0.elapsed().as_secs_f64()
            ));
            last = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let output = fs::read_to_string(&log_path).unwrap_or_default();
    let _ = fs::remove_file(&log_path);
    if !status.success() {
        return Err(Error::new(format!(
            "mvn failed ({status}) fetching keycloak-quarkus-dist {version}:\n{output}"
        )));
    }
    if !cache
        .join(format!("keycloak-quarkus-dist-{version}.zip"))
        .is_file()
    {
        bail!(
            "mvn finished but keycloak-quarkus-dist-{version}.zip is not in {}",
            cache.display()
        );
    }
    progress(&format!("fetched in {:.1} s", t0.elapsed().as_secs_f64()));
    Ok(())
}

/// The file's sha256 in lower-case hex, with `sha256sum` (or `shasum -a 256`).
pub fn sha256(file: &Path) -> Result<String> {
    let attempts: [(&str, &[&str]); 2] = [("sha256sum", &[]), ("shasum", &["-a", "256"])];
    for (tool, args) in attempts {
        if which(tool).is_none() {
            continue;
        }
        let out = Command::new(tool)
            .args(args)
            .arg(file)
            .output()
            .ctx(|| format!("running {tool}"))?;
        if !out.status.success() {
            bail!(
                "{tool} {} failed: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if let Some(sum) = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
        {
            return Ok(sum.to_ascii_lowercase());
        }
    }
    bail!("neither `sha256sum` nor `shasum` is on PATH: cannot verify the download")
}

fn unzip_command(zip: &Path, scratch: &Path) -> Result<Command> {
    if which("unzip").is_some() {
        let mut c = Command::new("unzip");
        c.arg("-q").arg(zip).arg("-d").arg(scratch);
        Ok(c)
    } else if which("python3").is_some() {
        let mut c = Command::new("python3");
        c.args(["-m", "zipfile", "-e"]).arg(zip).arg(scratch);
        Ok(c)
    } else if which("jar").is_some() {
        let mut c = Command::new("jar");
        c.arg("xf").arg(fs::canonicalize(zip)?).current_dir(scratch);
        Ok(c)
    } else {
        bail!(
            "cannot unpack {}: install `unzip` (or python3, or a JDK's `jar`)",
            zip.display()
        )
    }
}

fn unpack(zip: &Path, cache: &Path, version: &str, home: &Path, progress: Progress) -> Result<()> {
    let scratch = cache.join(format!(".unpack-{}", std::process::id()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    fs::create_dir_all(&scratch)?;
    let t0 = Instant::now();
    let ran = unzip_command(zip, &scratch)?
        .status()
        .ctx(|| format!("unpacking {}", zip.display()))?;
    if !ran.success() {
        bail!("unpacking {} failed ({ran})", zip.display());
    }
    let inner = scratch.join(format!("keycloak-{version}"));
    if !is_unpacked(&inner) {
        bail!(
            "unexpected zip layout: {} has no bin/kc.sh (see {})",
            inner.display(),
            scratch.display()
        );
    }
    // python's zipfile and jar drop the permission bits.
    for entry in fs::read_dir(inner.join("bin"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sh") {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
    }
    if home.exists() {
        // A partial tree left by someone else: replace it.
        fs::remove_dir_all(home).ctx(|| format!("removing {}", home.display()))?;
    }
    fs::rename(&inner, home).ctx(|| format!("moving the tree to {}", home.display()))?;
    fs::remove_dir_all(&scratch)?;
    progress(&format!(
        "keycloak {version} unpacked at {} in {:.1} s",
        home.display(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_version_has_a_sha256() {
        for (version, sha) in crate::KNOWN_VERSIONS {
            assert_eq!(expected_sha256(version).unwrap(), *sha);
            assert_eq!(sha.len(), 64, "{version}");
        }
    }

    #[test]
    fn an_unrecorded_version_is_refused_before_any_download() {
        let dir = std::env::temp_dir().join(format!("cloakroom-dist-test-{}", std::process::id()));
        let e = Distribution::ensure(&dir, "0.0.1", "", &|_| {}).unwrap_err();
        assert!(e.to_string().contains("no sha256 is recorded"), "{e}");
        assert!(!dir.exists(), "nothing is written for a refused version");
    }
}
