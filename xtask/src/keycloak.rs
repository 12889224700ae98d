//! `cargo xtask keycloak fetch|start|stop|status`, on the launcher crate `cloakroom-devserver`.
//!
//! A real Keycloak (the Quarkus distribution from Maven Central) runs in dev mode on loopback
//! ports, with a fresh database per run: H2 under `.cache/keycloak/run/<id>/data/`, or a
//! private PostgreSQL cluster (`--db postgres`). Each version and database gets its own
//! unpacked tree under `.cache/keycloak/`, never written to by a run (the build options stay
//! the same, so `kc.sh` does not re-augment).
//!
//! What a run needs to know is in `.cache/keycloak/state.json` ([`State`]).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
pub use cloakroom_devserver::State;
use cloakroom_devserver::dist::Distribution;
use cloakroom_devserver::keycloak::{self as kc, Db, ServerOptions};
use cloakroom_devserver::postgres::Postgres;

/// A server for a task: the launcher's [`cloakroom_devserver::Server`] with anyhow errors.
pub struct Server(cloakroom_devserver::Server);

impl std::ops::Deref for Server {
    type Target = cloakroom_devserver::Server;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Server {
    /// Stops the server if this invocation started it; a reused one keeps running.
    pub fn stop_if_owned(self) -> Result<()> {
        Ok(self.0.stop_if_owned()?)
    }

    /// Leaves the server running; returns its state.
    pub fn detach(self) -> State {
        self.0.detach()
    }
}

const USAGE: &str = "usage: cargo xtask keycloak <fetch|start|stop|status> [--db h2|postgres] [--version V]

  fetch    download keycloak-quarkus-dist with Maven into .cache/keycloak, check its sha256, unpack it
  start    start (or reuse) a dev-mode server on free loopback ports; writes .cache/keycloak/state.json
  stop     stop the server named in the state file (its whole process group, and its PostgreSQL)
  status   print the state file; exit 0 when /health/ready answers 200, 1 otherwise

options:
  --db h2|postgres   the database (default h2, or CLOAKROOM_TEST_DB); postgres runs a private
                     Debian PostgreSQL cluster in a temporary directory
  --version V        a keycloak-quarkus-dist version with a recorded sha256 (default {VERSION},
                     or CLOAKROOM_KC_VERSION): {KNOWN}

environment:
  CLOAKROOM_KC_HTTP_PORT, CLOAKROOM_KC_MGMT_PORT   fixed ports instead of free ones
  CLOAKROOM_KC_START_TIMEOUT                      seconds to wait for readiness (default 300)
  KC_BOOTSTRAP_ADMIN_USERNAME, KC_BOOTSTRAP_ADMIN_PASSWORD   admin account (default admin/admin)
  JAVA_OPTS_KC_HEAP                               heap options (default -Xms256m -Xmx1g)";

fn usage() -> String {
    let known: Vec<&str> = cloakroom_devserver::KNOWN_VERSIONS
        .iter()
        .map(|(v, _)| *v)
        .collect();
    USAGE
        .replace("{VERSION}", cloakroom_devserver::VERSION)
        .replace("{KNOWN}", &known.join(", "))
}

/// Which server to start: version and database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub version: String,
    /// `dev-file` (H2) or `postgres`.
    pub db: String,
}

impl Wanted {
    /// From the environment (`CLOAKROOM_KC_VERSION`, `CLOAKROOM_TEST_DB`), else the defaults.
    pub fn from_env() -> Result<Wanted> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let mut w = Wanted {
            version: cloakroom_devserver::VERSION.to_string(),
            db: "dev-file".into(),
        };
        if let Some(v) = var("CLOAKROOM_KC_VERSION") {
            w.version = v.trim().to_string();
        }
        if let Some(db) = var("CLOAKROOM_TEST_DB") {
            w.set_db(&db)?;
        }
        Ok(w)
    }

    fn set_db(&mut self, db: &str) -> Result<()> {
        self.db = match db.trim() {
            "h2" | "dev-file" => "dev-file".into(),
            "postgres" | "postgresql" => "postgres".into(),
            other => bail!("unknown database `{other}`: use h2 or postgres"),
        };
        Ok(())
    }

    /// Takes `--db X` and `--version V` out of `args`; returns the rest.
    pub fn parse(&mut self, args: &[String]) -> Result<Vec<String>> {
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--" => {
                    rest.push(a.clone());
                    rest.extend(it.cloned());
                    break;
                }
                "--db" => self.set_db(it.next().context("--db needs h2 or postgres")?)?,
                "--version" => {
                    self.version = it.next().context("--version needs a version")?.clone();
                }
                _ => rest.push(a.clone()),
            }
        }
        Ok(rest)
    }

    fn flavour(&self) -> &'static str {
        if self.db == "postgres" {
            "-postgres"
        } else {
            ""
        }
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let mut wanted = Wanted::from_env()?;
    let rest = wanted.parse(args)?;
    match rest.first().map(String::as_str) {
        Some("fetch") => fetch(&wanted).map(drop),
        Some("start") => {
            let server = ensure_started_with(&wanted)?;
            if !server.reused {
                let state = server.detach();
                println!(
                    "keycloak {} ({}) ready at {} (management {}), started in {:.1} s",
                    state.version,
                    state.db,
                    state.url,
                    state.management_url,
                    state.start_seconds.unwrap_or_default()
                );
                println!("log: {}", state.log.display());
                println!("stop it with: cargo xtask keycloak stop");
            }
            Ok(())
        }
        Some("stop") => stop_from_state_file(),
        Some("status") => status(),
        Some("-h" | "--help" | "help") => {
            println!("{}", usage());
            Ok(())
        }
        _ => bail!("{}", usage()),
    }
}

