//! Project tasks: `cargo xtask <task>`.
//!
//! - `keycloak fetch|start|stop|status [--db h2|postgres] [--version V]` — a real Keycloak
//!   (default 26.7.3 on H2) for development and tests, launched by `crates/cloakroom-devserver`
//! - `codegen [--check] [--spec FILE] [--out DIR]` — generate the Admin API from `spec/`
//! - `test [--db h2|postgres] [--version V] [--matrix] [-- cargo test args]` — install missing system
//!   packages, then `cargo test --workspace --all-features` against a real Keycloak
//! - `test --cluster [-- cargo test args]`, `cluster start|stop` — two production-mode nodes on
//!   PostgreSQL behind HAProxy, and the tests that need them
//! - `demo [-- args]` — the `quickstart` example against a real Keycloak (or `$CLOAKROOM_URL`)
//! - `coverage` — write `coverage/admin-api.json` and `coverage/served-coverage.{json,md}` from
//!   the last live test run
//! - `census [--check] [--version V]` — the served surface of a Keycloak distribution, read from
//!   its jars: `coverage/served-surface*.json`, `coverage/served-by-version.json`
//! - `deny` — cargo-deny checks (licenses, bans, sources; advisories when the database is reachable)

mod bench;
mod bench_extra;
mod census;
mod chart;
mod cluster;
mod codegen;
mod coverage;
mod deny;
mod keycloak;
mod matrix;
mod prereq;
mod served_coverage;
mod slapd;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("keycloak") => keycloak::run(&args[1..]),
        Some("cluster") => cluster::run(&args[1..]),
        Some("codegen") => codegen::run(&args[1..]),
        Some("test") => test::test_command(&args[1..]),
        Some("demo") => test::demo_command(&args[1..]),
        Some("coverage") => coverage::run(&args[1..]),
        Some("census") => census::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("deny") => deny::run(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <keycloak fetch|start|stop|status [--db postgres] [--version V] | codegen [--check] | cluster start|stop | test [--db postgres] [--version V] [--matrix] [--cluster] [-- ARGS] | demo | census [--check] [--version V] | coverage | bench | deny>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the parent of `xtask/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}
