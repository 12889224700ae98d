//! A private PostgreSQL cluster from Debian's packages (`/usr/lib/postgresql/<n>/bin`): a
//! temporary directory, a free loopback port, one database and user for Keycloak. As root the
//! cluster runs as the `postgres` system user (PostgreSQL refuses to run as root). Stopped with
//! `pg_ctl stop -m fast`, checked to be gone, and its directory removed.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::dist::Progress;
use crate::error::{Context, bail};
use crate::{Error, Result};

/// What is needed to reach and stop a cluster (part of the state file).
#[derive(Clone, Serialize, Deserialize)]
pub struct PostgresState {
    /// `/usr/lib/postgresql/<n>/bin`
    pub bin_dir: PathBuf,
    /// The temporary directory holding everything (removed on stop).
    pub dir: PathBuf,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: String,
    /// The system user the cluster runs as (`postgres` when started by root).
    pub os_user: Option<String>,
    pub start_seconds: f64,
}

impl std::fmt::Debug for PostgresState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresState")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl PostgresState {
    /// `jdbc:postgresql://127.0.0.1:<port>/keycloak`
    pub fn jdbc_url(&self) -> String {
        format!(
            "jdbc:postgresql://127.0.0.1:{}/{}",
            self.port, self.database
        )
    }

    fn pgdata(&self) -> PathBuf {
        self.dir.join("pgdata")
    }
}

/// A running cluster this process started; stopped when dropped (unless detached).
pub struct Postgres {
    pub state: PostgresState,
    running: bool,
}

/// The newest installed server binaries.
pub fn bin_dir() -> Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| {
            Error::new(
                "PostgreSQL is not installed (/usr/lib/postgresql is missing): \
                 apt-get install postgresql (`cargo xtask test` does it when run as root)",
            )
        })?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((n, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…`, as `os_user` when set.
fn command(state: &PostgresState, program: &str) -> Command {
    let bin = state.bin_dir.join(program);
    match &state.os_user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(bin);
            c
        }
        None => Command::new(bin),
    }
}

fn run(mut cmd: Command, what: &str) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .ctx(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

fn random_password() -> Result<String> {
    let mut bytes = [0u8; 16];
    use std::io::Read;
    fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Postgres {
    /// Creates and starts a cluster in a new temporary directory, with database and user
    /// `keycloak`.
    pub fn start(progress: Progress) -> Result<Postgres> {
        let t0 = Instant::now();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("cloakroom-pg-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
        let port = crate::process::free_ports(&[None])?[0];
        let state = PostgresState {
            bin_dir: bin_dir()?,
            dir: dir.clone(),
            port,
            database: "keycloak".into(),
            user: "keycloak".into(),
            password: random_password()?,
            os_user: is_root().then(|| "postgres".to_string()),
            start_seconds: 0.0,
        };
        let mut pg = Postgres {
            state,
            running: false,
        };
        if let Err(e) = pg.init_and_start() {
            let _ = fs::remove_dir_all(&dir);
            return Err(e.context("starting PostgreSQL"));
        }
        pg.state.start_seconds = (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0;
        progress(&format!(
            "postgresql ({}) ready on 127.0.0.1:{} in {:.1} s",
            pg.state.bin_dir.display(),
            port,
            pg.state.start_seconds
        ));
        Ok(pg)
    }

    fn init_and_start(&mut self) -> Result<()> {
        let s = &self.state;
        let pwfile = s.dir.join("pwfile");
        fs::write(&pwfile, &s.password)?;
        if let Some(user) = &s.os_user {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("-R").arg(format!("{user}:")).arg(&s.dir);
                    c
                },
                "chown",
            )?;
        }
        let mut initdb = command(s, "initdb");
        initdb
            .arg("-D")
            .arg(s.pgdata())
            .args(["-U", &s.user, "-E", "UTF8", "--locale=C"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(initdb, "initdb")?;
        let _ = fs::remove_file(&pwfile);
        let mut start = command(s, "pg_ctl");
        start
            .arg("-D")
            .arg(s.pgdata())
            .arg("-l")
            .arg(s.dir.join("postgresql.log"))
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} -c fsync=on",
                s.port,
                s.dir.display()
            ))
            .args(["-w", "-t", "120", "start"]);
        run(start, "pg_ctl start")?;
        self.running = true;
        let mut createdb = command(s, "createdb");
        createdb
            .args(["-h", "127.0.0.1", "-p", &s.port.to_string(), "-U", &s.user])
            .arg(&s.database)
            .env("PGPASSWORD", &s.password);
        run(createdb, "createdb")?;
        Ok(())
    }

    /// `jdbc:postgresql://127.0.0.1:<port>/keycloak`
    pub fn jdbc_url(&self) -> String {
        self.state.jdbc_url()
    }

    /// Shell code that stops the cluster (for the watchdog).
    pub fn stop_shell(&self) -> String {
        let s = &self.state;
        let pg_ctl = format!(
            "{} -D {} stop -m fast -w",
            s.bin_dir.join("pg_ctl").display(),
            s.pgdata().display()
        );
        let pg_ctl = match &s.os_user {
            Some(u) => format!("runuser -u {u} -- {pg_ctl}"),
            None => pg_ctl,
        };
        format!("{pg_ctl} >/dev/null 2>&1; rm -rf {}", s.dir.display())
    }

    /// Stops the cluster and removes its directory.
    pub fn stop(mut self) -> Result<()> {
        self.running = false;
        stop_cluster(&self.state)
    }

    /// Leaves the cluster running after this process ends.
    pub fn detach(mut self) {
        self.running = false;
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = stop_cluster(&self.state);
        }
    }
}

/// `pg_ctl stop -m fast`, then checks that no postmaster is left, then removes the directory.
pub fn stop_cluster(s: &PostgresState) -> Result<()> {
    if s.pgdata().join("postmaster.pid").exists() {
        let mut stop = command(s, "pg_ctl");
        stop.arg("-D")
            .arg(s.pgdata())
            .args(["stop", "-m", "fast", "-w", "-t", "60"]);
        run(stop, "pg_ctl stop")?;
    }
    let mut status = command(s, "pg_ctl");
    status.arg("-D").arg(s.pgdata()).arg("status");
    let out = status.stdin(Stdio::null()).output()?;
    // pg_ctl status: 3 = not running, 4 = no data directory.
    if out.status.code() == Some(0) {
        bail!(
            "PostgreSQL in {} still runs after pg_ctl stop",
            s.pgdata().display()
        );
    }
    fs::remove_dir_all(&s.dir).ctx(|| format!("removing {}", s.dir.display()))
}
