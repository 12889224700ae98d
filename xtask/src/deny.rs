//! `cargo xtask deny`: dependency checks with cargo-deny (configuration in `deny.toml`).
//!
//! 1. Installs cargo-deny [`VERSION`] with `cargo install --locked` into `.cache/tools`
//!    (skipped when `.cache/tools/bin/cargo-deny --version` already reports that version).
//! 2. Always runs `cargo deny --all-features check licenses bans sources`; failure fails the task.
//! 3. Tries once to fetch the RustSec advisory database (`cargo deny fetch db`, bounded by
//!    [`FETCH_TIMEOUT`]); when that works, runs `check advisories` against it (failure fails
//!    the task), otherwise prints one line `advisories skipped: advisory database unreachable
//!    (<reason>)` and carries on.
//!
//! Only the root workspace is checked; `bench/rust` is a separate cargo project.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The pinned cargo-deny version (0.20.2 needs rustc >= 1.88).
pub const VERSION: &str = "0.20.2";
/// How long the one attempt to fetch the advisory database may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

const USAGE: &str = "usage: cargo xtask deny

  installs cargo-deny {VERSION} into .cache/tools (once), then runs
    cargo deny --all-features check licenses bans sources
  and `check advisories` when the advisory database can be fetched (skipped with one line
  otherwise). Configuration: deny.toml";

pub fn run(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        if arg == "-h" || arg == "--help" {
            println!("{}", USAGE.replace("{VERSION}", VERSION));
            return Ok(());
        }
        bail!(
            "unexpected argument {arg:?}\n{}",
            USAGE.replace("{VERSION}", VERSION)
        );
    }
    let root = crate::repo_root();
    let deny = ensure_installed(&root)?;

    let started = Instant::now();
    let status = deny_command(&deny, &root)
        .args([
            "--all-features",
            "--locked",
            "check",
            "licenses",
            "bans",
            "sources",
        ])
        .status()
        .with_context(|| format!("running {}", deny.display()))?;
    if !status.success() {
        bail!("cargo deny check licenses bans sources failed ({status})");
    }
    println!(
        "cargo-deny {VERSION}: licenses, bans, sources ok ({:.1} s)",
        started.elapsed().as_secs_f64()
    );

    match fetch_advisory_db(&deny, &root) {
        Err(reason) => {
            println!("advisories skipped: advisory database unreachable ({reason})");
        }
        Ok(()) => {
            let started = Instant::now();
            // `--offline`: use the database just fetched, do not fetch it a second time.
            let status = deny_command(&deny, &root)
                .args([
                    "--all-features",
                    "--locked",
                    "--offline",
                    "check",
                    "advisories",
                ])
                .status()
                .with_context(|| format!("running {}", deny.display()))?;
            if !status.success() {
                bail!("cargo deny check advisories failed ({status})");
            }
            println!(
                "cargo-deny {VERSION}: advisories ok ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// `.cache/tools/bin/cargo-deny` at [`VERSION`], installed with `cargo install` if needed.
fn ensure_installed(root: &Path) -> Result<PathBuf> {
    let tools = root.join(".cache/tools");
    let bin = tools.join("bin/cargo-deny");
    let installed = installed_version(&bin);
    if installed.as_deref() == Some(VERSION) {
        return Ok(bin);
    }
    match &installed {
        Some(v) => println!("cargo-deny {v} in .cache/tools; installing {VERSION}"),
        None => println!("installing cargo-deny {VERSION} into .cache/tools (takes a few minutes)"),
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .args([
            "install",
            "cargo-deny",
            "--locked",
            "--version",
            VERSION,
            "--root",
        ])
        .arg(&tools)
        .stdin(Stdio::null())
        .status()
        .context("running cargo install cargo-deny")?;
    if !status.success() {
        bail!("cargo install cargo-deny --version {VERSION} failed ({status})");
    }
    match installed_version(&bin) {
        Some(v) if v == VERSION => {}
        other => bail!(
            "after cargo install, {} reports version {other:?}, expected {VERSION}",
            bin.display()
        ),
    }
    println!(
        "installed cargo-deny {VERSION} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(bin)
}

/// The version `bin --version` reports (`cargo-deny 0.20.2`), or `None` when it cannot run.
fn installed_version(bin: &Path) -> Option<String> {
    let out = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_owned)
}

/// cargo-deny run from the repository root with its `deny.toml`.
fn deny_command(deny: &Path, root: &Path) -> Command {
    let mut c = Command::new(deny);
    c.current_dir(root)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null());
    c
}

/// One attempt at `cargo deny fetch db`, at most [`FETCH_TIMEOUT`]; `Err(reason)` otherwise.
fn fetch_advisory_db(deny: &Path, root: &Path) -> std::result::Result<(), String> {
    let mut cmd = deny_command(deny, root);
    cmd.args(["fetch", "db"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout also ends the `git` it runs.
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run cargo-deny: {e}"))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + FETCH_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                // Negative pid: the whole group (cargo-deny and its git). procps `kill` needs
                // the `--`: `kill -KILL -PID` leaves the group alive.
                let _ = Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                return Err(format!("no answer within {} s", FETCH_TIMEOUT.as_secs()));
            }
            Err(e) => return Err(format!("waiting for cargo-deny: {e}")),
        }
    };
    let text = reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(failure_reason(&text).unwrap_or_else(|| format!("cargo deny fetch db: {status}")))
    }
}

/// The most specific line of a failed fetch: git's `fatal: unable to access '<url>': <why>`
/// becomes `<why>`; otherwise the last `[ERROR]` line.
fn failure_reason(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(fatal) = lines.iter().rev().find_map(|l| l.strip_prefix("fatal: ")) {
        let why = fatal.rsplit_once("': ").map_or(fatal, |(_, why)| why);
        return Some(why.trim().to_owned());
    }
    lines.iter().rev().find_map(|l| {
        l.split_once("[ERROR] ")
            .map(|(_, msg)| msg.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::failure_reason;

    #[test]
    fn reason_from_git_fatal_line() {
        let stderr = "2026-11-25 06:17:59 [ERROR] failed to fetch database: failed to clone\n\
                      Cloning into '/root/.cargo/advisory-dbs/advisory-db-3157b0e258782691'...\n\
                      fatal: unable to access 'https://github.com/RustSec/advisory-db/': \
                      Could not resolve host: github.com\n\n";
        assert_eq!(
            failure_reason(stderr).as_deref(),
            Some("Could not resolve host: github.com")
        );
    }

    #[test]
    fn reason_from_error_line() {
        let stderr = "2026-11-25 06:17:59 [ERROR] failed to fetch database: timed out\n";
        assert_eq!(
            failure_reason(stderr).as_deref(),
            Some("failed to fetch database: timed out")
        );
        assert_eq!(failure_reason(""), None);
    }
}
