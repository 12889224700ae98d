//! A two-node Keycloak cluster in production mode on loopback: `kc.sh start` with
//! `--cache=ispn` and the JDBC_PING stack (discovery through the shared private PostgreSQL),
//! JGroups bound to 127.0.0.1 on distinct ports, HTTP enabled with a loopback hostname, behind
//! HAProxy ([`crate::haproxy`]). Everything is recorded in one state file, so that the tests
//! (another process) can kill and restart a node, and any process can stop it all.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::dist::{Distribution, Progress};
use crate::error::Context;
use crate::haproxy::{Backend, Haproxy, HaproxyState};
use crate::keycloak::{Db, ServerOptions};
use crate::postgres::{Postgres, PostgresState};
use crate::state::State;
use crate::{Error, Result};

/// `kc.sh` arguments that make a node of the cluster (production mode).
pub fn node_args(jgroups_port: u16) -> Vec<String> {
    vec![
        "start".into(),
        "--http-enabled=true".into(),
        // Each node answers for whatever loopback URL it is reached by (node or HAProxy).
        "--hostname-strict=false".into(),
        "--cache=ispn".into(),
        "--cache-stack=jdbc-ping".into(),
        "--cache-embedded-network-bind-address=127.0.0.1".into(),
        format!("--cache-embedded-network-bind-port={jgroups_port}"),
    ]
}

/// One node as recorded: its server state and the ports to restart it on.
#[derive(Clone, Serialize, Deserialize)]
pub struct NodeState {
    pub server: State,
    pub jgroups_port: u16,
}

/// The whole cluster, as written to its state file.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClusterState {
    /// HAProxy's URL: what clients use.
    pub url: String,
    pub version: String,
    pub home: PathBuf,
    /// The cluster's directory (node data, logs, HAProxy's configuration); removed on stop.
    pub dir: PathBuf,
    pub nodes: Vec<NodeState>,
    pub haproxy: HaproxyState,
    pub postgres: PostgresState,
    pub postgres_start_seconds: f64,
    pub haproxy_start_seconds: f64,
}

impl ClusterState {
    pub fn read(path: &Path) -> Result<ClusterState> {
        let text = fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| Error::new(format!("{}: {e}", path.display())))
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::new(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, text).ctx(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, path).ctx(|| format!("renaming {}", tmp.display()))
    }
}

/// Starts one node (first start or restart) on fixed ports; it is left running (detached).
pub fn start_node(
    dist: &Distribution,
    dir: &Path,
    index: usize,
    ports: (u16, u16, u16),
    pg: &PostgresState,
    progress: Progress,
) -> Result<NodeState> {
    let data = dir.join(format!("node{index}"));
    let mut opts = ServerOptions::new(dist.clone(), &data);
    opts.http_port = ports.0;
    opts.management_port = ports.1;
    opts.cluster_port = Some(ports.2);
    opts.db = Db::SharedPostgres(pg.clone());
    opts.heap = "-Xms256m -Xmx768m".into();
    opts.log = dir.join(format!("node{index}.log"));
    opts.watchdog = false;
    // Production mode migrates the database and builds its caches: slower than start-dev.
    opts.timeout = std::time::Duration::from_secs(900);
    let server = opts.start(progress)?;
    Ok(NodeState {
        server: server.detach(),
        jgroups_port: ports.2,
    })
}

/// Starts PostgreSQL, two nodes (one after the other: the first one re-augments the
/// distribution for production mode) and HAProxy; writes the state file. On failure, whatever
/// was started is stopped again.
pub fn start(
    dist: &Distribution,
    dir: &Path,
    state_file: &Path,
    progress: Progress,
) -> Result<ClusterState> {
    fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    let t0 = Instant::now();
    let pg = Postgres::start(progress)?;
    let pg_secs = t0.elapsed().as_secs_f64();
    let mut nodes: Vec<NodeState> = Vec::new();
    let result = (|| {
        for i in 0..2 {
            let p = crate::process::free_ports(&[None, None, None])?;
            nodes.push(start_node(
                dist,
                dir,
                i,
                (p[0], p[1], p[2]),
                &pg.state,
                progress,
            )?);
        }
        let backends: Vec<Backend> = nodes
            .iter()
            .map(|n| Backend {
                http_port: n.server.http_port,
                management_port: n.server.management_port,
            })
            .collect();
        let t1 = Instant::now();
        let lb = Haproxy::start(dir, &backends)?;
        Ok::<_, Error>((lb, t1.elapsed().as_secs_f64()))
    })();
    let (lb, lb_secs) = match result {
        Ok(x) => x,
        Err(e) => {
            for n in &nodes {
                let _ = crate::keycloak::stop(&n.server, None);
            }
            let _ = pg.stop();
            return Err(e);
        }
    };
    let state = ClusterState {
        url: lb.state.url.clone(),
        version: dist.version.clone(),
        home: dist.home.clone(),
        dir: dir.to_path_buf(),
        nodes,
        haproxy: lb.detach(),
        postgres_start_seconds: (pg_secs * 10.0).round() / 10.0,
        haproxy_start_seconds: (lb_secs * 1000.0).round() / 1000.0,
        postgres: {
            let s = pg.state.clone();
            pg.detach();
            s
        },
    };
    state.write(state_file)?;
    Ok(state)
}

/// SIGKILL to a node's whole process group (a crash), after checking it runs Keycloak;
/// returns when the group is gone.
pub fn kill_node(node: &NodeState) -> Result<()> {
    let pid = node.server.pid;
    if !crate::keycloak::is_running(&node.server) {
        return Err(Error::new(format!(
            "node (pid {pid}) is not running Keycloak"
        )));
    }
    crate::process::signal_group("KILL", pid);
    let t0 = Instant::now();
    while crate::process::group_alive(pid) {
        if t0.elapsed().as_secs() > 30 {
            return Err(Error::new(format!("process group {pid} survives SIGKILL")));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// Restarts node `index` on its old ports and data; updates the state file.
pub fn restart_node(state_file: &Path, index: usize, progress: Progress) -> Result<ClusterState> {
    let mut state = ClusterState::read(state_file)?;
    let dist = Distribution::at(&state.home, &state.version)?;
    let old = &state.nodes[index];
    let ports = (
        old.server.http_port,
        old.server.management_port,
        old.jgroups_port,
    );
    state.nodes[index] = start_node(&dist, &state.dir, index, ports, &state.postgres, progress)?;
    state.write(state_file)?;
    Ok(state)
}

/// Stops HAProxy, the nodes and PostgreSQL; removes the directory and the state file. Every
/// part is tried; the first error is returned.
pub fn stop(state: &ClusterState, state_file: Option<&Path>) -> Result<()> {
    let mut first: Option<Error> = None;
    let mut keep = |r: Result<()>| {
        if let Err(e) = r
            && first.is_none()
        {
            first = Some(e);
        }
    };
    keep(crate::haproxy::stop(&state.haproxy, || {}));
    for n in &state.nodes {
        keep(crate::keycloak::stop(&n.server, None).map(|_| ()));
    }
    keep(crate::postgres::stop_cluster(&state.postgres));
    let _ = fs::remove_dir_all(&state.dir);
    if let Some(p) = state_file {
        let _ = fs::remove_file(p);
    }
    first.map_or(Ok(()), Err)
}
