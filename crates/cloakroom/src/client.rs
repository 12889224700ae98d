//! The [`Client`]: one connection pool, one token manager, any number of realms.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tracing::Instrument;

use crate::auth::{Credentials, TokenManager, TokenSet, TokenStats};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::request::{AuthMode, Method, Request, Response};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::transport::{Exchange, Observer, Transport};

pub(crate) mod census;

/// A Keycloak client. Cheap to clone (one `Arc`); clones share the connection pool and tokens.
///
/// Build one with [`Client::builder`]. The realm being administered is an argument of each call
/// (`kc.realm("acme")…`), never state of the client.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) tokens: TokenManager,
    pub(crate) auth_realm: String,
    /// The builder's clock, inherited by every handle made from this client.
    pub(crate) clock: Clock,
    /// The server's version, when told or detected: operations it does not serve are refused.
    pub(crate) server_version: std::sync::RwLock<Option<String>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.transport.base)
            .field("auth_realm", &self.inner.auth_realm)
            .field("credentials", self.inner.tokens.credentials())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client for the Keycloak server at `base_url`
    /// (for example `https://sso.example.com`, or `https://host/auth` for a path prefix).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url.into())
    }

    /// The server URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.transport.base
    }

    /// The realm tokens are obtained from.
    pub fn auth_realm(&self) -> &str {
        &self.inner.auth_realm
    }

    /// A current access token, obtaining or refreshing one if needed.
    pub async fn access_token(&self) -> Result<Secret> {
        Ok(self.token_set().await?.access_token.clone())
    }

    /// The current token set, obtaining or refreshing one if needed.
    pub async fn token_set(&self) -> Result<Arc<TokenSet>> {
        self.inner
            .tokens
            .token(&self.inner.transport, None)
            .await?
            .ok_or_else(|| Error::config("no token available"))
    }

    /// Counters of token-endpoint traffic made by this client and its clones.
    pub fn token_stats(&self) -> TokenStats {
        self.inner.tokens.stats()
    }

    /// Sends a request: adds the bearer token, retries idempotent calls on transient failures,
    /// refreshes the token and retries once after a 401, and turns non-2xx answers into
    /// [`Error::Api`].
    pub async fn send(&self, req: Request) -> Result<Response> {
        let span = tracing::debug_span!(
            "keycloak.request",
            method = req.method.as_str(),
            path = req.template,
            realm = req.realm.as_deref().unwrap_or(""),
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self.send_inner(&req).instrument(span.clone()).await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        if let Ok(r) = &result {
            span.record("status", r.status);
        } else if let Err(e) = &result {
            if let Some(s) = e.status() {
                span.record("status", s);
            }
        }
        result
    }

    /// The server's version, when the client was told it or detected it.
    pub fn server_version(&self) -> Option<String> {
        self.inner
            .server_version
            .read()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Asks the server its version (`GET /admin/serverinfo`, `systemInfo.version`), remembers
    /// it for the checks [`Error::NotServed`] comes from, and returns it.
    pub async fn detect_server_version(&self) -> Result<String> {
        const TEMPLATE: &str = "/admin/serverinfo";
        let info: serde_json::Value = self
            .send(Request::new(Method::Get, TEMPLATE, TEMPLATE))
            .await?
            .json()?;
        let version = info["systemInfo"]["version"]
            .as_str()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::Decode(Box::new(crate::error::DecodeError {
                    method: "GET".into(),
                    path: TEMPLATE.into(),
                    detail: "the server info has no systemInfo.version".into(),
                    body_excerpt: String::new(),
                }))
            })?
            .to_owned();
        if let Ok(mut v) = self.inner.server_version.write() {
            *v = Some(version.clone());
        }
        Ok(version)
    }

    async fn send_inner(&self, req: &Request) -> Result<Response> {
        if let Some(version) = self.server_version() {
            census::check(&version, req.method, req.template)?;
        }
        let transport = &self.inner.transport;
        let mut token = match req.auth {
            AuthMode::Bearer => self.inner.tokens.token(transport, None).await?,
            AuthMode::None => None,
        };
        let mut renewed = false;
        loop {
            let raw = transport
                .execute(req, token.as_ref().map(|t| &t.access_token))
                .await?;
            if raw.status == 401 && req.auth == AuthMode::Bearer && !renewed {
                renewed = true;
                let stale = token.as_ref().map(|t| t.access_token.clone());
                if let Some(new) = self.inner.tokens.token(transport, stale.as_ref()).await? {
                    tracing::debug!("401 from Keycloak; retrying once with a renewed token");
                    token = Some(new);
                    continue;
                }
            }
            return raw.into_result(req);
        }
    }
}

