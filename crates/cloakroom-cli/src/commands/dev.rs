//! `cloakroom dev up|down|status|init`: a local Keycloak without Docker.
//!
//! The distribution is fetched with Maven (`org.keycloak:keycloak-quarkus-dist:<version>:zip`)
//! into `<data dir>/keycloak/` and unpacked there (or taken from `CLOAKROOM_KEYCLOAK_HOME`, an
//! already unpacked distribution). `up` starts `kc.sh start-dev` in its own process group with a
//! bootstrap admin, waits for `/health/ready`, and records the PID, URLs and log path in
//! `<data dir>/keycloak/dev.json`; `down` stops exactly that process group (SIGTERM, then
//! SIGKILL after 30 s). The repository's test harness (`cargo xtask keycloak`) works the same
//! way but keeps its state in `.cache/keycloak/state.json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Ctx;
use crate::cli::{DevCmd, DevInitArgs, DevUpArgs};
use crate::config::data_dir;
use crate::exit::{CliError, CliResult};

#[derive(Serialize, Deserialize, Debug, Clone)]
struct DevState {
    version: String,
    url: String,
    management_url: String,
    pid: u32,
    admin_username: String,
    admin_password: String,
    log: PathBuf,
    home: PathBuf,
}

fn root() -> CliResult<PathBuf> {
    Ok(data_dir()?.join("keycloak"))
}

fn state_path() -> CliResult<PathBuf> {
    Ok(root()?.join("dev.json"))
}