fn cache_dir() -> PathBuf {
    crate::repo_root().join(".cache").join("keycloak")
}

/// `.cache/keycloak/state.json`: what a running server is and how to reach it.
pub fn state_path() -> PathBuf {
    cache_dir().join("state.json")
}

fn progress(line: &str) {
    println!("{line}");
}

/// Fetches and unpacks the distribution unless it is already unpacked.
fn fetch(wanted: &Wanted) -> Result<Distribution> {
    let dist = Distribution::ensure(&cache_dir(), &wanted.version, wanted.flavour(), &progress)?;
    println!(
        "keycloak {} is unpacked at {}",
        dist.version,
        dist.home.display()
    );
    Ok(dist)
}

/// [`ensure_started_with`] for the server the environment asks for.
pub fn ensure_started() -> Result<Server> {
    ensure_started_with(&Wanted::from_env()?)
}

/// Reuses the server in the state file when it is the wanted one, alive and ready; else stops
/// it and starts a new one.
pub fn ensure_started_with(wanted: &Wanted) -> Result<Server> {
    if let Some(state) = State::read(&state_path())? {
        let same = state.version == wanted.version && state.db == wanted.db;
        if same && kc::is_running_and_ready(&state) {
            println!(
                "keycloak {} ({}) is already running and ready at {} (pid {}): reusing it",
                state.version, state.db, state.url, state.pid
            );
            return Ok(Server(cloakroom_devserver::Server::reuse(state)));
        }
        if kc::is_running(&state) {
            eprintln!(
                "stopping the server in {} (pid {}, keycloak {} on {}): {}",
                state_path().display(),
                state.pid,
                state.version,
                state.db,
                if same {
                    "alive but not ready"
                } else {
                    "another version or database was asked for"
                }
            );
        }
        kc::stop(&state, Some(&state_path()))?;
        let _ = std::fs::remove_file(state_path());
    }
    start_new(wanted)
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn port_from_env(name: &str) -> Result<u16> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u16>()
            .with_context(|| format!("{name}={v} is not a port number")),
        _ => Ok(0),
    }
}

fn start_new(wanted: &Wanted) -> Result<Server> {
    let dist = fetch(wanted)?;
    let run_id = format!(
        "{}-{}",
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs(),
        std::process::id()
    );
    let run_dir = cache_dir().join("run").join(run_id);
    let mut opts = ServerOptions::new(dist, &run_dir);
    opts.http_port = port_from_env("CLOAKROOM_KC_HTTP_PORT")?;
    opts.management_port = port_from_env("CLOAKROOM_KC_MGMT_PORT")?;
    opts.admin_username = env_or("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
    opts.admin_password = env_or("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
    opts.heap = env_or("JAVA_OPTS_KC_HEAP", "-Xms256m -Xmx1g");
    opts.state_file = Some(state_path());
    // The per-run data goes with the server; the log stays.
    opts.remove_on_stop = Some(run_dir.join("data"));
    let timeout = env_or("CLOAKROOM_KC_START_TIMEOUT", "300");
    opts.timeout = std::time::Duration::from_secs(timeout.trim().parse().with_context(|| {
        format!("CLOAKROOM_KC_START_TIMEOUT={timeout} is not a number of seconds")
    })?);
    if wanted.db == "postgres" {
        opts.db = Db::Postgres(Postgres::start(&progress)?);
    }
    Ok(Server(opts.start(&progress)?))
}

fn stop_from_state_file() -> Result<()> {
    match State::read(&state_path())? {
        None => {
            println!(
                "no state file ({}): no server started by xtask to stop",
                state_path().display()
            );
            Ok(())
        }
        Some(state) => {
            let how = kc::stop(&state, Some(&state_path()))?;
            println!("keycloak (pid {}): {how:?}", state.pid);
            Ok(())
        }
    }
}

fn status() -> Result<()> {
    let Some(state) = State::read(&state_path())? else {
        bail!(
            "no state file ({}): start a server with `cargo xtask keycloak start`",
            state_path().display()
        );
    };
    let mut shown = serde_json::to_value(&state)?;
    shown["admin_password"] = "<redacted>".into();
    if let Some(pg) = shown.get_mut("postgres").filter(|p| p.is_object()) {
        pg["password"] = "<redacted>".into();
    }
    println!("{}", serde_json::to_string_pretty(&shown)?);
    let alive = kc::is_running(&state);
    let ready = alive && kc::is_running_and_ready(&state);
    println!(
        "process group {}: {}",
        state.pid,
        if alive { "alive" } else { "gone" }
    );
    println!(
        "{}/health/ready: {}",
        state.management_url,
        if ready { "ready" } else { "NOT ready" }
    );
    if ready {
        Ok(())
    } else {
        bail!("keycloak is not ready")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_and_version_flags_are_taken_out() {
        let mut w = Wanted {
            version: "26.7.3".into(),
            db: "dev-file".into(),
        };
        let args: Vec<String> = ["--db", "postgres", "--version", "26.4.7", "--", "-p", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(w.parse(&args).unwrap(), ["--", "-p", "x"]);
        assert_eq!(w.db, "postgres");
        assert_eq!(w.version, "26.4.7");
        assert!(w.parse(&["--db".into(), "mysql".into()]).is_err());
    }
}