/// Configures a [`Client`]. Nothing touches the network until the first call.
pub struct ClientBuilder {
    base_url: String,
    auth_realm: String,
    credentials: Option<Credentials>,
    connect_timeout: Duration,
    timeout: Duration,
    root_certs_pem: Vec<Vec<u8>>,
    identity_pem: Option<Secret>,
    accept_invalid_certs: bool,
    proxy: Option<String>,
    no_proxy: bool,
    headers: Vec<(String, Secret)>,
    user_agent: String,
    retry: RetryPolicy,
    skew: Duration,
    clock: Option<Clock>,
    observer: Option<Observer>,
    pool_idle_timeout: Option<Duration>,
    server_version: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("auth_realm", &self.auth_realm)
            .field("credentials", &self.credentials)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("custom_root_certs", &self.root_certs_pem.len())
            .field("client_identity", &self.identity_pem.is_some())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("proxy", &self.proxy.as_ref().map(|p| redact_userinfo(p)))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

fn redact_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("redacted");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

impl ClientBuilder {
    fn new(base_url: String) -> Self {
        Self {
            base_url,
            auth_realm: "master".into(),
            credentials: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            root_certs_pem: Vec::new(),
            identity_pem: None,
            accept_invalid_certs: false,
            proxy: None,
            no_proxy: false,
            headers: Vec::new(),
            user_agent: concat!("cloakroom/", env!("CARGO_PKG_VERSION")).into(),
            retry: RetryPolicy::default(),
            skew: Duration::from_secs(30),
            clock: None,
            observer: None,
            pool_idle_timeout: None,
            server_version: None,
        }
    }

    /// The realm tokens are obtained from (default `master`).
    pub fn auth_realm(mut self, realm: impl Into<String>) -> Self {
        self.auth_realm = realm.into();
        self
    }

    /// What to authenticate admin calls with. Without it, only calls that need no token work.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time allowed for one whole request, answer included (default 60 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Trusts an extra CA certificate (PEM; may contain several) besides the built-in roots.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certs_pem.push(pem.into());
        self
    }

    /// Presents a client certificate (mutual TLS): PEM with the certificate chain and the
    /// private key (PKCS#8, PKCS#1 or SEC1) in one buffer.
    pub fn client_identity_pem(mut self, pem: impl Into<String>) -> Self {
        self.identity_pem = Some(Secret::new(pem));
        self
    }

    /// Turns off certificate verification.
    ///
    /// # Security warning
    /// Anyone on the network path can then read and change the traffic, tokens included.
    /// Use only against a throw-away local server; prefer [`Self::add_root_certificate_pem`].
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.accept_invalid_certs = yes;
        self
    }

    /// Sends all traffic through this proxy (`http://`, `https://` or `socks5://` URL).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Ignores proxy settings from the environment (`HTTP_PROXY`, …).
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Adds a header to every request, for example Cloudflare Access's
    /// `CF-Access-Client-Id` and `CF-Access-Client-Secret`. Values are treated as secrets:
    /// never logged, never in `Debug`.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Cloudflare Access service-token headers (`CF-Access-Client-Id`,
    /// `CF-Access-Client-Secret`) from the environment variables `CF_ACCESS_CLIENT_ID` and
    /// `CF_ACCESS_CLIENT_SECRET`. Neither set: nothing changes. Only one set: a configuration
    /// error naming the missing one (a half-configured tunnel would fail later, less clearly).
    pub fn cloudflare_access_from_env(self) -> Result<Self> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let headers = cloudflare_access_headers(read)?;
        Ok(headers
            .into_iter()
            .fold(self, |b, (name, value)| b.default_header(name, value)))
    }

    /// The `User-Agent` header (default `cloakroom/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The retry policy for idempotent calls.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Refresh tokens this long before they expire (default 30 s, capped at half the token's
    /// lifetime).
    pub fn refresh_skew(mut self, d: Duration) -> Self {
        self.skew = d;
        self
    }

    /// The server's Keycloak version (e.g. `26.4.7`): operations the served-surface census says
    /// it does not serve then fail with [`Error::NotServed`] before anything is sent. A version
    /// the census did not read blocks nothing. See also [`Client::detect_server_version`].
    pub fn server_version(mut self, version: impl Into<String>) -> Self {
        self.server_version = Some(version.into());
        self
    }

    /// A function called after every HTTP exchange (metrics, accounting).
    pub fn observer(mut self, f: impl Fn(&Exchange) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// How long idle pooled connections are kept (default: reqwest's 90 s).
    pub fn pool_idle_timeout(mut self, d: Duration) -> Self {
        self.pool_idle_timeout = Some(d);
        self
    }

    /// Replaces the clock used for token expiry (tests).
    #[doc(hidden)]
    pub fn clock(mut self, f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(f));
        self
    }

    /// Checks the configuration and builds the client. No network I/O happens here.
    pub fn build(self) -> Result<Client> {
        let parsed = url::Url::parse(&self.base_url)
            .map_err(|e| Error::config(format!("invalid server URL `{}`: {e}", self.base_url)))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "server URL must start with http:// or https://, got `{}`",
                self.base_url
            )));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::config(
                "server URL must not have a query or fragment",
            ));
        }
        if self.auth_realm.is_empty() {
            return Err(Error::config("auth realm is empty"));
        }
        // Without credentials the client still serves public endpoints (OIDC flows, discovery);
        // admin calls then fail with a configuration error.
        let credentials = self.credentials.unwrap_or(Credentials::None);
        let base = parsed.as_str().trim_end_matches('/').to_owned();

        let mut b = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            // Token and admin endpoints never redirect; following one could leak credentials.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(d) = self.pool_idle_timeout {
            b = b.pool_idle_timeout(d);
        }
        for pem in &self.root_certs_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config(format!("unreadable CA certificate: {e}")))?;
            if certs.is_empty() {
                return Err(Error::config("the CA bundle contains no certificate"));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if let Some(pem) = &self.identity_pem {
            let id = reqwest::Identity::from_pem(pem.expose_secret().as_bytes()).map_err(|_| {
                Error::config("unreadable client certificate or key (PEM expected)")
            })?;
            b = b.identity(id);
        }
        if self.accept_invalid_certs {
            tracing::warn!(
                server = %base,
                "TLS certificate verification is OFF (danger_accept_invalid_certs)"
            );
            b = b.danger_accept_invalid_certs(true);
        }
        if self.no_proxy {
            b = b.no_proxy();
        }
        if let Some(p) = &self.proxy {
            let proxy = reqwest::Proxy::all(p.as_str()).map_err(|_| {
                Error::config(format!("invalid proxy URL `{}`", redact_userinfo(p)))
            })?;
            b = b.proxy(proxy);
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &self.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::config(format!("invalid header name `{k}`")))?;
            let mut value = reqwest::header::HeaderValue::from_str(v.expose_secret())
                .map_err(|_| Error::config(format!("invalid value for header `{k}`")))?;
            value.set_sensitive(true);
            headers.append(name, value);
        }
        b = b.default_headers(headers);
        let http = b
            .build()
            .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))?;

        let clock: Clock = self.clock.unwrap_or_else(crate::clock::system);
        Ok(Client {
            inner: Arc::new(Inner {
                transport: Transport {
                    http,
                    base,
                    retry: self.retry,
                    observer: self.observer,
                },
                tokens: TokenManager::new(
                    credentials,
                    self.auth_realm.clone(),
                    self.skew,
                    clock.clone(),
                ),
                clock,
                auth_realm: self.auth_realm,
                server_version: std::sync::RwLock::new(self.server_version),
            }),
        })
    }
}

