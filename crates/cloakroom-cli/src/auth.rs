//! Tokens for the CLI: grants through the library, and a per-profile token cache shared by
//! every `cloakroom` process.
//!
//! The cache keeps one session per identity: `<config dir>/tokens/<profile>/<user>@<auth
//! realm>.<client>-<key>.json`, where the key covers the server, auth realm, client, user and
//! grant, so a one-off `--auth-realm dev --user dev-user login` leaves the profile's admin
//! session alone. Files are created 0600 and written atomically (temporary file + rename).
//! A separate `<profile>.lock` file is locked exclusively across
//! check → refresh → write, so parallel invocations with an expired cache perform one refresh:
//! the first one refreshes and writes, the others wait for the lock and find a fresh token.
//! A cache file readable by group or others is refused.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloakroom::{ClientAuth, Credentials, Otp, Secret, TokenProvider, TokenSet};
use serde::{Deserialize, Serialize};

use crate::cli::{GlobalArgs, GrantKind};
use crate::config::Settings;
use crate::exit::{CliError, CliResult};
use crate::{fsutil, secrets};

/// Seconds a cached access token must still be valid to be used.
const MIN_VALIDITY_SECS: u64 = 10;

/// What is stored in the cache file.
#[derive(Clone, Serialize, Deserialize)]
pub struct CacheEntry {
    pub version: u32,
    pub server: String,
    pub auth_realm: String,
    pub client_id: String,
    /// The user (password grant) or the client (client credentials).
    pub principal: String,
    pub grant: String,
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub issued_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<u64>,
}

impl std::fmt::Debug for CacheEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheEntry")
            .field("principal", &self.principal)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where a token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Cache,
    Refreshed,
    Granted,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::Refreshed => "refresh",
            Source::Granted => "grant",
        }
    }
}

/// What the caller needs.
pub enum Want {
    /// Any valid token (the cache is fine).
    Any,
    /// A token other than this one, which the server just refused.
    NotThis(String),
    /// A new grant, ignoring the cache (`login --fresh`).
    Fresh,
}

pub struct Obtained {
    pub entry: CacheEntry,
    pub source: Source,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn now() -> u64 {
    unix(SystemTime::now())
}

/// Resolves credentials lazily and talks to the token cache.
pub struct Auth {
    pub settings: Settings,
    password_stdin: bool,
    client_secret_stdin: bool,
    otp_flag: bool,
    password: Mutex<Option<Secret>>,
    client_secret: Mutex<Option<Option<Secret>>>,
    /// Why no usable session was found, for the message when a login cannot happen.
    why: Mutex<Option<String>>,
    /// Whether a browser or device login may be started (the `token`/`login` command, or a
    /// terminal); otherwise an expired interactive session is an error, never a hang.
    pub interactive: std::sync::atomic::AtomicBool,
}

impl Auth {
    pub fn new(settings: Settings, g: &GlobalArgs) -> CliResult<Arc<Self>> {
        if g.password_stdin && g.client_secret_stdin {
            return Err(CliError::usage(
                "--password-stdin and --client-secret-stdin cannot both read standard input",
            ));
        }
        Ok(Arc::new(Self {
            settings,
            password_stdin: g.password_stdin,
            client_secret_stdin: g.client_secret_stdin,
            otp_flag: g.otp,
            password: Mutex::new(None),
            client_secret: Mutex::new(None),
            why: Mutex::new(None),
            interactive: std::sync::atomic::AtomicBool::new(std::io::IsTerminal::is_terminal(
                &std::io::stderr(),
            )),
        }))
    }

    fn principal(&self) -> CliResult<String> {
        match self.settings.grant() {
            GrantKind::Password => self.settings.user.clone().ok_or_else(|| {
                CliError::auth("the password grant needs a user name").with_hint(
                    "pass --user NAME, set CLOAKROOM_USER, or `cloakroom config set user NAME`",
                )
            }),
            GrantKind::ClientCredentials => Ok(self.settings.client_id.clone()),
            GrantKind::Device | GrantKind::AuthCode => Ok(self
                .settings
                .user
                .clone()
                .unwrap_or_else(|| "(browser login)".to_owned())),
        }
    }

