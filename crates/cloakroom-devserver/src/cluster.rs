//! A two-node Keycloak cluster in production mode on loopback: `kc.sh start` with
//! `--cache=ispn` and the JDBC_PING stack (discovery through the shared private PostgreSQL),
//! JGroups bound to 127.0.0.1 on distinct ports, HTTP enabled, behind HAProxy
//! ([`crate::haproxy`]), whose URL is every node's hostname (one token issuer for the cluster). Everything is recorded in one state file, so that the tests
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

/// What makes a server a node of the cluster: its JGroups port, and the one public URL (HAProxy's)
/// every node names itself by.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub jgroups_port: u16,
    /// `http://127.0.0.1:<HAProxy's port>`.
    pub public_url: String,
}

/// `kc.sh` arguments that make a node of the cluster (production mode).
///
/// The hostname is HAProxy's URL on every node: a token's issuer is the frontend URL, so a
/// token obtained through node A or through HAProxy is accepted by node B only when both
/// nodes have the same frontend URL (a node that takes it from the request, as with
/// `--hostname-strict=false` and no hostname, would issue for its own port and answer 401 to
/// the other node's tokens). Requests reaching a node directly are still served; with
/// `--hostname-backchannel-dynamic` the backchannel URLs (token, JWKS, userinfo, …, as in the
/// discovery document) follow the URL the request came in by, so a client talking to one node
/// is not sent through HAProxy for them. The issuer stays HAProxy's URL either way.
pub fn node_args(node: &NodeOptions) -> Vec<String> {
    vec![
        "start".into(),
        "--http-enabled=true".into(),
        format!("--hostname={}", node.public_url),
        "--hostname-backchannel-dynamic=true".into(),
        "--cache=ispn".into(),
        "--cache-stack=jdbc-ping".into(),
        "--cache-embedded-network-bind-address=127.0.0.1".into(),
        format!("--cache-embedded-network-bind-port={}", node.jgroups_port),
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

/// The ports of one node: HTTP, management, JGroups.
pub type NodePorts = (u16, u16, u16);

/// Starts one node (first start or restart) on fixed ports, naming itself by `public_url`
/// (HAProxy's URL); it is left running (detached).
pub fn start_node(
    dist: &Distribution,
    dir: &Path,
    index: usize,
    ports: NodePorts,
    public_url: &str,
    pg: &PostgresState,
    progress: Progress,
) -> Result<NodeState> {
    let data = dir.join(format!("node{index}"));
    let mut opts = ServerOptions::new(dist.clone(), &data);
    opts.http_port = ports.0;
    opts.management_port = ports.1;
    opts.cluster = Some(NodeOptions {
        jgroups_port: ports.2,
        public_url: public_url.to_string(),
    });
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

/// How long HAProxy gets to see both nodes up once they answer (health checks every second,
/// two in a row to rise).
const BACKENDS_UP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts PostgreSQL, HAProxy and two nodes; writes the state file. Every port is chosen first
/// (HAProxy's URL is the nodes' hostname), HAProxy is started at once (so that its port stays
/// ours while the nodes start; it answers 503 until they are up), then the nodes one after
/// the other (the first one re-augments the distribution for production mode); it returns
/// once HAProxy's health checks see both nodes up. On failure, whatever was started is
/// stopped again.
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
    let p = crate::process::free_ports(&[None; 7])?;
    let lb_port = p[0];
    let node_ports: Vec<NodePorts> = vec![(p[1], p[2], p[3]), (p[4], p[5], p[6])];
    let backends: Vec<Backend> = node_ports
        .iter()
        .map(|&(http_port, management_port, _)| Backend {
            http_port,
            management_port,
        })
        .collect();
    let t1 = Instant::now();
    let mut lb = match Haproxy::start(dir, lb_port, &backends) {
        Ok(lb) => lb,
        Err(e) => {
            let _ = pg.stop();
            return Err(e);
        }
    };
    let lb_secs = t1.elapsed().as_secs_f64();
    progress(&format!(
        "haproxy on {} (the nodes' hostname), log {}",
        lb.state.url,
        lb.state.log.display()
    ));
    let mut nodes: Vec<NodeState> = Vec::new();
    let result = (|| {
        for (i, &ports) in node_ports.iter().enumerate() {
            nodes.push(start_node(
                dist,
                dir,
                i,
                ports,
                &lb.state.url,
                &pg.state,
                progress,
            )?);
        }
        crate::haproxy::wait_servers_up(&lb.state, backends.len(), BACKENDS_UP_TIMEOUT)
    })();
    if let Err(e) = result {
        let _ = lb.stop();
        for n in &nodes {
            let _ = crate::keycloak::stop(&n.server, None);
        }
        let _ = pg.stop();
        return Err(e);
    }
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

/// Restarts node `index` on its old ports and data, with the same hostname (HAProxy's URL);
/// updates the state file.
pub fn restart_node(state_file: &Path, index: usize, progress: Progress) -> Result<ClusterState> {
    let mut state = ClusterState::read(state_file)?;
    let dist = Distribution::at(&state.home, &state.version)?;
    let old = &state.nodes[index];
    let ports = (
        old.server.http_port,
        old.server.management_port,
        old.jgroups_port,
    );
    state.nodes[index] = start_node(
        &dist,
        &state.dir,
        index,
        ports,
        &state.url,
        &state.postgres,
        progress,
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_names_itself_by_haproxys_url() {
        let args = node_args(&NodeOptions {
            jgroups_port: 7801,
            public_url: "http://127.0.0.1:4000".into(),
        });
        assert_eq!(args[0], "start");
        assert!(args.contains(&"--hostname=http://127.0.0.1:4000".to_string()));
        assert!(args.contains(&"--hostname-backchannel-dynamic=true".to_string()));
        assert!(args.contains(&"--cache-embedded-network-bind-port=7801".to_string()));
        assert!(!args.iter().any(|a| a.starts_with("--hostname-strict")));
    }
}
