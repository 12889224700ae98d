//! `cargo xtask keycloak fetch|start|stop|status`, and the start-run-stop wrapper used by
//! `cargo xtask test` and `cargo xtask demo`.
//!
//! A real Keycloak (the Quarkus distribution from Maven Central) runs in dev mode on loopback
//! ports, with a fresh H2 database per run under `.cache/keycloak/run/<id>/data/`. The
//! distribution is unpacked once into `.cache/keycloak/keycloak-<version>/` and never written to
//! by a run (as long as the build options below stay the same, `kc.sh` does not re-augment).
//!
//! What a run needs to know is in `.cache/keycloak/state.json`.
//!
//! Unix only: the server runs in its own session and is stopped through its process group.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The Keycloak version the project tests against.
pub const VERSION: &str = "26.7.3";
/// sha256 of `keycloak-quarkus-dist-26.7.3.zip` from Maven Central.
const ZIP_SHA256: &str = "27a6535553c3cdcd083872ba40629efafb3475e3b758e0c6f691395561dd0f1f";
/// Never rely on Maven's super-POM default (2.8 in Maven 3.8.7, which has no `-Dartifact`).
const DEPENDENCY_PLUGIN: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
/// Build-time options. Keep them identical for every run: a change makes `kc.sh` re-augment
/// the shared distribution (about 20 s, and it rewrites `lib/quarkus/` under a running server).
const BUILD_OPTIONS: &[&str] = &[
    "--health-enabled=true",
    "--metrics-enabled=true",
    // token-exchange:v1 and admin-fine-grained-authz:v1: the legacy exchange and the
    // `management/permissions` endpoints of the spec; client-types (experimental) and
    // client-secret-rotation (preview): Admin API operations of the 26.7.3 spec that answer
    // 501 without them.
    "--features=token-exchange:v1,admin-fine-grained-authz:v1,client-types,client-secret-rotation",
];
const DEFAULT_START_TIMEOUT_SECS: u64 = 300;
const STOP_GRACE_SECS: u64 = 60;

const USAGE: &str = "usage: cargo xtask keycloak <fetch|start|stop|status>

  fetch    download keycloak-quarkus-dist {VERSION} with Maven into .cache/keycloak and unpack it
  start    start (or reuse) a dev-mode server on free loopback ports; writes .cache/keycloak/state.json
  stop     stop the server named in the state file (its whole process group)
  status   print the state file; exit 0 when /health/ready answers 200, 1 otherwise

environment:
  CLOAKROOM_KC_HTTP_PORT, CLOAKROOM_KC_MGMT_PORT   fixed ports instead of free ones
  CLOAKROOM_KC_START_TIMEOUT                      seconds to wait for readiness (default 300)
  KC_BOOTSTRAP_ADMIN_USERNAME, KC_BOOTSTRAP_ADMIN_PASSWORD   admin account (default admin/admin)
  JAVA_OPTS_KC_HEAP                               heap options (default -Xms256m -Xmx1g)";

pub fn run(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("fetch") => fetch().map(drop),
        Some("start") => {
            // `start` leaves the server running: dropping `server` disarms the watchdog and
            // lets the child go.
            let server = ensure_started()?;
            let state = &server.state;
            if !server.reused {
                println!(
                    "keycloak {} ready at {} (management {}), started in {:.1} s",
                    state.version,
                    state.url,
                    state.management_url,
                    state.start_seconds.unwrap_or_default()
                );
                println!("log: {}", state.log);
                println!("stop it with: cargo xtask keycloak stop");
            }
            Ok(())
        }
        Some("stop") => stop_from_state_file(),
        Some("status") => status(),
        Some("-h" | "--help" | "help") => {
            println!("{}", USAGE.replace("{VERSION}", VERSION));
            Ok(())
        }
        _ => bail!("{}", USAGE.replace("{VERSION}", VERSION)),
    }
}

// ---------------------------------------------------------------------------------------------
// Paths and state

fn cache_dir() -> PathBuf {
    crate::repo_root().join(".cache").join("keycloak")
}