    fn password(&self) -> CliResult<Secret> {
        let mut slot = self.password.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let s = &self.settings;
        let p = if self.password_stdin {
            secrets::from_stdin("password")?
        } else if let Some(f) = &s.password_file {
            secrets::from_file(f, "password")?
        } else if let Some(p) =
            secrets::from_env(&["CLOAKROOM_PASSWORD", "KC_CLI_PASSWORD", "KEYCLOAK_PASSWORD"])
        {
            p
        } else if secrets::can_prompt() {
            secrets::prompt(&format!(
                "Password for {} in realm {}",
                s.user.as_deref().unwrap_or("?"),
                s.auth_realm
            ))?
        } else {
            return Err(CliError::auth(format!(
                "{}, and no password is available to log in",
                self.why()
            ))
            .with_hint(
                "run `cloakroom login` on a terminal with the same --server, --auth-realm, --client-id and --user, or set CLOAKROOM_PASSWORD, or pass --password-file FILE or --password-stdin",
            ));
        };
        *slot = Some(p.clone());
        Ok(p)
    }

    /// The client secret; `required` allows prompting and makes absence an error.
    fn client_secret(&self, required: bool) -> CliResult<Option<Secret>> {
        let mut slot = self.client_secret.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = slot.as_ref() {
            if v.is_some() || !required {
                return Ok(v.clone());
            }
        }
        let s = &self.settings;
        let v = if self.client_secret_stdin {
            Some(secrets::from_stdin("client secret")?)
        } else if let Some(f) = &s.client_secret_file {
            Some(secrets::from_file(f, "client secret")?)
        } else if let Some(v) =
            secrets::from_env(&["CLOAKROOM_CLIENT_SECRET", "KC_CLI_CLIENT_SECRET"])
        {
            Some(v)
        } else if required && secrets::can_prompt() {
            Some(secrets::prompt(&format!(
                "Client secret for {}",
                s.client_id
            ))?)
        } else {
            None
        };
        if required && v.is_none() {
            return Err(CliError::auth(format!(
                "no credentials: the client-credentials grant of `{}` needs a client secret",
                s.client_id
            ))
            .with_hint(
                "for a user login pass --user NAME; for a service account set CLOAKROOM_CLIENT_SECRET or pass --client-secret-file FILE",
            ));
        }
        *slot = Some(v.clone());
        Ok(v)
    }

    fn otp(&self) -> CliResult<Option<Secret>> {
        if let Some(o) = secrets::from_env(&["CLOAKROOM_OTP"]) {
            return Ok(Some(o));
        }
        if !self.otp_flag {
            return Ok(None);
        }
        if !secrets::can_prompt() {
            return Err(CliError::usage(
                "--otp needs a terminal to prompt on, or the code in CLOAKROOM_OTP",
            ));
        }
        let code = secrets::prompt_visible("One-time code")?;
        if code.is_empty() {
            return Err(CliError::usage("empty one-time code"));
        }
        Ok(Some(Secret::new(code)))
    }

    fn client_auth(&self, required: bool) -> CliResult<ClientAuth> {
        Ok(match self.client_secret(required)? {
            Some(s) => ClientAuth::SecretPost(s),
            None => ClientAuth::Public,
        })
    }

    fn credentials(&self) -> CliResult<Credentials> {
        let s = &self.settings;
        Ok(match s.grant() {
            GrantKind::Password => {
                let user = self.principal()?;
                let auth = self.client_auth(false)?;
                let mut c = Credentials::password(user, self.password()?)
                    .with_client(s.client_id.clone(), auth);
                if let Some(o) = self.otp()? {
                    c = c.with_otp(Otp::Code(o));
                }
                c
            }
            GrantKind::ClientCredentials => {
                let secret = self
                    .client_secret(true)?
                    .ok_or_else(|| CliError::auth("no client secret"))?;
                Credentials::client_credentials(s.client_id.clone(), secret)
            }
            GrantKind::Device | GrantKind::AuthCode => {
                return Err(CliError::usage(
                    "interactive grants have no stored credentials",
                ));
            }
        })
    }

    /// Device flow or authorization code + PKCE, through `cloakroom::oidc`.
    async fn interactive_grant(&self) -> CliResult<TokenSet> {
        let s = &self.settings;
        let kc = s.builder(s.server()?)?.build()?;
        let oc = kc
            .oidc(s.auth_realm.clone())
            .client(s.client_id.clone(), self.client_auth(false)?);
        match s.grant() {
            GrantKind::Device => {
                let d = oc.device_authorization(None).await?;
                eprintln!(
                    "To log in, open {} and enter the code {}",
                    d.verification_uri, d.user_code
                );
                if let Some(c) = &d.verification_uri_complete {
                    eprintln!("(or open {c})");
                }
                eprintln!("Waiting for the login to be approved...");
                Ok(oc.poll_device(&d).await?)
            }
            _ => {
                let listener = std::net::TcpListener::bind("127.0.0.1:0")
                    .map_err(|e| CliError::other(format!("cannot open a loopback port: {e}")))?;
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                let redirect = format!("http://127.0.0.1:{port}/callback");
                let pending = oc.authorization_request(redirect).build();
                eprintln!(
                    "Opening the browser to log in; if it does not open, visit:\n  {}",
                    pending.url
                );
                open_browser(&pending.url);
                let callback = tokio::task::spawn_blocking(move || wait_for_callback(listener))
                    .await
                    .map_err(|e| CliError::other(e.to_string()))??;
                Ok(oc.finish_login(&pending, &callback).await?.tokens)
            }
        }
    }

