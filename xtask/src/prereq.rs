//! The system packages `cargo xtask test` needs, installed with apt-get when missing.
//!
//! Each package is found by a file it installs. As root with apt-get, the missing ones are
//! installed (one `apt-get update`, non-interactive, no recommends) and the system services
//! some of them bring (slapd, PostgreSQL, HAProxy) are stopped again: the tests start private
//! instances on free loopback ports. Otherwise the run stops before building, with the exact
//! command to run.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A Debian package and the files that show it is installed (any one is enough).
struct Package {
    name: &'static str,
    files: &'static [&'static str],
    /// The Debian system service it starts, if any.
    service: Option<&'static str>,
    why: &'static str,
}

const PACKAGES: &[Package] = &[
    Package {
        name: "chromium",
        files: &["/usr/bin/chromium"],
        service: None,
        why: "OIDC browser tests",
    },
    Package {
        name: "chromium-driver",
        files: &["/usr/bin/chromedriver"],
        service: None,
        why: "OIDC browser tests",
    },
    Package {
        name: "openssl",
        files: &["/usr/bin/openssl"],
        service: None,
        why: "test keys and certificates",
    },
    Package {
        name: "unzip",
        files: &["/usr/bin/unzip"],
        service: None,
        why: "unpacking Keycloak",
    },
    Package {
        name: "slapd",
        files: &["/usr/sbin/slapd"],
        service: Some("slapd"),
        why: "LDAP federation tests",
    },
    Package {
        name: "ldap-utils",
        files: &["/usr/bin/ldapadd"],
        service: None,
        why: "LDAP federation tests",
    },
    Package {
        name: "postgresql",
        files: &[
            "/usr/lib/postgresql/15/bin/initdb",
            "/usr/lib/postgresql/16/bin/initdb",
            "/usr/lib/postgresql/17/bin/initdb",
        ],
        service: Some("postgresql"),
        why: "Keycloak on PostgreSQL",
    },
    Package {
        name: "haproxy",
        files: &["/usr/sbin/haproxy"],
        service: Some("haproxy"),
        why: "the two-node cluster",
    },
];

/// What to do about the missing packages.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is missing.
    Nothing,
    /// Run these commands (as root, with apt-get).
    Install(Vec<Vec<String>>),
    /// Stop with this message: the user has to install them.
    Refuse(String),
}

/// Decides how to get `missing` installed: by itself when running as root with apt-get, else
/// a message with the exact command to run.
pub fn plan(missing: &[&str], is_root: bool, has_apt: bool) -> Plan {
    if missing.is_empty() {
        return Plan::Nothing;
    }
    let list = missing.join(" ");
    let install = |prefix: &[&str]| -> Vec<Vec<String>> {
        let update: Vec<&str> = [prefix, &["apt-get", "update", "-q"]].concat();
        let install: Vec<&str> = [
            prefix,
            &[
                "env",
                "DEBIAN_FRONTEND=noninteractive",
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
            ],
            missing,
        ]
        .concat();
        [update, install]
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect()
    };
    match (is_root, has_apt) {
        (true, true) => Plan::Install(install(&[])),
        (false, true) => {
            let cmds: Vec<String> = install(&["sudo"]).iter().map(|c| c.join(" ")).collect();
            Plan::Refuse(format!(
                "missing system packages: {list}. Run as root, or install them with:\n  {}\nthen run `cargo xtask test` again",
                cmds.join(" && ")
            ))
        }
        (_, false) => Plan::Refuse(format!(
            "missing system packages: {list} (Debian names), and there is no apt-get: install \
             them with your system's package manager, then run `cargo xtask test` again"
        )),
    }
}

fn installed(p: &Package) -> bool {
    p.files.iter().any(|f| Path::new(f).exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs what is missing (or fails with the command to run); prints one line either way.
pub fn ensure() -> Result<()> {
    let missing: Vec<&Package> = PACKAGES.iter().filter(|p| !installed(p)).collect();
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    let has_apt = Path::new("/usr/bin/apt-get").exists();
    match plan(&names, is_root(), has_apt) {
        Plan::Nothing => {
            println!(
                "system packages: all present ({})",
                PACKAGES
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(())
        }
        Plan::Refuse(message) => bail!("{message}"),
        Plan::Install(commands) => {
            let why: Vec<String> = missing
                .iter()
                .map(|p| format!("{} ({})", p.name, p.why))
                .collect();
            println!("system packages: installing {}", why.join(", "));
            for c in &commands {
                run_apt(c)?;
            }
            for p in &missing {
                if let Some(service) = p.service {
                    stop_service(service);
                }
            }
            let still: Vec<&str> = missing
                .iter()
                .filter(|p| !installed(p))
                .map(|p| p.name)
                .collect();
            if !still.is_empty() {
                bail!(
                    "apt-get finished but these are still missing: {}",
                    still.join(" ")
                );
            }
            println!("system packages: installed {}", names.join(" "));
            Ok(())
        }
    }
}

fn run_apt(command: &[String]) -> Result<()> {
    // Another apt-get may hold the lock (another checkout's run): wait for it.
    let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
    if let Some(i) = args.iter().position(|a| *a == "apt-get") {
        args.insert(i + 1, "-o");
        args.insert(i + 2, "DPkg::Lock::Timeout=600");
    }
    let status = Command::new(args[0])
        .args(&args[1..])
        .status()
        .with_context(|| format!("running {}", command.join(" ")))?;
    if !status.success() {
        bail!("`{}` failed ({status})", command.join(" "));
    }
    Ok(())
}

/// Stops a Debian system service a package may have started (our tests start private
/// instances on free loopback ports; the system one would hold the default port).
fn stop_service(service: &str) {
    let stopped = Command::new("service")
        .args([service, "stop"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    println!(
        "system packages: {service} system service {}",
        if stopped { "stopped" } else { "not running" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_missing_means_nothing_to_do() {
        assert_eq!(plan(&[], false, false), Plan::Nothing);
    }

    #[test]
    fn root_with_apt_installs() {
        let Plan::Install(cmds) = plan(&["chromium", "slapd"], true, true) else {
            panic!("expected an install plan");
        };
        assert_eq!(cmds[0].join(" "), "apt-get update -q");
        assert_eq!(
            cmds[1].join(" "),
            "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium slapd"
        );
    }

    #[test]
    fn not_root_gets_the_exact_command() {
        let Plan::Refuse(message) = plan(&["chromium", "chromium-driver"], false, true) else {
            panic!("expected a refusal");
        };
        assert_eq!(
            message,
            "missing system packages: chromium chromium-driver. Run as root, or install them with:\n  \
             sudo apt-get update -q && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
             --no-install-recommends chromium chromium-driver\nthen run `cargo xtask test` again"
        );
    }

    #[test]
    fn no_apt_names_the_packages() {
        let Plan::Refuse(message) = plan(&["haproxy"], true, false) else {
            panic!("expected a refusal");
        };
        assert!(message.contains("haproxy"), "{message}");
        assert!(message.contains("no apt-get"), "{message}");
    }
}