fn dist_home() -> PathBuf {
    cache_dir().join(format!("keycloak-{VERSION}"))
}

fn zip_path() -> PathBuf {
    cache_dir().join(format!("keycloak-quarkus-dist-{VERSION}.zip"))
}

/// `.cache/keycloak/state.json`: what a running server is and how to reach it.
pub fn state_path() -> PathBuf {
    cache_dir().join("state.json")
}

/// The contents of the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub version: String,
    pub url: String,
    pub management_url: String,
    pub http_port: u16,
    pub management_port: u16,
    /// The PID of `kc.sh`, which is also the id of the server's process group.
    pub pid: u32,
    pub admin_username: String,
    pub admin_password: String,
    pub log: String,
    pub java: String,
    pub started_at: String,
    /// Seconds from spawn to "ready and the admin can log in".
    #[serde(default)]
    pub start_seconds: Option<f64>,
    /// This run's private data directory (H2 database, transaction logs).
    #[serde(default)]
    pub data_dir: Option<String>,
}

fn read_state() -> Result<Option<State>> {
    let path = state_path();
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("{} is not a valid state file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_state(state: &State) -> Result<()> {
    let path = state_path();
    let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
    let mut text = serde_json::to_string_pretty(state)?;
    text.push('\n');
    fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
}

/// Removes the state file if it still describes the server with this PID.
fn remove_state_for(pid: u32) {
    if let Ok(Some(state)) = read_state()
        && state.pid == pid
    {
        let _ = fs::remove_file(state_path());
    }
}

// ---------------------------------------------------------------------------------------------
// fetch

fn dist_is_unpacked(home: &Path) -> bool {
    home.join("bin/kc.sh").is_file() && home.join("lib/quarkus-run.jar").is_file()
}

/// Downloads and unpacks the distribution unless it is already unpacked; returns its home.
pub fn fetch() -> Result<PathBuf> {
    let home = dist_home();
    if dist_is_unpacked(&home) {
        println!(
            "keycloak {VERSION} is already unpacked at {}",
            home.display()
        );
        return Ok(home);
    }
    let cache = cache_dir();
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let zip = zip_path();

    if zip.is_file() {
        let sum = sha256(&zip)?;
        if sum == ZIP_SHA256 {
            println!("using the already downloaded {}", zip.display());
        } else {
            eprintln!(
                "{} has sha256 {sum}, expected {ZIP_SHA256}: downloading it again",
                zip.display()
            );
            fs::remove_file(&zip).with_context(|| format!("removing {}", zip.display()))?;
        }
    }
    if !zip.is_file() {
        download(&cache)?;
        if !zip.is_file() {
            bail!("mvn finished but {} does not exist", zip.display());
        }
        let sum = sha256(&zip)?;
        if sum != ZIP_SHA256 {
            bail!(
                "{} has sha256 {sum}, expected {ZIP_SHA256}. Maven copies from ~/.m2 when the \
                 artifact is there: remove ~/.m2/repository/org/keycloak/keycloak-quarkus-dist/{VERSION} \
                 and {} and try again",
                zip.display(),
                zip.display()
            );
        }
        println!("sha256 ok: {sum}");
    }

    unpack(&zip, &cache, &home)?;
    println!("keycloak {VERSION} unpacked at {}", home.display());
    Ok(home)
}

fn download(cache: &Path) -> Result<()> {
    let Some(mvn) = which("mvn") else {
        bail!(
            "`mvn` is not on PATH: install Maven (e.g. `apt-get install maven`) to download \
             org.keycloak:keycloak-quarkus-dist:{VERSION}:zip, or put keycloak-quarkus-dist-{VERSION}.zip \
             into {}",
            cache.display()
        );
    };
    if which("java").is_none() && std::env::var_os("JAVA_HOME").is_none() {
        bail!(
            "Maven needs Java, but there is no `java` on PATH and JAVA_HOME is unset: install a JDK 17+"
        );
    }
    println!("downloading org.keycloak:keycloak-quarkus-dist:{VERSION}:zip with Maven...");
    let t0 = Instant::now();
    // Output is kept for errors only (a quiet, successful Maven still prints colour resets).
    let out = Command::new(mvn)
        .args(["-B", "-q"])
        .arg(format!("{DEPENDENCY_PLUGIN}:copy"))
        .arg(format!(
            "-Dartifact=org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
        ))
        .arg(format!("-DoutputDirectory={}", cache.display()))
        .stdin(Stdio::null())
        .output()
        .context("running mvn")?;
    if !out.status.success() {
        bail!(
            "mvn failed ({}) downloading keycloak-quarkus-dist {VERSION}:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("downloaded in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn sha256(file: &Path) -> Result<String> {
    let attempts: [(&str, &[&str]); 2] = [("sha256sum", &[]), ("shasum", &["-a", "256"])];
    for (tool, args) in attempts {
        if which(tool).is_none() {
            continue;
        }
        let out = Command::new(tool)
            .args(args)
            .arg(file)
            .output()
            .with_context(|| format!("running {tool}"))?;
        if !out.status.success() {
            bail!(
                "{tool} {} failed: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(sum) = text.split_whitespace().next() {
            return Ok(sum.to_ascii_lowercase());
        }
    }
    bail!("neither `sha256sum` nor `shasum` is on PATH: cannot verify the download")
}

/// Unpacks into a scratch directory first, so a half-unpacked tree never looks complete.
fn unpack(zip: &Path, cache: &Path, home: &Path) -> Result<()> {
    let scratch = cache.join(format!(".unpack-{}", std::process::id()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    fs::create_dir_all(&scratch)?;
    let t0 = Instant::now();
    let ran = if which("unzip").is_some() {
        println!("unpacking with unzip...");
        Command::new("unzip")
            .arg("-q")
            .arg(zip)
            .arg("-d")
            .arg(&scratch)
            .status()
            .context("running unzip")?
    } else if which("python3").is_some() {
        println!("`unzip` not found; unpacking with python3 -m zipfile...");
        Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(zip)
            .arg(&scratch)
            .status()
            .context("running python3 -m zipfile")?
    } else if which("jar").is_some() {
        println!("`unzip` and `python3` not found; unpacking with jar...");
        Command::new("jar")
            .arg("xf")
            .arg(fs::canonicalize(zip)?)
            .current_dir(&scratch)
            .status()
            .context("running jar")?
    } else {
        bail!(
            "cannot unpack {}: install `unzip` (or python3, or a JDK's `jar`)",
            zip.display()
        );
    };
    if !ran.success() {
        bail!("unpacking {} failed ({ran})", zip.display());
    }
    let inner = scratch.join(format!("keycloak-{VERSION}"));
    if !dist_is_unpacked(&inner) {
        bail!(
            "unexpected zip layout: {} has no bin/kc.sh (see {})",
            inner.display(),
            scratch.display()
        );
    }
    // python's zipfile and jar drop the permission bits.
    for entry in fs::read_dir(inner.join("bin"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sh") {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
    }
    if home.exists() {
        // A partial tree left by someone else: replace it.
        fs::remove_dir_all(home).with_context(|| format!("removing {}", home.display()))?;
    }
    fs::rename(&inner, home).with_context(|| format!("moving the tree to {}", home.display()))?;
    fs::remove_dir_all(&scratch)?;
    println!("unpacked in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Java

struct Java {
    home: Option<PathBuf>,
    bin: PathBuf,
    /// Human-readable: where it came from and `java -version`'s first line.
    description: String,
}

fn choose_java() -> Result<Java> {
    let jvm = Path::new("/usr/lib/jvm");
    let mut temurin = vec![jvm.join("temurin-25-jdk-amd64")];
    if let Ok(entries) = fs::read_dir(jvm) {
        let mut others: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("temurin-25"))
            })
            .collect();
        others.sort();
        temurin.extend(others);
    }
    let (home, bin, source) = if let Some(home) =
        temurin.into_iter().find(|h| h.join("bin/java").is_file())
    {
        let bin = home.join("bin/java");
        (Some(home), bin, "Temurin 25")
    } else if let Some(home) = std::env::var_os("JAVA_HOME")
        .map(PathBuf::from)
        .filter(|h| h.join("bin/java").is_file())
    {
        let bin = home.join("bin/java");
        (Some(home), bin, "JAVA_HOME")
    } else if let Some(bin) = which("java") {
        (None, bin, "java on PATH")
    } else {
        bail!(
            "no Java found: install a JDK 17+ (Temurin 25 is the one Keycloak {VERSION} recommends) \
             or set JAVA_HOME"
        );
    };
    let out = Command::new(&bin)
        .arg("-version")
        .output()
        .with_context(|| format!("running {} -version", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("unknown version")
        .to_string();
    Ok(Java {
        description: format!("{} ({source}: {version})", bin.display()),
        home,
        bin,
    })
}

// ---------------------------------------------------------------------------------------------
// start

/// A server this invocation started or found running.
pub struct Server {
    pub state: State,
    /// True when an already running server was reused: then it is not ours to stop.
    pub reused: bool,
    /// `kc.sh`, when this process spawned it.
    child: Option<Child>,
    /// Stops the server if this process dies (Ctrl-C) while it owns it.
    watchdog: Option<Child>,
}

impl Server {
    /// Stops the server if this invocation started it; a reused server keeps running.
    pub fn stop_if_owned(mut self) -> Result<()> {
        if self.reused {
            return Ok(());
        }
        let result = stop(&self.state, self.child.as_mut());
        disarm(self.watchdog.take());
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Dropping without stop_if_owned means "leave it running" (`keycloak start`).
        disarm(self.watchdog.take());
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn port_from_env(name: &str) -> Result<Option<u16>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u16>()
            .map(Some)
            .with_context(|| format!("{name}={v} is not a port number")),
        _ => Ok(None),
    }
}

/// Free loopback ports: bind port 0 (both at once, so they differ) and release them.
fn choose_ports() -> Result<(u16, u16)> {
    let http = port_from_env("CLOAKROOM_KC_HTTP_PORT")?;
    let mgmt = port_from_env("CLOAKROOM_KC_MGMT_PORT")?;
    let mut held = Vec::new();
    let mut pick = |fixed: Option<u16>, name: &str| -> Result<u16> {
        let listener = TcpListener::bind(("127.0.0.1", fixed.unwrap_or(0))).with_context(|| {
            format!(
                "127.0.0.1:{} ({name}) is not free",
                fixed.unwrap_or_default()
            )
        })?;
        let port = listener.local_addr()?.port();
        held.push(listener);
        Ok(port)
    };
    let http = pick(http, "CLOAKROOM_KC_HTTP_PORT")?;
    let mgmt = pick(mgmt, "CLOAKROOM_KC_MGMT_PORT")?;
    drop(held);
    Ok((http, mgmt))
}

fn start_timeout() -> Result<Duration> {
    match std::env::var("CLOAKROOM_KC_START_TIMEOUT") {
        Ok(v) if !v.trim().is_empty() => Ok(Duration::from_secs(v.trim().parse().with_context(
            || format!("CLOAKROOM_KC_START_TIMEOUT={v} is not a number of seconds"),
        )?)),
        _ => Ok(Duration::from_secs(DEFAULT_START_TIMEOUT_SECS)),
    }
}

/// Reuses the server in the state file when it is alive and ready, else starts a new one.
pub fn ensure_started() -> Result<Server> {
    if let Some(state) = read_state()? {
        let alive = group_alive(state.pid);
        if alive && is_keycloak_group(state.pid) && health_ready(&state.management_url) {
            println!(
                "keycloak {} is already running and ready at {} (pid {}): reusing it",
                state.version, state.url, state.pid
            );
            return Ok(Server {
                state,
                reused: true,
                child: None,
                watchdog: None,
            });
        }
        if alive && is_keycloak_group(state.pid) {
            eprintln!(
                "the server in {} (pid {}) is alive but not ready: stopping it and starting a new one",
                state_path().display(),
                state.pid
            );
            stop(&state, None)?;
        } else {
            eprintln!(
                "{} names pid {}, which is gone: starting a new server",
                state_path().display(),
                state.pid
            );
            let _ = fs::remove_file(state_path());
        }
    }
    start_new()
}

fn start_new() -> Result<Server> {
    let home = fetch()?;
    let java = choose_java()?;
    println!("java: {}", java.description);
    let (http_port, mgmt_port) = choose_ports()?;
    let admin_username = env_or("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
    let admin_password = env_or("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");

    // Each run gets its own data directory: kc.db-url-path replaces the home directory in
    // the dev-file H2 URL (`<path>/data/h2/keycloakdb`), and Narayana's object store is moved
    // next to it. The distribution's own data/ is left alone.
    let started_at = SystemTime::now();
    let run_id = format!(
        "{}-{}",
        started_at.duration_since(UNIX_EPOCH)?.as_secs(),
        std::process::id()
    );
    let run_dir = cache_dir().join("run").join(&run_id);
    let data_dir = run_dir.join("data");
    fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let log_path = run_dir.join("keycloak.log");
    let log =
        fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;

    let kc_sh = home.join("bin/kc.sh");
    // `setsid` execs in place (our child is not a group leader), so the PID we get is kc.sh's
    // and it leads a new session and process group; without it, a new process group.
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
    cmd.arg("start-dev")
        .arg("--http-host=127.0.0.1")
        .arg(format!("--http-port={http_port}"))
        .arg(format!("--http-management-port={mgmt_port}"))
        .args(BUILD_OPTIONS)
        .arg(format!("-Dkc.db-url-path={}", run_dir.display()))
        .arg(format!(
            "-Dquarkus.transaction-manager.object-store.directory={}",
            data_dir.join("transaction-logs").display()
        ))
        .env("KC_BOOTSTRAP_ADMIN_USERNAME", &admin_username)
        .env("KC_BOOTSTRAP_ADMIN_PASSWORD", &admin_password)
        .env(
            "JAVA_OPTS_KC_HEAP",
            env_or("JAVA_OPTS_KC_HEAP", "-Xms256m -Xmx1g"),
        )
        .env("JAVA", &java.bin)
        .current_dir(&run_dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    match &java.home {
        Some(h) => cmd.env("JAVA_HOME", h),
        None => cmd.env_remove("JAVA_HOME"),
    };

    println!(
        "starting keycloak {VERSION} on http://127.0.0.1:{http_port} (management {mgmt_port}), log {}",
        log_path.display()
    );
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("spawning {}", kc_sh.display()))?;
    let pid = child.id();
    let watchdog = arm_watchdog(pid, &data_dir);

    let state = State {
        version: VERSION.to_string(),
        url: format!("http://127.0.0.1:{http_port}"),
        management_url: format!("http://127.0.0.1:{mgmt_port}"),
        http_port,
        management_port: mgmt_port,
        pid,
        admin_username,
        admin_password,
        log: log_path.display().to_string(),
        java: java.description,
        started_at: rfc3339(started_at),
        start_seconds: None,
        data_dir: Some(data_dir.display().to_string()),
    };
    let mut server = Server {
        state,
        reused: false,
        child: None,
        watchdog,
    };

    if let Err(e) = wait_until_ready(&server.state, &mut child, t0) {
        let tail = log_tail(&log_path, 60);
        let _ = stop(&server.state, Some(&mut child));
        disarm(server.watchdog.take());
        bail!(
            "{e:#}\n--- last lines of {} ---\n{tail}--- end of log ---",
            log_path.display()
        );
    }
    server.state.start_seconds = Some((t0.elapsed().as_secs_f64() * 10.0).round() / 10.0);
    server.child = Some(child);
    write_state(&server.state)?;
    Ok(server)
}

fn wait_until_ready(state: &State, child: &mut Child, t0: Instant) -> Result<()> {
    let timeout = start_timeout()?;
    let ready_url = format!("{}/health/ready", state.management_url);
    let mut last_report = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "keycloak exited during startup ({status}) after {:.0} s",
                t0.elapsed().as_secs_f64()
            );
        }
        if health_ready(&state.management_url) {
            break;
        }
        if t0.elapsed() > timeout {
            bail!(
                "keycloak was not ready within {} s ({ready_url} did not answer 200; \
                 raise CLOAKROOM_KC_START_TIMEOUT if the machine is slow)",
                timeout.as_secs()
            );
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            println!(
                "  still waiting for {ready_url} ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    admin_token(state).context("keycloak is ready but the bootstrap admin cannot log in")?;
    Ok(())
}

/// Password grant for the bootstrap admin on the master realm.
fn admin_token(state: &State) -> Result<()> {
    let body = format!(
        "grant_type=password&client_id=admin-cli&username={}&password={}",
        form_encode(&state.admin_username),
        form_encode(&state.admin_password)
    );
    let url = format!("{}/realms/master/protocol/openid-connect/token", state.url);
    let (status, text) = http(
        "POST",
        &url,
        Some(("application/x-www-form-urlencoded", &body)),
    )?;
    if status != 200 {
        bail!("POST {url} answered {status}: {}", excerpt(&text));
    }
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("token response: {}", excerpt(&text)))?;
    if json.get("access_token").and_then(|t| t.as_str()).is_none() {
        bail!("token response has no access_token: {}", excerpt(&text));
    }
    Ok(())
}

fn health_ready(management_url: &str) -> bool {
    matches!(
        http("GET", &format!("{management_url}/health/ready"), None),
        Ok((200, _))
    )
}

/// A watchdog shell in its own process group, reading a pipe from this process. When this
/// process dies (Ctrl-C, kill) while it still owns the server, the kernel closes the pipe, and
/// the watchdog stops the server's process group and removes the state file and data
/// directory. Disarmed by writing `disarm` to the pipe when the server is stopped normally or
/// handed over. (The pipe is close-on-exec, so no other child keeps it open; `kill -0 PID`
/// would not do, as it succeeds on an unreaped zombie.)
fn arm_watchdog(server_pid: u32, data_dir: &Path) -> Option<Child> {
    // POSIX sh (dash's `kill` takes no `--`; `-PGID` after the signal is a group).
    let script = r#"
kc=$1; state=$2; data=$3
if read -r line && [ "$line" = disarm ]; then exit 0; fi
kill -0 "-$kc" 2>/dev/null || exit 0
kill -TERM "-$kc" 2>/dev/null
i=0
while kill -0 "-$kc" 2>/dev/null && [ "$i" -lt 60 ]; do sleep 1; i=$((i+1)); done
kill -KILL "-$kc" 2>/dev/null
if grep -q "\"pid\": $kc," "$state" 2>/dev/null; then rm -f "$state"; fi
case "$data" in */.cache/keycloak/run/*/data) rm -rf "$data" ;; esac
"#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("cloakroom-keycloak-watchdog")
        .arg(server_pid.to_string())
        .arg(state_path())
        .arg(data_dir)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| eprintln!("warning: no watchdog (Ctrl-C will leave keycloak running): {e}"))
        .ok()
}

fn disarm(watchdog: Option<Child>) {
    if let Some(mut w) = watchdog {
        if let Some(mut pipe) = w.stdin.take() {
            let _ = pipe.write_all(b"disarm\n");
        }
        let _ = w.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// stop and status

fn stop_from_state_file() -> Result<()> {
    match read_state()? {
        None => {
            println!(
                "no state file ({}): no server started by xtask to stop",
                state_path().display()
            );
            Ok(())
        }
        Some(state) => stop(&state, None),
    }
}

/// SIGTERM to the server's process group, up to 60 s grace, then SIGKILL; removes the state
/// file and the run's data directory (the log stays).
fn stop(state: &State, mut child: Option<&mut Child>) -> Result<()> {
    let pid = state.pid;
    let reap = |child: &mut Option<&mut Child>| {
        if let Some(c) = child.as_deref_mut() {
            let _ = c.try_wait();
        }
    };
    reap(&mut child);
    if !group_alive(pid) {
        println!("keycloak (pid {pid}) is not running");
    } else if !is_keycloak_group(pid) {
        eprintln!(
            "process group {pid} does not look like Keycloak (pid reused?): not signalling it"
        );
    } else {
        println!("stopping keycloak (process group {pid})...");
        let t0 = Instant::now();
        signal_group("TERM", pid);
        let mut gone = false;
        while t0.elapsed() < Duration::from_secs(STOP_GRACE_SECS) {
            reap(&mut child);
            if !group_alive(pid) {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if !gone {
            eprintln!("keycloak did not exit within {STOP_GRACE_SECS} s: SIGKILL");
            signal_group("KILL", pid);
            let t1 = Instant::now();
            while t1.elapsed() < Duration::from_secs(10) {
                reap(&mut child);
                if !group_alive(pid) {
                    gone = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            if !gone {
                bail!("process group {pid} is still alive after SIGKILL");
            }
        }
        if let Some(c) = child {
            let _ = c.wait();
        }
        println!("stopped in {:.1} s", t0.elapsed().as_secs_f64());
    }
    remove_state_for(pid);
    if let Some(dir) = &state.data_dir {
        let dir = Path::new(dir);
        // Only ever our own per-run directory.
        if dir.starts_with(cache_dir().join("run")) && dir.ends_with("data") {
            let _ = fs::remove_dir_all(dir);
        }
    }
    Ok(())
}

fn status() -> Result<()> {
    let Some(state) = read_state()? else {
        bail!(
            "no state file ({}): start a server with `cargo xtask keycloak start`",
            state_path().display()
        );
    };
    println!("{}", serde_json::to_string_pretty(&state)?);
    let alive = group_alive(state.pid);
    let ready = alive && health_ready(&state.management_url);
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

// ---------------------------------------------------------------------------------------------
// Processes

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.is_file()
                && fs::metadata(p)
                    .map(|m| m.permissions().mode() & 0o111 != 0)
                    .unwrap_or(false)
        })
}

fn signal_group(signal: &str, pgid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stderr(Stdio::null())
        .status();
}

/// Members of a process group from /proc: (pid, state, command line). None without /proc.
fn group_members(pgid: u32) -> Option<Vec<(u32, char, String)>> {
    let entries = fs::read_dir("/proc").ok()?;
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) != Some(pgid) {
            continue;
        }
        let state = fields.first().and_then(|s| s.chars().next()).unwrap_or('?');
        let cmdline = fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        members.push((pid, state, cmdline));
    }
    Some(members)
}

/// Whether any non-zombie process is left in the group.
fn group_alive(pgid: u32) -> bool {
    match group_members(pgid) {
        Some(members) => members.iter().any(|(_, state, _)| *state != 'Z'),
        None => Command::new("kill")
            .args(["-0", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    }
}

/// Whether the group is a Keycloak server (guards against a reused PID).
fn is_keycloak_group(pgid: u32) -> bool {
    match group_members(pgid) {
        Some(members) => members.iter().any(|(_, _, cmd)| cmd.contains("keycloak")),
        None => Command::new("ps")
            .args(["-o", "args=", "-p", &pgid.to_string()])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("keycloak")),
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// Minimal HTTP/1.1 over std TCP (loopback only; no TLS, no redirects)

fn http(method: &str, url: &str, body: Option<(&str, &str)>) -> Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = authority
        .to_socket_addrs()
        .with_context(|| format!("resolving {authority}"))?
        .next()
        .with_context(|| format!("no address for {authority}"))?;
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if let Some((content_type, body)) = body {
        request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    if let Some((_, body)) = body {
        request.push_str(body);
    }
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("malformed HTTP response from {url}"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("malformed status line from {url}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

/// UTC timestamp like `2026-11-24T21:40:36Z`.
fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_556_436)),
            "2026-11-24T21:40:36Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
