use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::credentials::{ClientAuth, Credentials};
use crate::clock::Clock;
use crate::error::{AuthError, Error, KeycloakErrorBody, Result};
use crate::request::{AuthMode, Method, Request, encode_segment};
use crate::secret::Secret;
use crate::transport::Transport;

/// Tokens issued by Keycloak's token endpoint.
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// The refresh token, when the grant issues one (`client_credentials` does not).
    pub refresh_token: Option<Secret>,
    /// The ID token, when `openid` was among the scopes.
    pub id_token: Option<Secret>,
    /// `token_type`, normally `Bearer`.
    pub token_type: String,
    /// Granted scopes.
    pub scope: Option<String>,
    /// When the token was received (by the client's clock).
    pub issued_at: SystemTime,
    /// When the access token expires, if the endpoint said.
    pub expires_at: Option<SystemTime>,
    /// When the refresh token expires, if the endpoint said (`0` from Keycloak means "no limit",
    /// as for offline tokens, and gives `None`).
    pub refresh_expires_at: Option<SystemTime>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// The token endpoint's JSON answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub refresh_expires_in: Option<u64>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl TokenResponse {
    pub(crate) fn into_token_set(self, now: SystemTime) -> TokenSet {
        TokenSet {
            access_token: Secret::new(self.access_token),
            refresh_token: self.refresh_token.map(Secret::new),
            id_token: self.id_token.map(Secret::new),
            token_type: self.token_type.unwrap_or_else(|| "Bearer".into()),
            scope: self.scope,
            issued_at: now,
            expires_at: self.expires_in.map(|s| now + Duration::from_secs(s)),
            refresh_expires_at: self
                .refresh_expires_in
                .filter(|s| *s > 0)
                .map(|s| now + Duration::from_secs(s)),
        }
    }
}

impl TokenSet {
    /// A caller-supplied access token: no refresh token, no known expiry.
    fn fixed(access_token: Secret, now: SystemTime) -> Self {
        TokenSet {
            access_token,
            refresh_token: None,
            id_token: None,
            token_type: "Bearer".into(),
            scope: None,
            issued_at: now,
            expires_at: None,
            refresh_expires_at: None,
        }
    }

    /// Whether the access token is still good for at least `skew` (capped at half its lifetime,
    /// so short-lived tokens are not refreshed on every call).
    fn fresh_at(&self, now: SystemTime, skew: Duration) -> bool {
        let Some(exp) = self.expires_at else {
            return true;
        };
        let lifetime = exp.duration_since(self.issued_at).unwrap_or_default();
        let margin = skew.min(lifetime / 2);
        now + margin < exp
    }

    /// Whether the access token expires within `window` from now (by the system clock), so a
    /// caller holding tokens of its own knows when to refresh. A token whose expiry the server
    /// did not say never does.
    pub fn expires_within(&self, window: Duration) -> bool {
        self.expires_at
            .is_some_and(|exp| SystemTime::now() + window >= exp)
    }

    fn refresh_usable_at(&self, now: SystemTime) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_at.is_none_or(|exp| now < exp)
    }
}

/// Counters of token-endpoint traffic, for tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenStats {
    /// Requests sent to the token endpoint (grants and refreshes).
    pub token_requests: u64,
    /// Of those, refresh-token grants.
    pub refreshes: u64,
}

/// Caches one token set and renews it for everyone at once.
pub(crate) struct TokenManager {
    creds: Credentials,
    realm: String,
    skew: Duration,
    clock: Clock,
    current: Mutex<Option<Arc<TokenSet>>>,
    // Held while a token request is in flight: this is the single flight.
    renewing: tokio::sync::Mutex<()>,
    token_requests: AtomicU64,
    refreshes: AtomicU64,
}