    /// This identity's session file and the profile's lock file.
    fn cache_paths(&self) -> CliResult<(PathBuf, PathBuf)> {
        let s = &self.settings;
        let (dir, lock) = profile_tokens(&s.config_dir, &s.profile);
        let principal = self.principal()?;
        let key = fnv1a(&[
            s.server()?,
            &s.auth_realm,
            &s.client_id,
            &principal,
            s.grant().as_str(),
        ]);
        let name = format!(
            "{}@{}.{}-{key:016x}.json",
            safe_name(&principal),
            safe_name(&s.auth_realm),
            safe_name(&s.client_id)
        );
        Ok((dir.join(name), lock))
    }

    /// Who this is about, for messages: user, auth realm, client and server.
    fn identity(&self) -> String {
        let s = &self.settings;
        format!(
            "`{}` in realm `{}` through client `{}` at {}",
            self.principal().unwrap_or_else(|_| "?".into()),
            s.auth_realm,
            s.client_id,
            s.server.as_deref().unwrap_or("?")
        )
    }

    fn why(&self) -> String {
        let why = self.why.lock().unwrap_or_else(|p| p.into_inner()).clone();
        why.unwrap_or_else(|| format!("not logged in as {}", self.identity()))
    }

    fn set_why(&self, why: String) {
        *self.why.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    /// The cache entry, if present, private, readable and for the same identity.
    fn read_cache(&self, path: &std::path::Path) -> CliResult<Option<CacheEntry>> {
        if !path.exists() {
            return Ok(None);
        }
        fsutil::check_private(path, "token cache")?;
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return Err(CliError::io(format!("cannot read {}", path.display()), e)),
        };
        let entry: CacheEntry = match serde_json::from_str(&text) {
            Ok(e) => e,
            Err(_) => {
                tracing::warn!(path = %path.display(), "ignoring an unreadable token cache");
                return Ok(None);
            }
        };
        let s = &self.settings;
        let same = entry.version == 1
            && Some(entry.server.as_str()) == s.server.as_deref()
            && entry.auth_realm == s.auth_realm
            && entry.client_id == s.client_id
            && entry.grant == s.grant().as_str()
            && Some(&entry.principal) == self.principal().ok().as_ref();
        if !same {
            tracing::info!("token cache is for another server, realm, client or user; ignoring it");
            return Ok(None);
        }
        Ok(Some(entry))
    }

    fn entry_from(&self, t: &TokenSet) -> CliResult<CacheEntry> {
        Ok(CacheEntry {
            version: 1,
            server: self.settings.server()?.to_owned(),
            auth_realm: self.settings.auth_realm.clone(),
            client_id: self.settings.client_id.clone(),
            principal: self.principal()?,
            grant: self.settings.grant().as_str().to_owned(),
            access_token: t.access_token.expose_secret().to_owned(),
            refresh_token: t
                .refresh_token
                .as_ref()
                .map(|r| r.expose_secret().to_owned()),
            token_type: t.token_type.clone(),
            scope: t.scope.clone(),
            issued_at: unix(t.issued_at),
            expires_at: t.expires_at.map(unix),
            refresh_expires_at: t.refresh_expires_at.map(unix),
        })
    }

    async fn grant(&self) -> CliResult<CacheEntry> {
        if matches!(
            self.settings.grant(),
            GrantKind::Device | GrantKind::AuthCode
        ) {
            if !self.interactive.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(CliError::auth(format!(
                    "{}, and the {} login cannot be renewed without a person",
                    self.why(),
                    self.settings.grant().as_str(),
                ))
                .with_hint("run `cloakroom login` to log in again"));
            }
            let t = self.interactive_grant().await?;
            return self.entry_from(&t);
        }
        let creds = self.credentials()?;
        let kc = self
            .settings
            .builder(self.settings.server()?)?
            .credentials(creds)
            .build()?;
        let t = kc.token_set().await?;
        self.entry_from(&t)
    }

