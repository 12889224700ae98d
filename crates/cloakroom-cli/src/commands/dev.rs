//! `cloakroom dev up|down|status|init`: a local Keycloak without Docker.
//!
//! The launcher is the workspace's `cloakroom-devserver` crate (the same code as the test
//! harness, `cargo xtask keycloak`): the distribution is fetched with Maven in batch mode
//! (`org.keycloak:keycloak-quarkus-dist:<version>:zip`) into `<data dir>/keycloak/`, its
//! sha256 checked and unpacked there (or taken from `CLOAKROOM_KEYCLOAK_HOME`, an already
//! unpacked distribution). `up` starts `kc.sh start-dev` with the harness's JDK choice and
//! features, as the leader of its own process group, waits for `/health/ready` and an admin
//! login, and records the server in `<data dir>/keycloak/dev.json`; `down` stops exactly
//! that process group after checking it is still Keycloak (SIGTERM, then SIGKILL after 60 s).

use std::path::PathBuf;
use std::time::Duration;

use cloakroom::generated::models::{ClientRepresentation, UserRepresentation};
use cloakroom_devserver::State;
use cloakroom_devserver::dist::Distribution;
use cloakroom_devserver::keycloak::{self as kc, ServerOptions};
use serde_json::json;

use super::Ctx;
use crate::cli::{DevCmd, DevInitArgs, DevUpArgs};
use crate::config::data_dir;
use crate::exit::{CliError, CliResult};

fn root() -> CliResult<PathBuf> {
    Ok(data_dir()?.join("keycloak"))
}

fn state_path() -> CliResult<PathBuf> {
    Ok(root()?.join("dev.json"))
}

