//! Debian's HAProxy on loopback in front of cluster nodes: a throw-away configuration in the
//! cluster's directory, round robin, health checks on each node's management port
//! (`/health/ready`), one client connection per request and one log line per request on its
//! standard output (the log file), a stats socket in that directory to read the servers'
//! health from. Run in the foreground (`-db`) as the leader of its own process group and
//! stopped by that verified group, never by name.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Context, bail};
use crate::process::{Stopped, stop_group, which};
use crate::{Error, Result};

/// What marks a process group as this HAProxy (its command line names the binary).
const MARKER: &str = "haproxy";

/// One backend: the node's HTTP port and its management port (for the health check).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Backend {
    pub http_port: u16,
    pub management_port: u16,
}

/// A running HAProxy, as recorded in the cluster's state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HaproxyState {
    pub pid: u32,
    pub port: u16,
    pub url: String,
    pub config: PathBuf,
    pub log: PathBuf,
    /// The stats socket (`show stat`).
    #[serde(default)]
    pub socket: PathBuf,
}

/// The binary: `haproxy` on PATH or Debian's `/usr/sbin/haproxy`.
pub fn binary() -> Result<PathBuf> {
    which("haproxy")
        .or_else(|| Some(PathBuf::from("/usr/sbin/haproxy")).filter(|p| p.exists()))
        .ok_or_else(|| {
            Error::new("haproxy is not installed (`cargo xtask test` installs it when root)")
        })
}

/// The configuration text (round robin; `check port` probes the management port; a stats
/// socket at `socket`, read-only).
pub fn config(port: u16, backends: &[Backend], socket: &Path) -> String {
    let mut c = String::new();
    c.push_str("global\n    log stdout format raw local0\n    maxconn 512\n");
    c.push_str(&format!(
        "    stats socket {} mode 600 level user\n\n",
        socket.display()
    ));
    c.push_str("defaults\n    mode http\n    log global\n    option httplog\n");
    c.push_str("    timeout connect 2s\n    timeout client 120s\n    timeout server 120s\n");
    // One request per client connection: on a kept-alive connection, a request whose server
    // dies before answering is neither answered nor logged (HAProxy closes the connection
    // silently, for the client to retry); as the first request of its connection it is
    // answered 502 and logged, so the log holds every request a client sent.
    c.push_str("    option httpclose\n");
    // A refused connection (a dead node) is tried again on another server: nothing was sent.
    c.push_str("    retries 3\n    option redispatch\n\n");
    c.push_str(&format!(
        "frontend cloakroom\n    bind 127.0.0.1:{port}\n    default_backend keycloak\n\n"
    ));
    c.push_str("backend keycloak\n    balance roundrobin\n");
    c.push_str("    option httpchk GET /health/ready\n    http-check expect status 200\n");
    for (i, b) in backends.iter().enumerate() {
        c.push_str(&format!(
            "    server node{i} 127.0.0.1:{} check port {} inter 1s fall 2 rise 2\n",
            b.http_port, b.management_port
        ));
    }
    c
}

/// An HAProxy this process started; stopped when dropped.
pub struct Haproxy {
    pub state: HaproxyState,
    child: Option<Child>,
}

