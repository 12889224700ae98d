//! OpenID Connect: discovery, logins (authorization code + PKCE, device, client credentials,
//! password, refresh), token exchange, introspection, userinfo, logout, revocation, dynamic
//! client registration and offline JWT verification.
//!
//! Nothing here needs admin credentials: build a [`Client`] without any and call
//! [`Client::oidc`] with the realm.
//!
//! ```no_run
//! # async fn demo(callback_url: &str) -> cloakroom::Result<()> {
//! use cloakroom::{Client, ClientAuth};
//! let kc = Client::builder("https://sso.example.com").build()?;
//! let acme = kc.oidc("acme");
//!
//! // A service calling another with its own identity:
//! let billing = acme.client("billing", ClientAuth::SecretBasic("s3cret".into()));
//! let tokens = billing.client_credentials().await?;
//!
//! // An API checking bearer tokens offline (JWKS cached by kid, refetched on rotation):
//! let verifier = acme.verifier().authorized_party("billing").build()?;
//! let claims = verifier.verify(tokens.access_token.expose_secret()).await?;
//! let is_admin = claims.has_realm_role("admin");
//!
//! // A browser login with PKCE: send the user to `pending.url`, then finish with the
//! // URL Keycloak redirected back to (state, iss, code exchange and ID token checked).
//! let web = acme.client("web", ClientAuth::Public);
//! let pending = web.authorization_request("http://127.0.0.1:8400/callback").build();
//! let login = web.finish_login(&pending, callback_url).await?;
//!
//! // A device login: show the code, then poll (interval and slow_down honoured).
//! let tv = acme.client("tv", ClientAuth::Public);
//! let device = tv.device_authorization(Some("openid")).await?;
//! println!("Go to {} and enter {}", device.verification_uri, device.user_code);
//! let tv_tokens = tv.poll_device(&device).await?;
//! # let _ = (is_admin, login, tv_tokens);
//! # Ok(()) }
//! ```
//!
//! Keep the [`Oidc`] handle (cheap to clone) to reuse its discovery document; keep a
//! [`JwtVerifier`] to reuse its key cache.

mod claims;
mod client;
mod device;
mod discovery;
mod exchange;
mod keys;
mod login;
mod registration;
mod verify;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::Client;
use crate::error::{ApiError, AuthError, Error, Result};
use crate::request::{AuthMode, Method, Request, encode_segment};

pub(crate) use crate::clock::unix_secs;
pub(crate) use crate::jose::random_token;
pub use crate::jose::{Algorithm, Header, SigningKey};
pub use claims::{Access, Claims};
pub use client::{Introspection, OidcClient, PasswordGrant, TokenTypeHint, UserInfo};
pub use device::DeviceAuthorization;
pub use discovery::ProviderMetadata;
pub use exchange::{LegacyTokenExchange, TokenExchange, token_types};
pub use keys::{JsonWebKey, JsonWebKeySet};
pub use login::{AuthorizationRequest, CodeTokens, PendingLogin, Prompt};
pub use registration::{ClientRegistration, RegisteredClient};
pub use verify::{JwtVerifier, VerifierBuilder, insecure_decode};

/// The crate's one clock type, under the name this module has always used.
pub use crate::clock::Clock as TimeFn;
/// The future a [`SleepFn`] returns.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A function that waits (device polling). Tests pass one that returns at once and advances
/// their clock instead.
pub type SleepFn = Arc<dyn Fn(Duration) -> SleepFuture + Send + Sync>;

impl Client {
    /// The OpenID Connect endpoints of `realm`. Needs no admin credentials.
    pub fn oidc(&self, realm: impl Into<String>) -> Oidc {
        Oidc {
            inner: Arc::new(OidcInner {
                client: self.clone(),
                realm: realm.into(),
                discovery: tokio::sync::OnceCell::new(),
                clock: self.inner.clock.clone(),
                sleeper: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
            }),
        }
    }
}

/// One realm's OpenID Connect provider. Cheap to clone; clones share the cached discovery
/// document.
#[derive(Clone)]
pub struct Oidc {
    pub(crate) inner: Arc<OidcInner>,
}

pub(crate) struct OidcInner {
    pub(crate) client: Client,
    pub(crate) realm: String,
    discovery: tokio::sync::OnceCell<Arc<ProviderMetadata>>,
    pub(crate) clock: TimeFn,
    pub(crate) sleeper: SleepFn,
}

impl fmt::Debug for Oidc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oidc")
            .field("base_url", &self.inner.client.base_url())
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

pub(crate) const T_TOKEN: &str = "/realms/{realm}/protocol/openid-connect/token";
pub(crate) const T_CERTS: &str = "/realms/{realm}/protocol/openid-connect/certs";
pub(crate) const T_DISCOVERY: &str = "/realms/{realm}/.well-known/openid-configuration";

impl Oidc {
    /// The realm.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The underlying client.
    pub fn http_client(&self) -> &Client {
        &self.inner.client
    }

    /// Replaces the clock (tests): token expiry, device-code deadlines, verification times.
    pub fn with_clock(self, f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.rebuild(Some(Arc::new(f)), None)
    }

    /// Replaces the sleep function used between device-flow polls (tests).
    pub fn with_sleeper(self, f: impl Fn(Duration) -> SleepFuture + Send + Sync + 'static) -> Self {
        self.rebuild(None, Some(Arc::new(f)))
    }

