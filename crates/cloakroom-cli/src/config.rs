//! Profiles in the platform configuration directory, and the settings that result from
//! profile + environment + flags (flags win, then environment, then the profile).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::{GlobalArgs, GrantKind};
use crate::exit::{CliError, CliResult};

/// The configuration directory: `CLOAKROOM_CONFIG_DIR`, else the platform's
/// (`~/.config/cloakroom` on Linux, `~/Library/Application Support/cloakroom` on macOS).
pub fn config_dir() -> CliResult<PathBuf> {
    if let Some(d) = std::env::var_os("CLOAKROOM_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "cloakroom")
        .map(|p| p.config_dir().to_path_buf())
        .ok_or_else(|| {
            CliError::usage("cannot find a configuration directory; set CLOAKROOM_CONFIG_DIR")
        })
}

/// The data directory (for `dev`): `CLOAKROOM_DATA_DIR`, else the platform's.
pub fn data_dir() -> CliResult<PathBuf> {
    if let Some(d) = std::env::var_os("CLOAKROOM_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "cloakroom")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| CliError::usage("cannot find a data directory; set CLOAKROOM_DATA_DIR"))
}

/// One profile. Secrets are never stored here, only paths to files holding them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_realm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

pub const PROFILE_KEYS: &[&str] = &[
    "server",
    "realm",
    "auth-realm",
    "client-id",
    "user",
    "grant",
    "management-url",
    "password-file",
    "client-secret-file",
    "ca-cert",
    "insecure",
];

impl Profile {
    pub fn set(&mut self, key: &str, value: &str) -> CliResult {
        let v = Some(value.to_owned());
        match key.replace('_', "-").as_str() {
            "server" => {
                url::Url::parse(value)
                    .map_err(|e| CliError::usage(format!("invalid server URL `{value}`: {e}")))?;
                self.server = v;
            }
            "realm" => self.realm = v,
            "auth-realm" => self.auth_realm = v,
            "client-id" => self.client_id = v,
            "user" | "username" => self.user = v,
            "grant" => {
                self.grant = Some(match value {
                    "password" => GrantKind::Password,
                    "client-credentials" | "client_credentials" => GrantKind::ClientCredentials,
                    "device" => GrantKind::Device,
                    "auth-code" | "authorization-code" => GrantKind::AuthCode,
                    other => {
                        return Err(CliError::usage(format!(
                            "unknown grant `{other}` (password, client-credentials, device, auth-code)"
                        )));
                    }
                })
            }
            "management-url" => self.management_url = v,
            "password-file" => self.password_file = Some(absolute(value)?),
            "client-secret-file" => self.client_secret_file = Some(absolute(value)?),
            "ca-cert" => self.ca_cert = Some(absolute(value)?),
            "insecure" => {
                self.insecure = Some(match value {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ => return Err(CliError::usage("insecure is true or false")),
                })
            }
            "password" | "client-secret" | "secret" | "otp" => {
                return Err(CliError::usage(format!(
                    "`{key}` is a secret and is never stored in a profile"
                ))
                .with_hint(
                    "store it in a file readable only by you and set password-file / client-secret-file, or use CLOAKROOM_PASSWORD / CLOAKROOM_CLIENT_SECRET",
                ));
            }
            other => {
                return Err(CliError::usage(format!(
                    "unknown profile key `{other}`; known keys: {}",
                    PROFILE_KEYS.join(", ")
                )));
            }
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> CliResult<Option<String>> {
        let p = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        Ok(match key.replace('_', "-").as_str() {
            "server" => self.server.clone(),
            "realm" => self.realm.clone(),
            "auth-realm" => self.auth_realm.clone(),
            "client-id" => self.client_id.clone(),
            "user" | "username" => self.user.clone(),
            "grant" => self.grant.map(|g| g.as_str().to_owned()),
            "management-url" => self.management_url.clone(),
            "password-file" => p(&self.password_file),
            "client-secret-file" => p(&self.client_secret_file),
            "ca-cert" => p(&self.ca_cert),
            "insecure" => self.insecure.map(|b| b.to_string()),
            other => {
                return Err(CliError::usage(format!(
                    "unknown profile key `{other}`; known keys: {}",
                    PROFILE_KEYS.join(", ")
                )));
            }
        })
    }
}

fn absolute(p: &str) -> CliResult<PathBuf> {
    std::path::absolute(p).map_err(|e| CliError::usage(format!("bad path `{p}`: {e}")))
}

/// The file `config.toml` in the configuration directory.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

impl ConfigFile {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("config.toml")
    }

    pub fn load(dir: &Path) -> CliResult<Self> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(CliError::io(format!("cannot read {}", path.display()), e)),
        };
        toml::from_str(&text).map_err(|e| {
            CliError::usage(format!("malformed configuration {}: {e}", path.display()))
        })
    }

    pub fn save(&self, dir: &Path) -> CliResult {
        crate::fsutil::ensure_private_dir(dir)?;
        let text = toml::to_string_pretty(self)
            .map_err(|e| CliError::other(format!("cannot write configuration: {e}")))?;
        crate::fsutil::write_atomic(&Self::path(dir), text.as_bytes(), 0o600)
    }
}

/// The name of the profile in effect: `--profile`/`CLOAKROOM_PROFILE`, else the current one,
/// else `default`.
pub fn profile_name(g: &GlobalArgs, file: &ConfigFile) -> String {
    g.profile
        .clone()
        .or_else(|| file.current.clone())
        .unwrap_or_else(|| "default".to_owned())
}

/// Everything a command needs to know about where and how to connect.
#[derive(Clone, Debug)]
pub struct Settings {
    pub profile: String,
    pub config_dir: PathBuf,
    pub server: Option<String>,
    pub realm: Option<String>,
    pub auth_realm: String,
    pub client_id: String,
    pub user: Option<String>,
    pub grant: Option<GrantKind>,
    pub management_url: Option<String>,
    pub password_file: Option<PathBuf>,
    pub client_secret_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    pub insecure: bool,
    pub timeout: Option<u64>,
    pub no_cache: bool,
    /// Headers sent with every request (`--header`, Cloudflare Access); values are secrets.
    pub headers: Vec<(String, cloakroom::Secret)>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Settings {
    pub fn resolve(g: &GlobalArgs) -> CliResult<Self> {
        let dir = config_dir()?;
        let file = ConfigFile::load(&dir)?;
        let name = profile_name(g, &file);
        let profile = match file.profiles.get(&name) {
            Some(p) => p.clone(),
            None if g.profile.is_some() => {
                return Err(
                    CliError::usage(format!("no profile named `{name}`")).with_hint(format!(
                        "create it with `cloakroom --profile {name} config set server URL`"
                    )),
                );
            }
            None => Profile::default(),
        };
        let server = g
            .server
            .clone()
            .or_else(|| env("KEYCLOAK_URL"))
            .or(profile.server);
        let auth_realm = g
            .auth_realm
            .clone()
            .or(profile.auth_realm)
            .unwrap_or_else(|| "master".to_owned());
        Ok(Settings {
            profile: name,
            config_dir: dir,
            server: server.map(|s| s.trim_end_matches('/').to_owned()),
            realm: g.realm.clone().or(profile.realm),
            auth_realm,
            client_id: g
                .client_id
                .clone()
                .or(profile.client_id)
                .unwrap_or_else(|| "admin-cli".to_owned()),
            user: g
                .user
                .clone()
                .or_else(|| env("KEYCLOAK_USER"))
                .or(profile.user),
            grant: g.grant.or(profile.grant),
            management_url: g.management_url.clone().or(profile.management_url),
            password_file: g.password_file.clone().or(profile.password_file),
            client_secret_file: g.client_secret_file.clone().or(profile.client_secret_file),
            ca_cert: g.ca_cert.clone().or(profile.ca_cert),
            insecure: g.insecure || profile.insecure.unwrap_or(false),
            timeout: g.timeout,
            no_cache: g.no_cache,
            headers: extra_headers(&g.header)?,
        })
    }

    pub fn server(&self) -> CliResult<&str> {
        self.server.as_deref().ok_or_else(|| {
            CliError::usage("no server configured").with_hint(
                "pass --server URL, set CLOAKROOM_SERVER, or `cloakroom config set server URL`",
            )
        })
    }

    /// The realm being administered: `--realm`, else the profile's, else the auth realm.
    pub fn target_realm(&self) -> &str {
        self.realm.as_deref().unwrap_or(&self.auth_realm)
    }

    /// The grant in effect.
    pub fn grant(&self) -> GrantKind {
        self.grant.unwrap_or(if self.user.is_some() {
            GrantKind::Password
        } else {
            GrantKind::ClientCredentials
        })
    }

    /// The management URL: configured, else the server's scheme and host on port 9000.
    pub fn management_url(&self) -> CliResult<String> {
        if let Some(m) = &self.management_url {
            return Ok(m.trim_end_matches('/').to_owned());
        }
        let server = self.server().map_err(|e| {
            e.with_hint("pass --management-url URL or --server URL (port 9000 is assumed)")
        })?;
        let mut u = url::Url::parse(server)
            .map_err(|e| CliError::usage(format!("invalid server URL `{server}`: {e}")))?;
        u.set_port(Some(9000)).map_err(|_| {
            CliError::usage(format!("cannot derive a management URL from `{server}`"))
        })?;
        Ok(u.as_str().trim_end_matches('/').to_owned())
    }

    /// A client builder with the transport options (TLS, timeout) applied.
    pub fn builder(&self, base: &str) -> CliResult<cloakroom::ClientBuilder> {
        let mut b = cloakroom::Client::builder(base)
            .auth_realm(self.auth_realm.clone())
            .user_agent(concat!("cloakroom-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(t) = self.timeout {
            b = b.timeout(std::time::Duration::from_secs(t.max(1)));
        }
        if let Some(ca) = &self.ca_cert {
            let pem = std::fs::read(ca)
                .map_err(|e| CliError::io(format!("cannot read CA bundle {}", ca.display()), e))?;
            b = b.add_root_certificate_pem(pem);
        }
        if self.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        for (name, value) in &self.headers {
            b = b.default_header(name.clone(), value.clone());
        }
        Ok(b)
    }
}

/// `--header NAME:VALUE` values, then Cloudflare Access's service-token headers from
/// CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET (both or neither).
fn extra_headers(flags: &[String]) -> CliResult<Vec<(String, cloakroom::Secret)>> {
    let mut headers = Vec::new();
    for h in flags {
        let (name, value) = h
            .split_once(':')
            .map(|(n, v)| (n.trim(), v.trim()))
            .filter(|(n, _)| !n.is_empty() && !n.contains(char::is_whitespace))
            .ok_or_else(|| {
                // The value may be a secret: name only what is wrong, never echo it.
                CliError::usage("--header takes NAME:VALUE (for example `X-Env: test`)")
            })?;
        headers.push((name.to_owned(), cloakroom::Secret::new(value.to_owned())));
    }
    match (env("CF_ACCESS_CLIENT_ID"), env("CF_ACCESS_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => {
            headers.push(("CF-Access-Client-Id".into(), cloakroom::Secret::new(id)));
            headers.push((
                "CF-Access-Client-Secret".into(),
                cloakroom::Secret::new(secret),
            ));
        }
        (None, None) => {}
        _ => {
            return Err(CliError::usage(
                "Cloudflare Access needs both CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET",
            ));
        }
    }
    Ok(headers)
}