    /// The `refresh_token` grant, through the library's OIDC client.
    async fn refresh(&self, rt: &str) -> CliResult<CacheEntry> {
        let s = &self.settings;
        let oc = s
            .builder(s.server()?)?
            .build()?
            .oidc(s.auth_realm.clone())
            .client(s.client_id.clone(), self.client_auth(false)?);
        let t = oc.refresh(&Secret::new(rt.to_owned())).await?;
        let mut e = self.entry_from(&t)?;
        if e.refresh_token.is_none() {
            e.refresh_token = Some(rt.to_owned());
        }
        Ok(e)
    }

    /// A token, from the cache when possible, else refreshed, else granted.
    pub async fn token(&self, want: Want) -> CliResult<Obtained> {
        self.settings.server()?;
        if self.settings.no_cache {
            self.set_why(format!(
                "the token cache is off (--no-cache) for {}",
                self.identity()
            ));
            return Ok(Obtained {
                entry: self.grant().await?,
                source: Source::Granted,
            });
        }
        let (cache, lock_path) = self.cache_paths()?;
        fsutil::ensure_private_dir(cache.parent().unwrap_or(&self.settings.config_dir))?;
        let mut opts = OpenOptions::new();
        opts.create(true).truncate(false).read(true).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let lock = opts
            .open(&lock_path)
            .map_err(|e| CliError::io(format!("cannot open {}", lock_path.display()), e))?;
        fs4::FileExt::lock(&lock)
            .map_err(|e| CliError::io(format!("cannot lock {}", lock_path.display()), e))?;
        tracing::debug!(lock = %lock_path.display(), "token cache locked");
        let result = self.token_locked(want, &cache).await;
        let _ = fs4::FileExt::unlock(&lock);
        result
    }

    async fn token_locked(&self, want: Want, cache: &std::path::Path) -> CliResult<Obtained> {
        let t = now();
        let cached = self.read_cache(cache)?;
        if let Some(c) = &cached {
            let valid = c.expires_at.is_none_or(|exp| exp > t + MIN_VALIDITY_SECS);
            let usable = match &want {
                Want::Any => valid,
                Want::NotThis(stale) => valid && &c.access_token != stale,
                Want::Fresh => false,
            };
            if usable {
                tracing::info!(
                    profile = %self.settings.profile,
                    expires_in = c.expires_at.map(|e| e.saturating_sub(t)),
                    "token cache hit"
                );
                return Ok(Obtained {
                    entry: c.clone(),
                    source: Source::Cache,
                });
            }
        }
        self.set_why(match (&cached, &want) {
            (_, Want::Fresh) => format!("a fresh login was asked for as {}", self.identity()),
            (None, _) => format!("not logged in as {}", self.identity()),
            (Some(c), _) => format!(
                "the session of {} expired{}",
                self.identity(),
                c.refresh_expires_at
                    .filter(|e| *e <= t + 5)
                    .map(|e| format!(" {} ago", ago(t.saturating_sub(e))))
                    .unwrap_or_default()
            ),
        });
        let mut obtained = None;
        if !matches!(want, Want::Fresh) {
            if let Some(rt) = cached.as_ref().and_then(|c| {
                c.refresh_token
                    .as_ref()
                    .filter(|_| c.refresh_expires_at.is_none_or(|e| e > t + 5))
            }) {
                match self.refresh(rt).await {
                    Ok(e) => {
                        tracing::info!(profile = %self.settings.profile, "token refreshed (refresh_token grant)");
                        obtained = Some(Obtained {
                            entry: e,
                            source: Source::Refreshed,
                        });
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "refresh refused; logging in again");
                        self.set_why(format!(
                            "Keycloak refused to renew the session of {} ({})",
                            self.identity(),
                            e.message
                        ));
                    }
                }
            }
        }
        let obtained = match obtained {
            Some(o) => o,
            None => {
                let e = self.grant().await?;
                tracing::info!(profile = %self.settings.profile, grant = %e.grant, "token granted");
                Obtained {
                    entry: e,
                    source: Source::Granted,
                }
            }
        };
        let json = serde_json::to_vec_pretty(&obtained.entry)
            .map_err(|e| CliError::other(format!("cannot encode the token cache: {e}")))?;
        fsutil::write_atomic(cache, &json, 0o600)?;
        // Testing hook: keep holding the lock so that a parallel invocation has to wait for it.
        if let Some(ms) = std::env::var("CLOAKROOM_DEBUG_LOCK_HOLD_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            std::thread::sleep(Duration::from_millis(ms.min(30_000)));
        }
        Ok(obtained)
    }

    /// An admin client whose token comes from the cache and is renewed (through the cache)
    /// when Keycloak refuses it.
    pub async fn admin_client(self: &Arc<Self>) -> CliResult<cloakroom::Client> {
        let first = self.token(Want::Any).await?;
        let state = Arc::new(Mutex::new((
            Some(first.entry.access_token.clone()),
            first.entry.access_token,
        )));
        let me = Arc::clone(self);
        let provider = TokenProvider::new(move || {
            let me = Arc::clone(&me);
            let state = Arc::clone(&state);
            async move {
                let (initial, last) = {
                    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                    (st.0.take(), st.1.clone())
                };
                if let Some(t) = initial {
                    return Ok(Secret::new(t));
                }
                match me.token(Want::NotThis(last)).await {
                    Ok(o) => {
                        let tok = o.entry.access_token;
                        state.lock().unwrap_or_else(|p| p.into_inner()).1 = tok.clone();
                        Ok(Secret::new(tok))
                    }
                    // The library keeps our error as its source; `CliError::from` unwraps it.
                    Err(e) => Err(cloakroom::Error::token_provider(e)),
                }
            }
        });
        Ok(self
            .settings
            .builder(self.settings.server()?)?
            .credentials(Credentials::Provider(provider))
            .build()?)
    }
}