    fn rebuild(self, clock: Option<TimeFn>, sleeper: Option<SleepFn>) -> Self {
        let i = &self.inner;
        let discovery = tokio::sync::OnceCell::new();
        if let Some(d) = i.discovery.get() {
            let _ = discovery.set(d.clone());
        }
        Oidc {
            inner: Arc::new(OidcInner {
                client: i.client.clone(),
                realm: i.realm.clone(),
                discovery,
                clock: clock.unwrap_or_else(|| i.clock.clone()),
                sleeper: sleeper.unwrap_or_else(|| i.sleeper.clone()),
            }),
        }
    }

    /// A client of this realm, identified by `client_id` and authenticated by `auth`.
    pub fn client(&self, client_id: impl Into<String>, auth: crate::ClientAuth) -> OidcClient {
        OidcClient::new(self.clone(), client_id.into(), auth)
    }

    /// The realm's issuer URL as the server sees it from the configured base URL
    /// (`{base}/realms/{realm}`). The authoritative value is [`ProviderMetadata::issuer`].
    pub fn issuer_url(&self) -> String {
        format!("{}{}", self.inner.client.base_url(), self.realm_path())
    }

    /// The discovery document (`.well-known/openid-configuration`), fetched once per handle.
    pub async fn discovery(&self) -> Result<Arc<ProviderMetadata>> {
        self.inner
            .discovery
            .get_or_try_init(|| async {
                let req = self.public_request(
                    Method::Get,
                    "/.well-known/openid-configuration",
                    T_DISCOVERY,
                );
                let resp = self.inner.client.send(req).await?;
                Ok::<_, Error>(Arc::new(resp.json::<ProviderMetadata>()?))
            })
            .await
            .cloned()
    }

    /// A verifier for tokens of this realm (configure audience, leeway, … on the builder).
    pub fn verifier(&self) -> VerifierBuilder {
        VerifierBuilder::new(self.clone())
    }

    /// Dynamic client registration (OpenID Connect Dynamic Client Registration).
    pub fn registration(&self) -> ClientRegistration {
        ClientRegistration::new(self.clone())
    }

    /// Builds the browser URL that ends the user's session (RP-initiated logout).
    pub fn end_session_url(&self) -> EndSessionUrl {
        EndSessionUrl {
            base: format!("{}/protocol/openid-connect/logout", self.issuer_url()),
            params: Vec::new(),
        }
    }

    pub(crate) fn realm_path(&self) -> String {
        format!("/realms/{}", encode_segment(&self.inner.realm))
    }

    pub(crate) fn now(&self) -> SystemTime {
        (self.inner.clock)()
    }

    /// A request to `/realms/{realm}{tail}` without bearer authentication.
    pub(crate) fn public_request(
        &self,
        method: Method,
        tail: &str,
        template: &'static str,
    ) -> Request {
        Request::new(method, format!("{}{tail}", self.realm_path()), template)
            .realm(self.inner.realm.clone())
            .auth(AuthMode::None)
    }

    /// Sends a request to an OAuth endpoint; error answers become [`Error::Auth`].
    pub(crate) async fn oauth_send(
        &self,
        req: Request,
        grant: &str,
    ) -> Result<crate::request::Response> {
        self.inner
            .client
            .send(req)
            .await
            .map_err(|e| oauth_error(&self.inner.realm, grant, e))
    }
}

/// The RP-initiated logout URL, built parameter by parameter. Send the user's browser to
/// [`build`](Self::build)'s result.
#[derive(Clone, Debug)]
#[must_use]
pub struct EndSessionUrl {
    base: String,
    params: Vec<(&'static str, String)>,
}

impl EndSessionUrl {
    /// The ID token of the session (lets Keycloak skip the confirmation page).
    pub fn id_token_hint(mut self, id_token: &crate::Secret) -> Self {
        self.params
            .push(("id_token_hint", id_token.expose_secret().to_owned()));
        self
    }
    /// Where Keycloak sends the browser afterwards (must be registered on the client).
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.params.push(("post_logout_redirect_uri", uri.into()));
        self
    }
    /// The client asking (needed with a redirect URI when there is no ID token hint).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.params.push(("client_id", id.into()));
        self
    }
    /// Opaque value returned with the redirect.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.params.push(("state", state.into()));
        self
    }
    /// The URL.
    pub fn build(self) -> String {
        if self.params.is_empty() {
            return self.base;
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        format!("{}?{query}", self.base)
    }
}

/// Turns an error answer of an OAuth endpoint into [`Error::Auth`] (keeps transport errors).
pub(crate) fn oauth_error(realm: &str, grant: &str, e: Error) -> Error {
    match e {
        Error::Api(api) => {
            let ApiError { status, body, .. } = *api;
            Error::Auth(Box::new(AuthError {
                realm: realm.to_owned(),
                grant: grant.to_owned(),
                status: Some(status),
                error: body.error,
                description: body.error_description.or(body.error_message),
                cause: None,
            }))
        }
        other => other,
    }
}

/// Drops `null` values so optional fields never reach the wire as `None`.
pub(crate) fn push_opt(form: &mut Vec<(String, String)>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        form.push((k.to_owned(), v.to_owned()));
    }
}

pub(crate) fn json_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}