fn load_state() -> CliResult<Option<State>> {
    let p = state_path()?;
    State::read(&p).map_err(|e| CliError::usage(format!("malformed {}: {e}", p.display())))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// An unpacked distribution: `CLOAKROOM_KEYCLOAK_HOME`, or fetched with Maven and checked.
fn distribution(version: &str, progress: &dyn Fn(&str)) -> CliResult<Distribution> {
    if let Some(h) = std::env::var_os("CLOAKROOM_KEYCLOAK_HOME").filter(|h| !h.is_empty()) {
        return Distribution::at(&PathBuf::from(h), version)
            .map_err(|e| CliError::usage(format!("CLOAKROOM_KEYCLOAK_HOME: {e}")));
    }
    let root = root()?;
    crate::fsutil::ensure_private_dir(&root)?;
    Distribution::ensure(&root, version, "", progress).map_err(|e| {
        CliError::server(e.to_string()).with_hint(
            "install Maven, or set CLOAKROOM_KEYCLOAK_HOME to an unpacked Keycloak distribution",
        )
    })
}

fn options(a: &DevUpArgs, dist: Distribution) -> CliResult<ServerOptions> {
    let root = root()?;
    crate::fsutil::ensure_private_dir(&root)?;
    // Data (H2 database, transaction logs) lives in the data directory, not in the
    // distribution, which may be shared; it outlives the server.
    let mut o = ServerOptions::new(dist, &root.join("data"));
    o.http_port = a.port;
    o.management_port = a.management_port;
    o.admin_username = env_or("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
    o.admin_password = env_or("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin");
    o.heap = env_or("JAVA_OPTS_KC_HEAP", "-Xms256m -Xmx1g");
    o.log = root.join("keycloak.log");
    o.state_file = Some(state_path()?);
    o.timeout = Duration::from_secs(a.wait);
    Ok(o)
}

async fn up(ctx: &Ctx, a: DevUpArgs) -> CliResult {
    if let Some(s) = load_state()? {
        if kc::is_running(&s) {
            if kc::is_running_and_ready(&s) {
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
    let quiet = ctx.out.quiet;
    let progress = move |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let dist = distribution(&a.kc_version, &progress)?;
    let opts = options(&a, dist)?;
    // The launcher blocks (process waits, std HTTP probes): keep it off the async workers.
    let started = tokio::task::spawn_blocking(move || opts.start(&progress))
        .await
        .map_err(|e| CliError::other(format!("the launcher failed: {e}")))?;
    let server = started.map_err(|e| CliError::server(e.to_string()))?;
    // Ready: it runs on after this command (the watchdog only guarded the start).
    let state = server.detach();
    print_connect(ctx, &state);
    Ok(())
}

fn print_connect(ctx: &Ctx, s: &State) {
    ctx.out.note(format!(
        "Keycloak {} is ready at {} (management {}), started in {:.1} s\n\
         admin: {} (password from KC_BOOTSTRAP_ADMIN_PASSWORD, default `admin`)\n\
         connect: cloakroom config set server {} && cloakroom config set user {} && cloakroom login",
        s.version,
        s.url,
        s.management_url,
        s.start_seconds.unwrap_or_default(),
        s.admin_username,
        s.url,
        s.admin_username
    ));
}

async fn down(ctx: &Ctx) -> CliResult {
    let Some(s) = load_state()? else {
        ctx.out
            .note("no local Keycloak was started with `cloakroom dev up`");
        return Ok(());
    };
    let path = state_path()?;
    let state = s.clone();
    tokio::task::spawn_blocking(move || kc::stop(&state, Some(&path)))
        .await
        .map_err(|e| CliError::other(format!("the launcher failed: {e}")))?
        .map_err(|e| CliError::other(e.to_string()))?;
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
    let running = kc::is_running(&s);
    let is_ready = running && kc::is_running_and_ready(&s);
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
                file: vec![f],
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
    let realm_model = model(json!({"realm": realm, "enabled": true}))?;
    ensured(
        ctx,
        format!("realm `{realm}`"),
        kc.realms().ensure(&realm_model),
    )
    .await?;
    let handle = kc.realm(&realm);
    let client: ClientRepresentation = model(json!({
        "clientId": a.new_client,
        "publicClient": true,
        "directAccessGrantsEnabled": true,
        "standardFlowEnabled": true,
        "redirectUris": ["http://localhost/*", "http://127.0.0.1/*"],
        "webOrigins": ["+"],
        "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
    }))?;
    let what = format!("client `{}`", a.new_client);
    ensured(ctx, what, handle.clients().ensure(&client)).await?;
    let password = std::env::var("CLOAKROOM_DEV_USER_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| a.new_user.clone());
    let user: UserRepresentation = model(json!({
        "username": a.new_user,
        "enabled": true,
        "email": format!("{}@example.test", a.new_user),
        "emailVerified": true,
        "firstName": "Dev",
        "lastName": "User",
        "credentials": [{"type": "password", "value": password, "temporary": false}],
    }))?;
    let what = format!("user `{}`", a.new_user);
    ensured(ctx, what, handle.users().ensure(&user)).await?;
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

/// Awaits a create-if-absent, saying so when the object was there already.
async fn ensured(
    ctx: &Ctx,
    what: String,
    ensure: impl std::future::Future<Output = cloakroom::Result<cloakroom::admin::Ensured>>,
) -> CliResult {
    let outcome = ensure
        .await
        .map_err(|e| CliError::from(e).context(format!("creating {what}")))?;
    if !outcome.created {
        ctx.out.note(format!("{what} exists already"));
    }
    Ok(())
}

/// A typed model from a JSON literal (unknown fields are kept in the model's `extra`).
fn model<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> CliResult<T> {
    serde_json::from_value(v).map_err(|e| CliError::other(format!("building a model: {e}")))
}

pub async fn run(ctx: &Ctx, c: DevCmd) -> CliResult {
    match c {
        DevCmd::Up(a) => up(ctx, a).await,
        DevCmd::Down => down(ctx).await,
        DevCmd::Status => status(ctx).await,
        DevCmd::Init(a) => init(ctx, a).await,
    }
}
