//! Tests on a two-node production-mode cluster (PostgreSQL, JDBC_PING, HAProxy), started by
//! `cargo xtask test --cluster`, which runs this binary with `--include-ignored` and one test
//! at a time. In the ordinary suite they are ignored: there is no cluster to talk to.
//!
//! The tests run in the order of their full names (`module::test`, as libtest sorts them):
//! `a_` … `c_` need both nodes; then `d_` kills node A for good and `e_` kills the only node
//! left (node B) and restarts it. The module names keep that order (`nodes` alone would sort
//! after `apply`).

#[path = "nodes.rs"]
mod a_nodes;
#[path = "apply.rs"]
mod b_apply;

use std::path::PathBuf;

use cloakroom::{Client, Credentials};
use cloakroom_devserver::cluster::ClusterState;

/// The cluster's state file (set by `cargo xtask test --cluster`).
pub fn state_file() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CLOAKROOM_CLUSTER_STATE")
            .expect("CLOAKROOM_CLUSTER_STATE: run these tests with `cargo xtask test --cluster`"),
    )
}

pub fn cluster() -> ClusterState {
    ClusterState::read(&state_file()).expect("reading the cluster's state file")
}

/// An admin client (master realm's bootstrap admin) talking to `url`.
pub fn admin(url: &str) -> Client {
    let s = &cluster().nodes[0].server;
    Client::builder(url)
        .credentials(Credentials::password(
            s.admin_username.clone(),
            s.admin_password.clone(),
        ))
        .build()
        .unwrap()
}

/// A name unique to this run.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{:x}", nanos & 0xff_ffff)
}
