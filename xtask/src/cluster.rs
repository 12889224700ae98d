//! `cargo xtask test --cluster` and `cargo xtask cluster start|stop|status`: the two-node
//! production-mode cluster behind HAProxy (`cloakroom_devserver::cluster`), and the tests
//! that need it (`crates/cloakroom-cli/tests/cluster`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cloakroom_devserver::cluster::{self, ClusterState};
use cloakroom_devserver::dist::Distribution;

fn progress(line: &str) {
    println!("{line}");
}

/// `.cache/keycloak/cluster.json`.
pub fn state_path() -> PathBuf {
    crate::repo_root().join(".cache/keycloak/cluster.json")
}

/// Starts the cluster from its own unpacked tree (`keycloak-<v>-cluster`: production mode's
/// build options never re-augment the tree the single test server runs from).
fn start() -> Result<ClusterState> {
    if let Ok(old) = ClusterState::read(&state_path()) {
        println!("stopping the cluster left by an earlier run");
        cluster::stop(&old, Some(&state_path()))?;
    }
    let cache = crate::repo_root().join(".cache/keycloak");
    let version = std::env::var("CLOAKROOM_KC_VERSION")
        .unwrap_or_else(|_| cloakroom_devserver::VERSION.to_string());
    let dist = Distribution::ensure(&cache, &version, "-cluster", &progress)?;
    let dir = std::env::temp_dir().join(format!("cloakroom-cluster-{}", std::process::id()));
    let t0 = Instant::now();
    let state = cluster::start(&dist, &dir, &state_path(), &progress)?;
    println!(
        "cluster ready at {} in {:.1} s: postgres {:.1} s, nodes {} s, haproxy {:.3} s",
        state.url,
        t0.elapsed().as_secs_f64(),
        state.postgres_start_seconds,
        state
            .nodes
            .iter()
            .map(|n| format!("{:.1}", n.server.start_seconds.unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" + "),
        state.haproxy_start_seconds,
    );
    Ok(state)
}

fn stop() -> Result<()> {
    match ClusterState::read(&state_path()) {
        Ok(state) => {
            cluster::stop(&state, Some(&state_path()))?;
            println!("cluster stopped");
        }
        Err(_) => println!("no cluster state at {}", state_path().display()),
    }
    Ok(())
}

/// `cargo xtask cluster start|stop`.
pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("start") => start().map(|_| ()),
        Some("stop") => stop(),
        _ => bail!("usage: cargo xtask cluster start|stop"),
    }
}

/// `cargo xtask test --cluster [-- cargo test args]`: builds the cluster test binary, starts
/// the cluster, runs that binary alone (its tests are `#[ignore]`d in the ordinary suite and
/// run here with `--include-ignored`, one at a time), stops everything, exits with the tests'
/// status. The cluster runs from its own tree (`keycloak-<v>-cluster`); nothing here needs the
/// ordinary one.
pub fn test_command(extra: &[String]) -> Result<()> {
    crate::prereq::ensure()?;
    let cargo_test = || {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(["test", "-p", "cloakroom-cli", "--test", "cluster"])
            .args(extra)
            .current_dir(crate::repo_root());
        c
    };
    // Build first: the cluster is not kept waiting for the compiler.
    let built = cargo_test()
        .arg("--no-run")
        .status()
        .context("running cargo test --no-run")?;
    if !built.success() {
        bail!("building the cluster tests failed ({built})");
    }
    let state = start()?;
    let t0 = Instant::now();
    let status = cargo_test()
        .args(["--", "--include-ignored", "--test-threads=1"])
        .env("CLOAKROOM_CLUSTER_STATE", state_path())
        .status()
        .context("running cargo test");
    println!(
        "cluster tests finished in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    // The tests may have restarted a node: read the state again.
    let state = ClusterState::read(&state_path()).unwrap_or(state);
    cluster::stop(&state, Some(&state_path()))?;
    println!("cluster stopped");
    let status = status?;
    std::process::exit(status.code().unwrap_or(1))
}