impl Haproxy {
    /// Writes the configuration into `dir`, checks it (`haproxy -c`), starts HAProxy on `port`
    /// and waits until that port accepts connections (the backends need not be up yet).
    pub fn start(dir: &Path, port: u16, backends: &[Backend]) -> Result<Haproxy> {
        let bin = binary()?;
        fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
        let config_path = dir.join("haproxy.cfg");
        let socket = dir.join("haproxy.sock");
        fs::write(&config_path, config(port, backends, &socket))
            .ctx(|| format!("writing {}", config_path.display()))?;
        let check = Command::new(&bin)
            .arg("-c")
            .arg("-f")
            .arg(&config_path)
            .stdin(Stdio::null())
            .output()
            .ctx(|| format!("running {} -c", bin.display()))?;
        if !check.status.success() {
            bail!(
                "haproxy rejects its configuration: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
        let log_path = dir.join("haproxy.log");
        let log = fs::File::create(&log_path).ctx(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(&bin)
            .arg("-db")
            .arg("-f")
            .arg(&config_path)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .ctx(|| format!("spawning {}", bin.display()))?;
        let mut h = Haproxy {
            state: HaproxyState {
                pid: child.id(),
                port,
                url: format!("http://127.0.0.1:{port}"),
                config: config_path,
                log: log_path,
                socket,
            },
            child: Some(child),
        };
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(c) = h.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                bail!(
                    "haproxy exited at start ({status}): {}",
                    crate::process::log_tail(&h.state.log, 20)
                );
            }
            if t0.elapsed() > Duration::from_secs(20) {
                let _ = h.stop();
                bail!("haproxy did not listen on {port} within 20 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(h)
    }

    /// Leaves HAProxy running (its state says how to stop it).
    pub fn detach(mut self) -> HaproxyState {
        self.child = None;
        self.state.clone()
    }

    pub fn stop(&mut self) -> Result<()> {
        let mut child = self.child.take();
        let reap = || {
            if let Some(c) = child.as_mut() {
                let _ = c.try_wait();
            }
        };
        stop(&self.state, reap)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop();
        }
    }
}

/// Stops the HAProxy a state describes: its process group, when that group runs haproxy.
pub fn stop(state: &HaproxyState, reap: impl FnMut()) -> Result<()> {
    match stop_group(state.pid, MARKER, Duration::from_secs(10), reap)? {
        Stopped::NotOurs => Err(Error::new(format!(
            "process group {} does not look like haproxy (pid reused?): not signalling it",
            state.pid
        ))),
        _ => Ok(()),
    }
}

/// `show stat` on the stats socket: (server name, status) of each server of the `keycloak`
/// backend, e.g. `("node0", "UP")`; statuses are HAProxy's (`UP`, `DOWN`, `UP 1/2`, …).
pub fn server_status(state: &HaproxyState) -> Result<Vec<(String, String)>> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(&state.socket)
        .ctx(|| format!("connecting to {}", state.socket.display()))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"show stat\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(parse_stat(&text))
}

/// The servers of the `keycloak` backend in `show stat` CSV: (svname, status).
fn parse_stat(csv: &str) -> Vec<(String, String)> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let col = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(st)) = (col("pxname"), col("svname"), col("status")) else {
        return Vec::new();
    };
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| {
            f.get(px) == Some(&"keycloak") && !matches!(f.get(sv), Some(&"BACKEND" | &"FRONTEND"))
        })
        .filter_map(|f| Some((f.get(sv)?.to_string(), f.get(st)?.to_string())))
        .collect()
}

