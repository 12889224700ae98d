//! A Keycloak server: options, start (`kc.sh start-dev` as the leader of its own process group
//! and session), readiness (`/health/ready` and a bootstrap-admin login), and stop by verified
//! process group.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::dist::{Distribution, Progress};
use crate::error::{Context, bail};
use crate::java::Java;
use crate::postgres::Postgres;
use crate::process::{Stopped, log_tail, stop_group, which};
use crate::state::{State, rfc3339};
use crate::watchdog::Watchdog;
use crate::{Error, Result};

/// What marks a process group as a Keycloak server (its command lines name the distribution).
const MARKER: &str = "keycloak";
/// How long a stopping server gets before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(60);

/// The database a server runs on.
pub enum Db {
    /// The embedded H2 database, in the data directory.
    DevFile,
    /// A private PostgreSQL cluster, owned (and stopped) by the server.
    Postgres(Postgres),
    /// A PostgreSQL cluster owned by someone else (a [`crate::cluster`]): shared by
    /// its nodes, left running when this server stops.
    SharedPostgres(crate::postgres::PostgresState),
}

/// When a server counts as started.
#[derive(Debug, Clone)]
pub enum Readiness {
    /// `/health/ready` on the management port answers 200 and the admin can log in.
    HealthAndLogin,
    /// This URL answers 200 to a GET (for servers whose management port speaks HTTPS).
    Url(String),
}

/// How to start a server. [`ServerOptions::new`] gives the defaults.
pub struct ServerOptions {
    pub dist: Distribution,
    /// 0 picks a free loopback port.
    pub http_port: u16,
    /// 0 picks a free loopback port.
    pub management_port: u16,
    pub admin_username: String,
    pub admin_password: String,
    /// `None`: [`crate::java::choose`].
    pub java: Option<Java>,
    /// `JAVA_OPTS_KC_HEAP`.
    pub heap: String,
    /// The H2 database (`<data_dir>/data/h2`) and transaction logs go here; `kc.sh` runs here.
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub db: Db,
    /// More `kc.sh` arguments (e.g. HTTPS options; build-time ones need a private copy).
    pub extra_args: Vec<String>,
    /// Written once the server is ready; the watchdog removes it.
    pub state_file: Option<PathBuf>,
    /// Removed with the server (a per-run directory); `None` keeps the data.
    pub remove_on_stop: Option<PathBuf>,
    /// Stop the server when this process dies without stopping it.
    pub watchdog: bool,
    pub readiness: Readiness,
    pub timeout: Duration,
    /// `Some(node)`: production mode (`kc.sh start`) as a cluster node
    /// ([`crate::cluster::node_args`]): `--cache=ispn` with the JDBC_PING stack, JGroups bound
    /// to 127.0.0.1 on the node's port, the cluster's public URL as hostname. `None`:
    /// `kc.sh start-dev`.
    pub cluster: Option<crate::cluster::NodeOptions>,
}

impl ServerOptions {
    /// Defaults: free ports, admin `admin`/`admin`, heap `-Xms256m -Xmx1g`, H2, a watchdog,
    /// 300 s to get ready, the log in `data_dir`.
    pub fn new(dist: Distribution, data_dir: &Path) -> ServerOptions {
        ServerOptions {
            dist,
            http_port: 0,
            management_port: 0,
            admin_username: "admin".into(),
            admin_password: "admin".into(),
            java: None,
            heap: "-Xms256m -Xmx1g".into(),
            data_dir: data_dir.to_path_buf(),
            log: data_dir.join("keycloak.log"),
            db: Db::DevFile,
            extra_args: Vec::new(),
            state_file: None,
            remove_on_stop: None,
            watchdog: true,
            readiness: Readiness::HealthAndLogin,
            timeout: Duration::from_secs(300),
            cluster: None,
        }
    }