/// The Cloudflare Access headers from `CF_ACCESS_CLIENT_ID`/`CF_ACCESS_CLIENT_SECRET` as `read`
/// finds them: both or neither, never one alone.
fn cloudflare_access_headers(
    read: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(&'static str, String)>> {
    match (read("CF_ACCESS_CLIENT_ID"), read("CF_ACCESS_CLIENT_SECRET")) {
        (None, None) => Ok(Vec::new()),
        (Some(id), Some(secret)) => Ok(vec![
            ("CF-Access-Client-Id", id),
            ("CF-Access-Client-Secret", secret),
        ]),
        (Some(_), None) => Err(Error::Config(
            "CF_ACCESS_CLIENT_ID is set but CF_ACCESS_CLIENT_SECRET is not".into(),
        )),
        (None, Some(_)) => Err(Error::Config(
            "CF_ACCESS_CLIENT_SECRET is set but CF_ACCESS_CLIENT_ID is not".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_checks_configuration() {
        let c = || Credentials::password("a", "b");
        assert!(matches!(
            Client::builder("not a url").credentials(c()).build(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Client::builder("ftp://x").credentials(c()).build(),
            Err(Error::Config(_))
        ));
        // No credentials is allowed: public endpoints need none.
        assert!(Client::builder("http://x").build().is_ok());
        let kc = Client::builder("http://x:8080/auth/")
            .credentials(c())
            .build()
            .unwrap();
        assert_eq!(kc.base_url(), "http://x:8080/auth");
        assert!(matches!(
            Client::builder("http://x")
                .credentials(c())
                .add_root_certificate_pem(b"garbage".to_vec())
                .build(),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn debug_hides_secrets() {
        let b = Client::builder("http://x")
            .credentials(Credentials::client_credentials("svc", "topsecret"))
            .default_header("CF-Access-Client-Secret", "cf-secret-value")
            .proxy("http://user:proxypass@proxy:3128");
        let d = format!("{b:?}");
        assert!(
            !d.contains("topsecret") && !d.contains("cf-secret-value") && !d.contains("proxypass"),
            "{d}"
        );
        let kc = b.build().unwrap();
        let d = format!("{kc:?}");
        assert!(!d.contains("topsecret"), "{d}");
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
    }

    #[test]
    fn cloudflare_access_needs_both_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(cloudflare_access_headers(env(&[])).unwrap().is_empty());
        let both = cloudflare_access_headers(env(&[
            ("CF_ACCESS_CLIENT_ID", "id"),
            ("CF_ACCESS_CLIENT_SECRET", "s3cret"),
        ]))
        .unwrap();
        assert_eq!(both[0], ("CF-Access-Client-Id", "id".to_owned()));
        assert_eq!(both[1].0, "CF-Access-Client-Secret");
        let one = cloudflare_access_headers(env(&[("CF_ACCESS_CLIENT_SECRET", "s3cret")]));
        let message = one.unwrap_err().to_string();
        assert!(message.contains("CF_ACCESS_CLIENT_ID is not"), "{message}");
        assert!(!message.contains("s3cret"));
    }
}