/// Waits until HAProxy's health checks count `servers` servers `UP`.
pub fn wait_servers_up(state: &HaproxyState, servers: usize, timeout: Duration) -> Result<()> {
    let t0 = Instant::now();
    loop {
        let status = server_status(state);
        if let Ok(s) = &status
            && s.iter().filter(|(_, st)| st == "UP").count() >= servers
        {
            return Ok(());
        }
        if t0.elapsed() > timeout {
            bail!(
                "haproxy does not see {servers} servers up after {} s: {status:?}",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Requests in the log with this method whose path contains `path_part`: (status,
/// `backend/server`), in log order. The status is 0 when HAProxy logged none (`-1`: no answer
/// was sent).
pub fn logged_requests(log: &Path, method: &str, path_part: &str) -> Vec<(u16, String)> {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|l| parse_request_line(l, method, path_part))
        .collect()
}

/// One `option httplog` line (raw format): `client:port [date] frontend backend/server
/// Tq/Tw/Tc/Tr/Ta STATUS BYTES cookie cookie FLAGS conns queues "METHOD PATH VERSION"`.
fn parse_request_line(line: &str, method: &str, path_part: &str) -> Option<(u16, String)> {
    let at = line.find(&format!("\"{method} "))?;
    if !line[at + 1..].contains(path_part) {
        return None;
    }
    let words: Vec<&str> = line[..at].split_whitespace().collect();
    // The timers are the one field of five numbers (or -1) joined by slashes; the status and
    // then the byte count follow it, the backend/server precedes it.
    let timers = words.iter().position(|w| {
        let parts: Vec<&str> = w.split('/').collect();
        parts.len() == 5 && parts.iter().all(|p| p.parse::<i64>().is_ok())
    })?;
    let status = words.get(timers + 1)?.parse::<i32>().ok()?;
    let server = words.get(timers.checked_sub(1)?)?.to_string();
    Some((u16::try_from(status).unwrap_or(0), server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_csv_gives_the_servers_of_the_backend() {
        let csv = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight\n\
                   cloakroom,FRONTEND,,,0,1,512,3,0,0,0,0,0,,,,,OPEN,\n\
                   keycloak,node0,0,0,0,1,,2,0,0,,0,,0,0,0,0,UP,1\n\
                   keycloak,node1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1\n\
                   keycloak,BACKEND,0,0,0,1,52,2,0,0,0,0,,0,0,0,0,UP,1\n";
        assert_eq!(
            parse_stat(csv),
            vec![
                ("node0".to_string(), "UP".to_string()),
                ("node1".to_string(), "DOWN".to_string())
            ]
        );
    }

    #[test]
    fn request_lines_give_the_status_not_the_byte_count() {
        let log = "\
127.0.0.1:48242 [02/Dec/2026:22:22:53.366] cloakroom keycloak/node0 0/0/0/25/25 201 309 - - ---- 4/4/2/0/0 0/0 \"POST /admin/realms/r1/users HTTP/1.1\"
127.0.0.1:48243 [02/Dec/2026:22:22:53.367] cloakroom keycloak/node1 0/0/0/25/25 409 201 - - ---- 4/4/2/0/0 0/0 \"POST /admin/realms/r1/users HTTP/1.1\"
127.0.0.1:48244 [02/Dec/2026:22:22:53.368] cloakroom keycloak/node1 0/0/0/-1/30 -1 0 - - SH-- 4/4/2/0/0 0/0 \"POST /admin/realms/r1/users HTTP/1.1\"
127.0.0.1:48245 [02/Dec/2026:22:22:53.369] cloakroom cloakroom/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 \"POST /admin/realms/r1/users HTTP/1.1\"
127.0.0.1:48246 [02/Dec/2026:22:22:53.370] cloakroom keycloak/node0 0/0/0/5/5 200 309 - - ---- 1/1/0/0/0 0/0 \"GET /admin/realms/r1/users HTTP/1.1\"
127.0.0.1:48247 [02/Dec/2026:22:22:53.371] cloakroom keycloak/node0 0/0/0/5/5 201 309 - - ---- 1/1/0/0/0 0/0 \"POST /admin/realms/r1/users/x/groups HTTP/1.1\"
[WARNING]  (6433) : Server keycloak/node0 is DOWN, reason: Layer4 connection problem
";
        let found: Vec<(u16, String)> = log
            .lines()
            .filter_map(|l| parse_request_line(l, "POST", "/admin/realms/r1/users "))
            .collect();
        let s = |n: &str| n.to_string();
        assert_eq!(
            found,
            vec![
                (201, s("keycloak/node0")),
                (409, s("keycloak/node1")),
                (0, s("keycloak/node1")),
                (503, s("cloakroom/<NOSRV>")),
            ]
        );
    }

    #[test]
    fn config_names_the_socket_and_both_backends() {
        let backends = [
            Backend {
                http_port: 1001,
                management_port: 1002,
            },
            Backend {
                http_port: 1003,
                management_port: 1004,
            },
        ];
        let c = config(1000, &backends, Path::new("/tmp/x/haproxy.sock"));
        assert!(c.contains("stats socket /tmp/x/haproxy.sock mode 600 level user\n"));
        assert!(c.contains("bind 127.0.0.1:1000\n"));
        assert!(c.contains("    option httpclose\n"));
        assert!(c.contains("server node0 127.0.0.1:1001 check port 1002 "));
        assert!(c.contains("server node1 127.0.0.1:1003 check port 1004 "));
    }
}