    fn command(&self, java: &Java, http: u16, mgmt: u16) -> Command {
        let kc_sh = self.dist.home.join("bin/kc.sh");
        // `setsid` execs in place (our child is not a group leader), so the PID we get is
        // kc.sh's and it leads a new session and process group; without it, a new group.
        let mut cmd = match which("setsid") {
            Some(setsid) => {
                let mut c = Command::new(setsid);
                c.arg(&kc_sh);
                c
            }
            None => {
                let mut c = Command::new(&kc_sh);
                c.process_group(0);
                c
            }
        };
        match &self.cluster {
            None => {
                cmd.arg("start-dev");
            }
            Some(node) => {
                cmd.args(crate::cluster::node_args(node));
            }
        }
        cmd.arg("--http-host=127.0.0.1")
            .arg(format!("--http-port={http}"))
            .arg(format!("--http-management-port={mgmt}"))
            .args(crate::build_options(&self.dist.version))
            .arg(format!("-Dkc.db-url-path={}", self.data_dir.display()))
            .arg(format!(
                "-Dquarkus.transaction-manager.object-store.directory={}",
                self.data_dir.join("data/transaction-logs").display()
            ))
            .args(&self.extra_args)
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", &self.admin_username)
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", &self.admin_password)
            .env("JAVA_OPTS_KC_HEAP", &self.heap)
            // Options come from the command line only, never from the caller's KC_* settings.
            .env_remove("KC_FEATURES")
            .env_remove("KC_DB")
            .current_dir(&self.data_dir)
            .stdin(Stdio::null());
        let pg = match &self.db {
            Db::Postgres(pg) => Some(&pg.state),
            Db::SharedPostgres(state) => Some(state),
            Db::DevFile => None,
        };
        if let Some(pg) = pg {
            cmd.arg("--db=postgres")
                .arg(format!("--db-url={}", pg.jdbc_url()))
                .arg(format!("--db-username={}", pg.user))
                // In the environment, not on the command line that `ps` shows.
                .env("KC_DB_PASSWORD", &pg.password);
        }
        java.apply(&mut cmd);
        cmd
    }

    /// Starts the server and waits until it is ready; on failure it is stopped again and the
    /// error carries the log's tail.
    pub fn start(mut self, progress: Progress) -> Result<Server> {
        let java = match self.java.take() {
            Some(j) => j,
            None => crate::java::choose()?,
        };
        progress(&format!("java: {}", java.description));
        let fixed = |p: u16| (p != 0).then_some(p);
        let ports =
            crate::process::free_ports(&[fixed(self.http_port), fixed(self.management_port)])?;
        let (http, mgmt) = (ports[0], ports[1]);
        fs::create_dir_all(&self.data_dir)
            .ctx(|| format!("creating {}", self.data_dir.display()))?;
        let log = fs::File::create(&self.log).ctx(|| format!("creating {}", self.log.display()))?;
        let mut cmd = self.command(&java, http, mgmt);
        cmd.stdout(log.try_clone()?).stderr(log);
        let started_at = SystemTime::now();
        let (db, pg_state, pg_stop) = match &self.db {
            Db::DevFile => ("dev-file", None, String::new()),
            Db::Postgres(pg) => ("postgres", Some(pg.state.clone()), pg.stop_shell()),
            // Not ours: the state names no database to stop.
            Db::SharedPostgres(_) => ("postgres", None, String::new()),
        };
        progress(&format!(
            "starting keycloak {} on http://127.0.0.1:{http} (management {mgmt}, db {db}), log {}",
            self.dist.version,
            self.log.display()
        ));
        let t0 = Instant::now();
        let child = cmd
            .spawn()
            .ctx(|| format!("spawning {}", self.dist.home.join("bin/kc.sh").display()))?;
        let pid = child.id();
        let watchdog = self.watchdog.then(|| {
            Watchdog::arm(
                pid,
                self.state_file.as_deref(),
                self.remove_on_stop.as_deref(),
                &pg_stop,
            )
        });
        let state = State {
            version: self.dist.version.clone(),
            url: format!("http://127.0.0.1:{http}"),
            management_url: format!("http://127.0.0.1:{mgmt}"),
            http_port: http,
            management_port: mgmt,
            pid,
            admin_username: self.admin_username.clone(),
            admin_password: self.admin_password.clone(),
            log: self.log.clone(),
            java: java.description.clone(),
            started_at: rfc3339(started_at),
            start_seconds: None,
            data_dir: Some(self.data_dir.clone()),
            remove_on_stop: self.remove_on_stop.clone(),
            home: Some(self.dist.home.clone()),
            db: db.into(),
            postgres: pg_state,
        };
        let postgres = match self.db {
            Db::Postgres(pg) => Some(pg),
            Db::DevFile | Db::SharedPostgres(_) => None,
        };
        let mut server = Server {
            state,
            reused: false,
            child: Some(child),
            watchdog,
            postgres,
            state_file: self.state_file.clone(),
        };
        if let Err(e) = server.wait_ready(&self.readiness, self.timeout, t0, progress) {
            let tail = log_tail(&self.log, 60);
            let _ = server.stop_owned();
            bail!(
                "{e}\n--- last lines of {} ---\n{tail}--- end of log ---",
                self.log.display()
            );
        }
        server.state.start_seconds = Some((t0.elapsed().as_secs_f64() * 10.0).round() / 10.0);
        if let Some(path) = &server.state_file {
            server.state.write(path)?;
        }
        Ok(server)
    }
}