fn load_state() -> CliResult<Option<DevState>> {
    let p = state_path()?;
    match std::fs::read_to_string(&p) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| CliError::usage(format!("malformed {}: {e}", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::io(format!("cannot read {}", p.display()), e)),
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        || std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

async fn ready(ctx: &Ctx, management_url: &str) -> bool {
    let Ok(settings) = ctx.settings() else {
        return false;
    };
    let Ok(b) = settings.builder(management_url) else {
        return false;
    };
    let Ok(kc) = b.retry(cloakroom::RetryPolicy::none()).build() else {
        return false;
    };
    let req = cloakroom::request::Request::new(
        cloakroom::request::Method::Get,
        "/health/ready",
        "{management}",
    )
    .auth(cloakroom::request::AuthMode::None);
    kc.send(req).await.is_ok()
}

/// An unpacked distribution: `CLOAKROOM_KEYCLOAK_HOME`, or fetched with Maven.
fn distribution(version: &str, quiet: bool) -> CliResult<PathBuf> {
    if let Some(h) = std::env::var_os("CLOAKROOM_KEYCLOAK_HOME").filter(|h| !h.is_empty()) {
        let h = PathBuf::from(h);
        if !h.join("bin/kc.sh").exists() {
            return Err(CliError::usage(format!(
                "CLOAKROOM_KEYCLOAK_HOME={} has no bin/kc.sh",
                h.display()
            )));
        }
        return Ok(h);
    }
    let root = root()?;
    let home = root.join(format!("keycloak-{version}"));
    if home.join("bin/kc.sh").exists() {
        return Ok(home);
    }
    crate::fsutil::ensure_private_dir(&root)?;
    let zip = root.join(format!("keycloak-quarkus-dist-{version}.zip"));
    if !zip.exists() {
        if !quiet {
            eprintln!("fetching Keycloak {version} with Maven...");
        }
        let status = std::process::Command::new("mvn")
            .args([
                "-q",
                "-B",
                "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
                &format!("-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:zip"),
                &format!("-DoutputDirectory={}", root.display()),
            ])
            .status()
            .map_err(|e| {
                CliError::usage(format!("cannot run mvn: {e}")).with_hint(
                    "install Maven, or set CLOAKROOM_KEYCLOAK_HOME to an unpacked Keycloak distribution",
                )
            })?;
        if !status.success() || !zip.exists() {
            return Err(CliError::server(format!(
                "mvn could not fetch keycloak-quarkus-dist {version}"
            )));
        }
    }
    let status = std::process::Command::new("unzip")
        .args(["-q", "-o"])
        .arg(&zip)
        .arg("-d")
        .arg(&root)
        .status()
        .map_err(|e| {
            CliError::usage(format!("cannot run unzip: {e}")).with_hint("install unzip")
        })?;
    if !status.success() || !home.join("bin/kc.sh").exists() {
        return Err(CliError::other(format!(
            "could not unpack {}",
            zip.display()
        )));
    }
    Ok(home)
}

async fn up(ctx: &Ctx, a: DevUpArgs) -> CliResult {
    if let Some(s) = load_state()? {
        if alive(s.pid) {
            if ready(ctx, &s.management_url).await {
                ctx.out.note(format!(
                    "Keycloak is already running at {} (pid {})",
                    s.url, s.pid
                ));
                return Ok(());
            }
            return Err(CliError::other(format!(
                "a Keycloak started earlier (pid {}) is running but not ready; see {} or run `cloakroom dev down`",
                s.pid,
                s.log.display()
            )));
        }
    }
    let home = distribution(&a.kc_version, ctx.out.quiet)?;
    let root = root()?;
    crate::fsutil::ensure_private_dir(&root)?;
    let log = root.join("keycloak.log");
    let log_file = std::fs::File::create(&log)
        .map_err(|e| CliError::io(format!("cannot create {}", log.display()), e))?;
    let user = std::env::var("KC_BOOTSTRAP_ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
    let password = std::env::var("KC_BOOTSTRAP_ADMIN_PASSWORD").unwrap_or_else(|_| "admin".into());
    let mut cmd = std::process::Command::new(home.join("bin/kc.sh"));
    cmd.args([
        "start-dev",
        "--http-host=127.0.0.1",
        &format!("--http-port={}", a.port),
        &format!("--http-management-port={}", a.management_port),
        "--health-enabled=true",
        "--metrics-enabled=true",
        // Data (H2 database, transaction logs) lives in the data directory, not in the
        // distribution, which may be shared.
        &format!("-Dkc.db-url-path={}", root.join("data").display()),
        &format!(
            "-Dquarkus.transaction-manager.object-store.directory={}",
            root.join("data/transaction-logs").display()
        ),
    ])
    .env("KC_BOOTSTRAP_ADMIN_USERNAME", &user)
    .env("KC_BOOTSTRAP_ADMIN_PASSWORD", &password)
    .stdin(std::process::Stdio::null())
    .stdout(log_file.try_clone()?)
    .stderr(log_file);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so `down` stops the script and the JVM together.
        cmd.process_group(0);
    }
    let child = cmd.spawn().map_err(|e| {
        CliError::other(format!(
            "cannot start {}: {e}",
            home.join("bin/kc.sh").display()
        ))
    })?;
    let state = DevState {
        version: a.kc_version.clone(),
        url: format!("http://127.0.0.1:{}", a.port),
        management_url: format!("http://127.0.0.1:{}", a.management_port),
        pid: child.id(),
        admin_username: user,
        admin_password: password,
        log: log.clone(),
        home,
    };
    let text = serde_json::to_vec_pretty(&state).map_err(|e| CliError::other(e.to_string()))?;
    crate::fsutil::write_atomic(&state_path()?, &text, 0o600)?;
    ctx.out.note(format!(
        "starting Keycloak {} (pid {}), log: {}",
        a.kc_version,
        state.pid,
        log.display()
    ));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(a.wait) {
        if !alive(state.pid) {
            return Err(CliError::other(format!(
                "Keycloak exited during start-up; see {}",
                log.display()
            )));
        }
        if ready(ctx, &state.management_url).await {
            print_connect(ctx, &state);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(CliError::server(format!(
        "Keycloak was not ready after {} s; see {}",
        a.wait,
        log.display()
    )))
}

fn print_connect(ctx: &Ctx, s: &DevState) {
    ctx.out.note(format!(
        "Keycloak {} is ready at {} (management {})\n\
         admin: {} (password from KC_BOOTSTRAP_ADMIN_PASSWORD, default `admin`)\n\
         connect: cloakroom config set server {} && cloakroom config set user {} && cloakroom login",
        s.version, s.url, s.management_url, s.admin_username, s.url, s.admin_username
    ));
}

async fn down(ctx: &Ctx) -> CliResult {
    let Some(s) = load_state()? else {
        ctx.out
            .note("no local Keycloak was started with `cloakroom dev up`");
        return Ok(());
    };
    if alive(s.pid) {
        let group = format!("-{}", s.pid);
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
        let started = Instant::now();
        while alive(s.pid) && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if alive(s.pid) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &group])
                .status();
        }
    }
    let _ = std::fs::remove_file(state_path()?);
    ctx.out.note(format!("stopped Keycloak (pid {})", s.pid));
    Ok(())
}

async fn status(ctx: &Ctx) -> CliResult {
    let Some(s) = load_state()? else {
        return Err(CliError::other(
            "not running: no local Keycloak was started with `cloakroom dev up`",
        ));
    };
    let running = alive(s.pid);
    let is_ready = running && ready(ctx, &s.management_url).await;
    ctx.out.print(
        &json!({
            "running": running,
            "ready": is_ready,
            "pid": s.pid,
            "version": s.version,
            "url": s.url,
            "management_url": s.management_url,
            "log": s.log,
        }),
        &[],
    )?;
    if is_ready {
        Ok(())
    } else {
        Err(CliError::other(format!(
            "Keycloak (pid {}) is {}",
            s.pid,
            if running {
                "running but not ready"
            } else {
                "not running"
            }
        )))
    }
}

async fn init(ctx: &Ctx, a: DevInitArgs) -> CliResult {
    if let Some(f) = a.file {
        return super::realm::run(
            ctx,
            crate::cli::RealmCmd::Apply(crate::cli::ApplyArgs {
                file: f,
                plan: false,
                continue_on_error: false,
                into: None,
                ..Default::default()
            }),
        )
        .await;
    }
    // Without a configured server, talk to the Keycloak `dev up` started, as its admin.
    let mut settings = ctx.settings()?;
    if settings.server.is_none() {
        if let Some(s) = load_state()? {
            settings.server = Some(s.url.clone());
            settings.user = Some(s.admin_username.clone());
            settings.auth_realm = "master".into();
            if std::env::var_os("CLOAKROOM_PASSWORD").is_none() && settings.password_file.is_none()
            {
                let pw = root()?.join("admin-password");
                crate::fsutil::write_atomic(&pw, s.admin_password.as_bytes(), 0o600)?;
                settings.password_file = Some(pw);
            }
        }
    }
    let auth = crate::auth::Auth::new(settings.clone(), &ctx.g)?;
    let kc = auth.admin_client().await?;
    let realm = a.new_realm.clone();
    let ensure =
        |r: Result<cloakroom::request::Response, cloakroom::Error>, what: &str| -> CliResult {
            match r {
                Ok(_) => Ok(()),
                Err(e) if e.is_conflict() => {
                    ctx.out.note(format!("{what} exists already"));
                    Ok(())
                }
                Err(e) => Err(CliError::from(e).context(format!("creating {what}"))),
            }
        };
    ensure(
        kc.raw()
            .post("/admin/realms")
            .json(&json!({"realm": realm, "enabled": true}))
            .send()
            .await,
        &format!("realm `{realm}`"),
    )?;
    let base = format!(
        "/admin/realms/{}",
        cloakroom::request::encode_segment(&realm)
    );
    ensure(
        kc.raw()
            .post(format!("{base}/clients"))
            .json(&json!({
                "clientId": a.new_client,
                "publicClient": true,
                "directAccessGrantsEnabled": true,
                "standardFlowEnabled": true,
                "redirectUris": ["http://localhost/*", "http://127.0.0.1/*"],
                "webOrigins": ["+"],
                "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
            }))
            .send()
            .await,
        &format!("client `{}`", a.new_client),
    )?;
    let password = std::env::var("CLOAKROOM_DEV_USER_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| a.new_user.clone());
    ensure(
        kc.raw()
            .post(format!("{base}/users"))
            .json(&json!({
                "username": a.new_user,
                "enabled": true,
                "email": format!("{}@example.test", a.new_user),
                "emailVerified": true,
                "firstName": "Dev",
                "lastName": "User",
                "credentials": [{"type": "password", "value": password, "temporary": false}],
            }))
            .send()
            .await,
        &format!("user `{}`", a.new_user),
    )?;
    let server = settings.server()?;
    ctx.out.print(
        &json!({
            "realm": realm,
            "client_id": a.new_client,
            "user": a.new_user,
            "password_from": "CLOAKROOM_DEV_USER_PASSWORD (default: the user name)",
            "issuer": format!("{server}/realms/{realm}"),
            "discovery": format!("{server}/realms/{realm}/.well-known/openid-configuration"),
            "try": format!(
                "cloakroom --server {server} --auth-realm {realm} --client-id {} --user {} login --format json",
                a.new_client, a.new_user
            ),
        }),
        &[],
    )
}

pub async fn run(ctx: &Ctx, c: DevCmd) -> CliResult {
    match c {
        DevCmd::Up(a) => up(ctx, a).await,
        DevCmd::Down => down(ctx).await,
        DevCmd::Status => status(ctx).await,
        DevCmd::Init(a) => init(ctx, a).await,
    }
}
