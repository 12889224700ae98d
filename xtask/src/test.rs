//! `cargo xtask test` and `cargo xtask demo`: a command run against a real Keycloak that this
//! invocation starts (or reuses) and stops.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::keycloak::{Wanted, ensure_started_with, state_path};

/// `cargo xtask test [--db h2|postgres] [--version V] [--matrix] [-- cargo test args]`: installs
/// missing system packages, then `cargo test --workspace --all-features` against a real Keycloak
/// of that version on that database; exits with cargo test's status. In CI (`CI=true`, no
/// arguments) the compatibility suite follows on the older versions, and `--matrix` runs the
/// full suite on every version of the matrix (see `crate::matrix`).
///
/// The tests' clients log every exchange to `target/cloakroom-oplog/` and this command records
/// each test's outcome there (`results.txt`), for `cargo xtask coverage`.
pub fn test_command(args: &[String]) -> Result<()> {
    if let Some(at) = args.iter().position(|a| a == "--cluster") {
        let rest: Vec<String> = args[..at].iter().chain(&args[at + 1..]).cloned().collect();
        return crate::cluster::test_command(strip_separator(&rest));
    }
    let mut wanted = Wanted::from_env()?;
    let args = wanted.parse(args)?;
    let (matrix, args) = crate::matrix::take_flag(&args, "--matrix");
    let extra = strip_separator(&args);
    crate::prereq::ensure()?;
    if matrix {
        return crate::matrix::run_matrix(&wanted, extra);
    }
    let status = run_suite(&wanted, extra, &crate::coverage::oplog_dir())?;
    if !status.success() || !crate::matrix::compat_wanted(&args) {
        exit_with(status);
    }
    exit_with(crate::matrix::run_compat(&wanted)?)
}

/// One run of `cargo test --workspace --all-features <extra>` against a server as `wanted`,
/// with the operation log and test outcomes in `oplog` (emptied first).
pub fn run_suite(wanted: &Wanted, extra: &[String], oplog: &Path) -> Result<ExitStatus> {
    let _ = fs::remove_dir_all(oplog);
    fs::create_dir_all(oplog).with_context(|| format!("creating {}", oplog.display()))?;
    let mut cmd = Command::new(cargo());
    cmd.args(["test", "--no-fail-fast", "--workspace", "--all-features"])
        .args(extra)
        .env("CLOAKROOM_OPLOG_DIR", oplog)
        // The server is thrown away after the run: tests keep their realms (see
        // `support::kc::delete_realm` for why deleting them mid-run is avoided).
        .env("CLOAKROOM_TEST_KEEP_REALMS", "1")
        .current_dir(crate::repo_root());
    // OpenLDAP for the user-federation tests: one private slapd for the whole run.
    let mut ldap = crate::slapd::Slapd::start(&crate::repo_root().join(".cache"))?;
    println!("slapd ready at {} (pid {:?})", ldap.url, ldap.pid());
    cmd.envs(ldap.env());
    let results = oplog.join("results.txt");
    with_server_run(wanted, cmd, move |cmd| {
        let status = run_recording_results(cmd, &results);
        if let Err(e) = ldap.stop() {
            eprintln!("slapd: stopping: {e:#}");
        }
        status
    })
}

/// Runs `cmd`, passing its output through, and writes libtest's result lines to `results`.
fn run_recording_results(cmd: &mut Command, results: &Path) -> std::io::Result<ExitStatus> {
    use std::io::{BufRead, BufReader, Write};
    let mut child = cmd.stdout(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut out = fs::File::create(results)?;
    let mut console = std::io::stdout();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        writeln!(console, "{line}")?;
        if let Some(r) = crate::coverage::result_line(&line) {
            writeln!(out, "{r}")?;
        }
    }
    child.wait()
}

/// `cargo xtask demo [-- example args]`: runs the `quickstart` example against a real Keycloak,
/// or against `CLOAKROOM_URL` when that is set.
pub fn demo_command(args: &[String]) -> Result<()> {
    let mut wanted = Wanted::from_env()?;
    let args = wanted.parse(args)?;
    let extra = strip_separator(&args);
    let mut cmd = Command::new(cargo());
    cmd.args(["run", "-q", "-p", "cloakroom", "--example", "quickstart"])
        .current_dir(crate::repo_root());
    if !extra.is_empty() {
        cmd.arg("--").args(extra);
    }
    if std::env::var_os("CLOAKROOM_URL").is_some_and(|v| !v.is_empty()) {
        println!("CLOAKROOM_URL is set: running the example against it");
        let status = cmd.status().context("running cargo")?;
        exit_with(status);
    }
    with_server(&wanted, cmd)
}

/// Start (or reuse) a server, run `cmd` with its coordinates in the environment, stop the
/// server if this invocation started it (also on failure; on Ctrl-C the watchdog does it),
/// and exit with `cmd`'s status.
fn with_server(wanted: &Wanted, cmd: Command) -> Result<()> {
    exit_with(with_server_run(wanted, cmd, |c| c.status())?)
}

/// The last server of this process: (reused, its start time in seconds).
static LAST_START: std::sync::Mutex<Option<(bool, f64)>> = std::sync::Mutex::new(None);

/// (reused, start seconds) of the server of the last [`run_suite`].
pub fn last_start() -> Option<(bool, f64)> {
    LAST_START.lock().ok().and_then(|l| *l)
}

/// [`with_server`] with a custom way to run the command; returns its status.
fn with_server_run(
    wanted: &Wanted,
    mut cmd: Command,
    run: impl FnOnce(&mut Command) -> std::io::Result<ExitStatus>,
) -> Result<ExitStatus> {
    let server = ensure_started_with(wanted)?;
    let s = &server.state;
    if let Ok(mut last) = LAST_START.lock() {
        *last = Some((server.reused, s.start_seconds.unwrap_or_default()));
    }
    if !server.reused {
        println!(
            "keycloak {} ({}) ready at {} in {:.1} s",
            s.version,
            s.db,
            s.url,
            s.start_seconds.unwrap_or_default()
        );
    }
    cmd.env("CLOAKROOM_TEST_STATE", state_path())
        .env("CLOAKROOM_TEST_URL", &s.url)
        .env("CLOAKROOM_TEST_MGMT_URL", &s.management_url)
        .env("CLOAKROOM_TEST_ADMIN_USER", &s.admin_username)
        .env("CLOAKROOM_TEST_ADMIN_PASSWORD", &s.admin_password)
        .env("CLOAKROOM_TEST_DB", &s.db)
        .env("CLOAKROOM_KC_VERSION", &s.version)
        // For examples and the CLI.
        .env("CLOAKROOM_URL", &s.url)
        .env("CLOAKROOM_ADMIN_USER", &s.admin_username)
        .env("CLOAKROOM_ADMIN_PASSWORD", &s.admin_password);
    let t0 = Instant::now();
    let result = run(&mut cmd);
    println!("command finished in {:.1} s", t0.elapsed().as_secs_f64());
    let stopped = server.stop_if_owned();
    let status = result.context("running the command")?;
    stopped?;
    Ok(status)
}

pub fn exit_with(status: ExitStatus) -> ! {
    std::process::exit(status.code().unwrap_or(1))
}

fn strip_separator(args: &[String]) -> &[String] {
    match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}