/// A server this process started (or found running and reuses).
pub struct Server {
    pub state: State,
    /// True when an already running server was reused: then it is not ours to stop.
    pub reused: bool,
    /// `kc.sh`, while this process owns the server.
    child: Option<Child>,
    watchdog: Option<Watchdog>,
    postgres: Option<Postgres>,
    state_file: Option<PathBuf>,
}

impl Server {
    /// A running server described by a state file, not owned by this process.
    pub fn reuse(state: State) -> Server {
        Server {
            state,
            reused: true,
            child: None,
            watchdog: None,
            postgres: None,
            state_file: None,
        }
    }

    fn wait_ready(
        &mut self,
        readiness: &Readiness,
        timeout: Duration,
        t0: Instant,
        progress: Progress,
    ) -> Result<()> {
        let probe = match readiness {
            Readiness::HealthAndLogin => format!("{}/health/ready", self.state.management_url),
            Readiness::Url(u) => u.clone(),
        };
        let mut last_report = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "keycloak exited during startup ({status}) after {:.0} s",
                    t0.elapsed().as_secs_f64()
                );
            }
            if crate::http::get_ok(&probe) {
                break;
            }
            if t0.elapsed() > timeout {
                bail!(
                    "keycloak was not ready within {} s ({probe} did not answer 200)",
                    timeout.as_secs()
                );
            }
            if last_report.elapsed() > Duration::from_secs(30) {
                progress(&format!(
                    "  still waiting for {probe} ({:.0} s)",
                    t0.elapsed().as_secs_f64()
                ));
                last_report = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let s = &self.state;
        crate::http::admin_login(&s.url, &s.admin_username, &s.admin_password)
            .map_err(|e| e.context("keycloak is ready but the bootstrap admin cannot log in"))
    }

    /// Stops the server (and its database) if this process started it; a reused one runs on.
    pub fn stop_if_owned(mut self) -> Result<()> {
        if self.reused {
            return Ok(());
        }
        self.stop_owned()
    }

    /// Leaves the server running after this process ends; returns its state.
    pub fn detach(mut self) -> State {
        if let Some(mut w) = self.watchdog.take() {
            w.disarm();
        }
        self.child = None;
        if let Some(pg) = self.postgres.take() {
            pg.detach();
        }
        self.state.clone()
    }

    fn stop_owned(&mut self) -> Result<()> {
        let mut child = self.child.take();
        let result = stop_state(&self.state, self.state_file.as_deref(), child.as_mut());
        if let Some(mut w) = self.watchdog.take() {
            w.disarm();
        }
        let pg = self.postgres.take().map(Postgres::stop);
        remove_run_dir(&self.state);
        result?;
        pg.transpose()?;
        Ok(())
    }
}

impl Drop for Server {
    /// A server this process owns (not detached, not stopped) is stopped.
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop_owned();
        }
    }
}

/// Stops the server a state file describes (from any process): its verified process group,
/// then its PostgreSQL cluster; removes the state file and the per-run directory.
pub fn stop(state: &State, state_file: Option<&Path>) -> Result<Stopped> {
    let stopped = stop_state(state, state_file, None)?;
    if let Some(pg) = &state.postgres {
        crate::postgres::stop_cluster(pg)?;
    }
    remove_run_dir(state);
    Ok(stopped)
}

fn stop_state(
    state: &State,
    state_file: Option<&Path>,
    mut child: Option<&mut Child>,
) -> Result<Stopped> {
    let reap = || {
        if let Some(c) = child.as_deref_mut() {
            let _ = c.try_wait();
        }
    };
    let stopped = stop_group(state.pid, MARKER, STOP_GRACE, reap)?;
    if stopped == Stopped::NotOurs {
        return Err(Error::new(format!(
            "process group {} does not look like Keycloak (pid reused?): not signalling it",
            state.pid
        )));
    }
    if let Some(c) = child {
        let _ = c.wait();
    }
    if let Some(path) = state_file {
        State::remove_if_pid(path, state.pid);
    }
    Ok(stopped)
}

fn remove_run_dir(state: &State) {
    if let Some(dir) = &state.remove_on_stop {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Whether the server a state file describes is running and ready.
pub fn is_running_and_ready(state: &State) -> bool {
    crate::process::group_alive(state.pid)
        && crate::process::group_runs(state.pid, MARKER)
        && crate::http::health_ready(&state.management_url)
}

/// Whether the server's process group is alive and is Keycloak.
pub fn is_running(state: &State) -> bool {
    crate::process::group_alive(state.pid) && crate::process::group_runs(state.pid, MARKER)
}