impl TokenManager {
    pub(crate) fn new(creds: Credentials, realm: String, skew: Duration, clock: Clock) -> Self {
        Self {
            creds,
            realm,
            skew,
            clock,
            current: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
            token_requests: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.creds
    }

    pub(crate) fn stats(&self) -> TokenStats {
        TokenStats {
            token_requests: self.token_requests.load(Ordering::Relaxed),
            refreshes: self.refreshes.load(Ordering::Relaxed),
        }
    }

    fn cached(&self) -> Option<Arc<TokenSet>> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn store(&self, t: Option<Arc<TokenSet>>) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// A usable token: `stale` is the token a request was just rejected with, which must not be
    /// handed out again. Returns `None` when a rejected token cannot be replaced (a fixed token).
    pub(crate) async fn token(
        &self,
        transport: &Transport,
        stale: Option<&Secret>,
    ) -> Result<Option<Arc<TokenSet>>> {
        let good = |t: &Arc<TokenSet>| {
            stale != Some(&t.access_token) && t.fresh_at((self.clock)(), self.skew)
        };
        if let Some(t) = self.cached().filter(good) {
            return Ok(Some(t));
        }
        let _flight = self.renewing.lock().await;
        // Someone else may have renewed while this caller waited.
        let previous = self.cached();
        if let Some(t) = previous.clone().filter(good) {
            return Ok(Some(t));
        }
        let renewed = self.renew(transport, previous.as_deref(), stale).await?;
        self.store(renewed.clone());
        Ok(renewed)
    }

    async fn renew(
        &self,
        transport: &Transport,
        previous: Option<&TokenSet>,
        stale: Option<&Secret>,
    ) -> Result<Option<Arc<TokenSet>>> {
        match &self.creds {
            // No credentials: calls go out without a token and Keycloak decides.
            Credentials::None => Ok(None),
            Credentials::Token(t) => {
                if stale == Some(t) {
                    return Ok(None);
                }
                Ok(Some(Arc::new(TokenSet::fixed(t.clone(), (self.clock)()))))
            }
            Credentials::Provider(p) => {
                let token = (p.0)().await?;
                if stale == Some(&token) {
                    return Ok(None);
                }
                Ok(Some(Arc::new(TokenSet::fixed(token, (self.clock)()))))
            }
            _ => {
                let now = (self.clock)();
                // Prefer the refresh token we hold; fall back to a fresh grant when it is refused.
                let refresh = previous
                    .filter(|p| p.refresh_usable_at(now))
                    .and_then(|p| p.refresh_token.clone());
                if let Some(rt) = refresh {
                    match self.refresh_grant(transport, &rt).await {
                        Ok(t) => return Ok(Some(Arc::new(t))),
                        Err(Error::Auth(e)) if self.can_regrant() => {
                            tracing::debug!(
                                realm = %self.realm,
                                error = e.error.as_deref().unwrap_or(""),
                                "refresh token refused; granting again"
                            );
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(Some(Arc::new(self.initial_grant(transport).await?)))
            }
        }
    }

    fn can_regrant(&self) -> bool {
        matches!(
            self.creds,
            Credentials::ClientCredentials { .. } | Credentials::Password { .. }
        )
    }

    async fn initial_grant(&self, transport: &Transport) -> Result<TokenSet> {
        let mut form: Vec<(String, String)> = Vec::new();
        let (client_id, auth) = match &self.creds {
            Credentials::ClientCredentials { client_id, auth } => {
                form.push(("grant_type".into(), "client_credentials".into()));
                (client_id, auth)
            }
            Credentials::Password {
                client_id,
                auth,
                username,
                password,
                otp,
            } => {
                form.push(("grant_type".into(), "password".into()));
                form.push(("username".into(), username.clone()));
                form.push(("password".into(), password.expose_secret().to_owned()));
                if let Some(otp) = otp {
                    form.push(("totp".into(), otp.current().expose_secret().to_owned()));
                }
                (client_id, auth)
            }
            Credentials::RefreshToken {
                refresh_token: rt, ..
            } => return self.refresh_grant(transport, rt).await,
            Credentials::Token(_) | Credentials::Provider(_) | Credentials::None => {
                return Err(Error::config("this kind of credentials has no grant"));
            }
        };
        self.post_token(transport, client_id, auth, form, self.creds.grant_name())
            .await
    }

    async fn refresh_grant(&self, transport: &Transport, rt: &Secret) -> Result<TokenSet> {
        let (client_id, auth) = match &self.creds {
            Credentials::ClientCredentials { client_id, auth }
            | Credentials::Password {
                client_id, auth, ..
            }
            | Credentials::RefreshToken {
                client_id, auth, ..
            } => (client_id, auth),
            Credentials::Token(_) | Credentials::Provider(_) | Credentials::None => {
                return Err(Error::config("this kind of credentials cannot refresh"));
            }
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let form = vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), rt.expose_secret().to_owned()),
        ];
        self.post_token(transport, client_id, auth, form, "refresh_token")
            .await
    }

    async fn post_token(
        &self,
        transport: &Transport,
        client_id: &str,
        auth: &ClientAuth,
        form: Vec<(String, String)>,
        grant: &str,
    ) -> Result<TokenSet> {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let req = token_request(&transport.base, &self.realm, client_id, auth, form)?;
        let resp = transport.execute(&req, None).await?;
        parse_token_answer(&self.realm, grant, resp.status, &resp.body, (self.clock)())
    }
}

/// Builds a token-endpoint request for `realm` with client authentication applied.
pub(crate) fn token_request(
    base: &str,
    realm: &str,
    client_id: &str,
    auth: &ClientAuth,
    form: Vec<(String, String)>,
) -> Result<Request> {
    let path = format!(
        "/realms/{}/protocol/openid-connect/token",
        encode_segment(realm)
    );
    let req = Request::new(
        Method::Post,
        path,
        "/realms/{realm}/protocol/openid-connect/token",
    )
    .realm(realm)
    .auth(AuthMode::None)
    // Repeating a grant creates no duplicate object; a lost answer is safe to ask again.
    .retry_post(true);
    authenticate_client(req, base, realm, client_id, auth, form)
}

/// Adds client authentication to a form request to one of `realm`'s OAuth endpoints.
pub(crate) fn authenticate_client(
    mut req: Request,
    base: &str,
    realm: &str,
    client_id: &str,
    auth: &ClientAuth,
    mut form: Vec<(String, String)>,
) -> Result<Request> {
    match auth {
        ClientAuth::Public => form.push(("client_id".into(), client_id.to_owned())),
        ClientAuth::SecretPost(s) => {
            form.push(("client_id".into(), client_id.to_owned()));
            form.push(("client_secret".into(), s.expose_secret().to_owned()));
        }
        ClientAuth::SecretBasic(s) => {
            req = req.header("authorization", basic_auth(client_id, s));
        }
        ClientAuth::PrivateKeyJwt(key) => {
            let issuer = format!("{base}/realms/{}", encode_segment(realm));
            form.push(("client_id".into(), client_id.to_owned()));
            form.push((
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
            form.push((
                "client_assertion".into(),
                // The server checks `iat`/`exp` against its own real time, so the real clock.
                crate::jose::client_assertion(
                    key,
                    client_id,
                    &issuer,
                    std::time::SystemTime::now(),
                )?,
            ));
        }
    }
    Ok(req.form(form))
}

/// `Basic base64(urlencode(id):urlencode(secret))`, as RFC 6749 §2.3.1 asks.
pub(crate) fn basic_auth(client_id: &str, secret: &Secret) -> String {
    use base64::Engine;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(client_id), enc(secret.expose_secret()));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Turns a token-endpoint answer into tokens or a typed [`AuthError`].
pub(crate) fn parse_token_answer(
    realm: &str,
    grant: &str,
    status: u16,
    body: &[u8],
    now: SystemTime,
) -> Result<TokenSet> {
    if !(200..300).contains(&status) {
        let parsed = KeycloakErrorBody::parse(body);
        return Err(Error::Auth(Box::new(AuthError {
            realm: realm.to_owned(),
            grant: grant.to_owned(),
            status: Some(status),
            error: parsed.error,
            description: parsed.error_description.or(parsed.error_message),
            cause: None,
        })));
    }
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        Error::Auth(Box::new(AuthError {
            realm: realm.to_owned(),
            grant: grant.to_owned(),
            status: Some(status),
            error: None,
            description: None,
            // serde's message names the failing field, never the token values.
            cause: Some(format!("unreadable token answer: {e}")),
        }))
    })?;
    Ok(parsed.into_token_set(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(issued: SystemTime, life: u64) -> TokenSet {
        TokenSet {
            access_token: "a".into(),
            refresh_token: None,
            id_token: None,
            token_type: "Bearer".into(),
            scope: None,
            issued_at: issued,
            expires_at: Some(issued + Duration::from_secs(life)),
            refresh_expires_at: None,
        }
    }

    #[test]
    fn freshness_uses_capped_skew() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let long = set(t0, 300);
        assert!(long.fresh_at(t0 + Duration::from_secs(269), Duration::from_secs(30)));
        assert!(!long.fresh_at(t0 + Duration::from_secs(271), Duration::from_secs(30)));
        // A 10 s token with a 30 s skew is refreshed after half its life, not at once.
        let short = set(t0, 10);
        assert!(short.fresh_at(t0 + Duration::from_secs(4), Duration::from_secs(30)));
        assert!(!short.fresh_at(t0 + Duration::from_secs(6), Duration::from_secs(30)));
    }

    #[test]
    fn error_answers_become_auth_errors() {
        let e = parse_token_answer(
            "master",
            "password",
            401,
            br#"{"error":"invalid_grant","error_description":"Invalid user credentials"}"#,
            SystemTime::now(),
        )
        .unwrap_err();
        let a = e.as_auth().unwrap();
        assert_eq!(a.oauth_error(), Some("invalid_grant"));
        assert_eq!(a.status, Some(401));
        assert!(e.to_string().contains("Invalid user credentials"));
    }

    #[test]
    fn basic_auth_encodes_per_rfc6749() {
        let h = basic_auth("my client", &Secret::new("p:w"));
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(h.trim_start_matches("Basic "))
            .unwrap();
        assert_eq!(raw, b"my+client:p%3Aw");
    }

    #[test]
    fn token_set_debug_is_redacted() {
        let mut t = set(SystemTime::now(), 60);
        t.access_token = Secret::new("eyJhbGciOi.secret");
        t.refresh_token = Some(Secret::new("refresh-secret"));
        let d = format!("{t:?}");
        assert!(
            !d.contains("eyJhbGciOi") && !d.contains("refresh-secret"),
            "{d}"
        );
    }
}