/// The folder of a profile's sessions and the profile's lock file.
pub fn profile_tokens(config_dir: &std::path::Path, profile: &str) -> (PathBuf, PathBuf) {
    let safe = safe_name(profile);
    let dir = config_dir.join("tokens");
    (dir.join(&safe), dir.join(format!("{safe}.lock")))
}

/// A name made safe for a file name: ASCII letters, digits, `-`, `_` and `.`.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a over the parts (each followed by a 0 byte): stable across builds and platforms.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `42 seconds`, `5 minutes`, `3 hours`, `2 days`.
fn ago(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} seconds"),
        s if s < 7200 => format!("{} minutes", s / 60),
        s if s < 172_800 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Opens `url` in the desktop browser, if there is one; failures are ignored (the URL is printed).
fn open_browser(url: &str) {
    // CLOAKROOM_BROWSER names the opener; `none` turns opening off.
    let custom = std::env::var("CLOAKROOM_BROWSER")
        .ok()
        .filter(|b| !b.is_empty());
    if custom.as_deref() == Some("none") {
        return;
    }
    let cmd = if let Some(c) = &custom {
        c.as_str()
    } else if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(cmd)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Accepts the browser's redirect on the loopback listener (5 minutes at most) and returns
/// the request target (`/callback?code=…&state=…`).
fn wait_for_callback(listener: std::net::TcpListener) -> CliResult<String> {
    use std::io::{BufRead, BufReader, Write};
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    listener
        .set_nonblocking(true)
        .map_err(|e| CliError::other(e.to_string()))?;
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                if !target.starts_with("/callback") {
                    let _ =
                        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    continue;
                }
                let body = "<html><body><h1>cloakroom: login received</h1>You can close this window.</body></html>";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                return Ok(target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if std::time::Instant::now() > deadline {
                    return Err(CliError::auth("no login within 5 minutes"));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(CliError::other(format!("loopback listener failed: {e}"))),
        }
    }
}

/// Decodes a JWT's header and payload without verifying anything (the library's
/// `insecure_decode`, as JSON objects for printing).
pub fn decode_jwt(token: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let (header, claims) = cloakroom::oidc::insecure_decode(token).ok()?;
    Some((
        serde_json::Value::Object(header.raw),
        serde_json::Value::Object(claims.into_raw()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_jwt_payload_and_rejects_garbage() {
        use base64::Engine;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let t = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"RS256"}"#),
            enc(r#"{"sub":"x"}"#)
        );
        let (h, p) = decode_jwt(&t).unwrap();
        assert_eq!(h["alg"], "RS256");
        assert_eq!(p["sub"], "x");
        assert!(decode_jwt("nope").is_none());
        assert!(decode_jwt("a.b.c").is_none());
    }

    #[test]
    fn session_keys_separate_identities() {
        let admin = fnv1a(&["http://kc", "master", "admin-cli", "admin", "password"]);
        let dev = fnv1a(&["http://kc", "dev", "dev-app", "dev-user", "password"]);
        assert_ne!(admin, dev);
        // Parts are delimited: moving a character between parts changes the key.
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
        assert_eq!(fnv1a(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(safe_name("a b/c"), "a_b_c");
        assert_eq!(ago(90), "90 seconds");
        assert_eq!(ago(3600), "60 minutes");
    }
}
