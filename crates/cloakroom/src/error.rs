//! The one error type of cloakroom.
//!
//! Every fallible call returns [`Error`]. It says *what* failed (a Keycloak answer, the token
//! endpoint, the network, decoding, configuration, caller input) and carries the context a
//! person needs to act on it: the HTTP method, the path, the realm, the status and Keycloak's own
//! words (`errorMessage`, `field`, `params`, or the OAuth `error`/`error_description`).
//!
//! `Display` never repeats the source error and never contains a secret.

use std::fmt;

/// A specialised `Result` for cloakroom calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Keycloak.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Keycloak answered with a non-success status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// Obtaining or refreshing a token failed at the token endpoint.
    #[error("{0}")]
    Auth(Box<AuthError>),
    /// The request did not get an answer: connection refused or reset, TLS failure, timeout.
    #[error("{0}")]
    Transport(Box<TransportError>),
    /// Keycloak answered with success, but the body could not be decoded.
    #[error("{0}")]
    Decode(Box<DecodeError>),
    /// The client was configured wrongly (bad URL, unreadable certificate, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The caller passed something that cannot be sent (empty realm, malformed id, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A token failed offline verification.
    #[error("{0}")]
    Verify(Box<VerifyError>),
    /// A safe partial update found that someone else changed the object between reading it and
    /// writing it back; nothing was written. Read again and retry if the change still applies.
    #[error("{0} was changed by someone else during the update; nothing was written")]
    ConcurrentChange(String),
    /// A lookup by natural key (username, `clientId`, group path, role name…) found nothing.
    /// No request failed: the server answered, and the object is not there.
    #[error("{kind} `{key}` not found")]
    NotFound {
        /// What was looked up: `user`, `client`, `group`, `realm role`, `client role`…
        kind: &'static str,
        /// The natural key that was asked for.
        key: String,
    },
    /// A caller-supplied [`TokenProvider`](crate::TokenProvider) failed. The caller's own error
    /// is the [`source`](std::error::Error::source); downcast it to get it back.
    #[error("the token provider failed")]
    TokenProvider(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The client knows its server's version, and the served-surface census says that version
    /// does not serve this operation: nothing was sent. See [`crate::server_version`].
    #[error(
        "{method} {template} is not served by Keycloak {server_version}{}",
        not_served_hint(.served_in, *.served_since)
    )]
    NotServed {
        /// HTTP method of the operation.
        method: crate::request::Method,
        /// The operation's path template.
        template: &'static str,
        /// The server's version, as the client was told or detected it.
        server_version: String,
        /// The first known version newer than the server's that serves it, if any.
        served_since: Option<&'static str>,
        /// Every known version that serves it.
        served_in: Vec<&'static str>,
    },
    /// A blocking call was made from inside an async runtime, where it would deadlock.
    #[error(
        "a cloakroom blocking call was made inside an async runtime; use the async client there"
    )]
    BlockingInAsyncContext,
}

fn not_served_hint(served_in: &[&str], since: Option<&str>) -> String {
    match since {
        Some(v) => format!(" (served from Keycloak {v})"),
        None => format!(" (served by Keycloak {})", served_in.join(", ")),
    }
}

impl Error {
    /// The HTTP status Keycloak answered with, if there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Auth(e) => e.status,
            _ => None,
        }
    }

    /// The API error, if this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The token-endpoint error, if this is one.
    pub fn as_auth(&self) -> Option<&AuthError> {
        match self {
            Error::Auth(e) => Some(e),
            _ => None,
        }
    }

    /// The verification error, if this is one.
    pub fn as_verify(&self) -> Option<&VerifyError> {
        match self {
            Error::Verify(e) => Some(e),
            _ => None,
        }
    }

    /// 404 Not Found, or a lookup by natural key that found nothing ([`Error::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) || matches!(self, Error::NotFound { .. })
    }

    /// 409 Conflict (for example a duplicate username or clientId), or a concurrent change
    /// caught by a safe partial update.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409) || matches!(self, Error::ConcurrentChange(_))
    }

    /// 401 Unauthorized, or any failure to obtain a token.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Auth(_) | Error::TokenProvider(_)) || self.status() == Some(401)
    }

    /// Wraps the error of a [`TokenProvider`](crate::TokenProvider), keeping it as the source.
    pub fn token_provider(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::TokenProvider(e.into())
    }

    /// 403 Forbidden: the token is valid but lacks the role for this call.
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// 400 Bad Request (validation errors carry [`ApiError::field`]).
    pub fn is_bad_request(&self) -> bool {
        self.status() == Some(400)
    }

    /// A timeout waiting for the server.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(t) if t.kind == TransportKind::Timeout)
    }

    /// Whether trying the same idempotent call again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(t) => t.kind != TransportKind::Tls,
            Error::Api(e) => matches!(e.status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    pub(crate) fn invalid_input(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    pub(crate) fn not_found(kind: &'static str, key: impl Into<String>) -> Self {
        Error::NotFound {
            kind,
            key: key.into(),
        }
    }
}

/// The parsed body of a Keycloak error answer.
///
/// Keycloak uses two shapes: the admin API's `{"errorMessage": …, "field": …, "params": […]}`
/// and the OAuth shape `{"error": …, "error_description": …}`. Both are read; absent parts are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeycloakErrorBody {
    /// OAuth-style or short error code (`error`).
    pub error: Option<String>,
    /// OAuth-style description (`error_description`).
    pub error_description: Option<String>,
    /// The admin API's human message (`errorMessage`).
    pub error_message: Option<String>,
    /// The field a validation error is about (`field`).
    pub field: Option<String>,
    /// Parameters of a validation message (`params`).
    pub params: Vec<String>,
}

impl KeycloakErrorBody {
    /// Parses whatever Keycloak sent; a non-JSON body gives an empty value.
    pub(crate) fn parse(body: &[u8]) -> Self {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
        else {
            return Self::default();
        };
        let text = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let params = match map.get("params") {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            error: text("error"),
            error_description: text("error_description"),
            error_message: text("errorMessage"),
            field: text("field"),
            params,
        }
    }

    /// The most specific human-readable message present.
    pub fn message(&self) -> Option<&str> {
        self.error_message
            .as_deref()
            .or(self.error_description.as_deref())
            .or(self.error.as_deref())
    }
}

/// Keycloak answered a request with a non-success status.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP method of the failed request.
    pub method: String,
    /// Path of the failed request (without query string).
    pub path: String,
    /// Realm the request was about, when known.
    pub realm: Option<String>,
    /// HTTP status code.
    pub status: u16,
    /// Keycloak's parsed error body.
    pub body: KeycloakErrorBody,
    /// The start of the raw body (at most 2 KiB), for bodies that are not JSON.
    pub body_text: String,
}

impl ApiError {
    /// Keycloak's own message, if it sent one.
    pub fn message(&self) -> Option<&str> {
        self.body.message()
    }
    /// The field a validation error is about.
    pub fn field(&self) -> Option<&str> {
        self.body.field.as_deref()
    }
    /// Parameters of a validation error.
    pub fn params(&self) -> &[String] {
        &self.body.params
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Keycloak answered {} to {} {}",
            self.status, self.method, self.path
        )?;
        if let Some(m) = self.message() {
            write!(f, ": {m}")?;
        }
        if let Some(field) = self.field() {
            write!(f, " (field `{field}`)")?;
        }
        Ok(())
    }
}

/// The token endpoint refused to issue a token, or could not be reached.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthError {
    /// The realm whose token endpoint was called.
    pub realm: String,
    /// The grant that was attempted (`client_credentials`, `password`, `refresh_token`, ...).
    pub grant: String,
    /// HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// The OAuth error code (`invalid_grant`, `invalid_client`, `unauthorized_client`, ...).
    pub error: Option<String>,
    /// The OAuth error description.
    pub description: Option<String>,
    /// The underlying transport or decode failure, when there was no OAuth answer.
    pub cause: Option<String>,
}

impl AuthError {
    /// The OAuth error code, if the endpoint sent one.
    pub fn oauth_error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not obtain a token from realm `{}` ({} grant)",
            self.realm, self.grant
        )?;
        match (&self.error, &self.description, self.status) {
            (Some(e), Some(d), _) => write!(f, ": {e}: {d}")?,
            (Some(e), None, _) => write!(f, ": {e}")?,
            (None, _, Some(s)) => write!(f, ": HTTP {s}")?,
            _ => {}
        }
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        Ok(())
    }
}

/// What kind of transport failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be established.
    Connect,
    /// No answer in time.
    Timeout,
    /// TLS handshake or certificate verification failed.
    Tls,
    /// The connection broke while sending or receiving.
    Io,
    /// Anything else.
    Other,
}

/// A request got no (complete) answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// HTTP method.
    pub method: String,
    /// The URL that was called (without query string).
    pub url: String,
    /// Classification of the failure.
    pub kind: TransportKind,
    /// A description of the underlying failure.
    pub detail: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Tls => "TLS failure",
            TransportKind::Io => "connection broke",
            TransportKind::Other => "request failed",
        };
        write!(f, "{what}: {} {}: {}", self.method, self.url, self.detail)
    }
}

/// A success answer could not be decoded into the expected type.
#[derive(Debug)]
#[non_exhaustive]
pub struct DecodeError {
    /// HTTP method.
    pub method: String,
    /// Path of the request.
    pub path: String,
    /// Where in the document decoding failed and why.
    pub detail: String,
    /// The start of the body (at most 2 KiB).
    pub body_excerpt: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the answer to {} {}: {}",
            self.method, self.path, self.detail
        )
    }
}

/// Why a token failed offline verification.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a well-formed JWT (wrong number of parts, bad base64, bad JSON, too large).
    Malformed(String),
    /// The `alg` header is not allowed (`none`, HMAC with a public key, unsupported, or not the key's algorithm).
    Algorithm(String),
    /// No key with this `kid`, even after refetching the JWKS.
    UnknownKey(String),
    /// The signature does not match.
    Signature,
    /// `exp` is in the past (beyond leeway).
    Expired,
    /// `nbf` or `iat` is in the future (beyond leeway).
    NotYetValid,
    /// `iss` is not the expected issuer.
    Issuer {
        expected: String,
        found: Option<String>,
    },
    /// `aud`/`azp` does not contain the expected audience.
    Audience { expected: String },
    /// A required claim is missing or has the wrong value.
    Claim(String),
    /// The ID token's nonce does not match.
    Nonce,
    /// The `state` returned to the redirect URI is not the one the login was started with.
    State,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Malformed(m) => write!(f, "token is malformed: {m}"),
            VerifyError::Algorithm(a) => write!(f, "token algorithm not allowed: {a}"),
            VerifyError::UnknownKey(k) => write!(f, "no signing key with kid `{k}`"),
            VerifyError::Signature => write!(f, "token signature is invalid"),
            VerifyError::Expired => write!(f, "token has expired"),
            VerifyError::NotYetValid => write!(f, "token is not valid yet"),
            VerifyError::Issuer { expected, found } => write!(
                f,
                "token issuer is {} but {expected} was expected",
                found.as_deref().unwrap_or("missing")
            ),
            VerifyError::Audience { expected } => {
                write!(f, "token is not meant for audience `{expected}`")
            }
            VerifyError::Claim(c) => write!(f, "token claim check failed: {c}"),
            VerifyError::Nonce => write!(f, "ID token nonce does not match"),
            VerifyError::State => {
                write!(f, "the returned `state` does not match the login request")
            }
        }
    }
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        Error::Verify(Box::new(e))
    }
}

/// Cuts a body to at most 2 KiB on a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 2048;
    let text = String::from_utf8_lossy(body);
    if text.len() <= MAX {
        return text.into_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_provider_keeps_the_callers_error_as_source() {
        #[derive(Debug, thiserror::Error)]
        #[error("renewal refused by the vault")]
        struct Mine(u8);
        let e = Error::token_provider(Mine(7));
        assert!(e.is_unauthorized());
        assert_eq!(e.to_string(), "the token provider failed");
        let src = std::error::Error::source(&e).expect("a source");
        assert_eq!(src.to_string(), "renewal refused by the vault");
        let Error::TokenProvider(inner) = e else {
            panic!("wrong variant")
        };
        assert_eq!(inner.downcast::<Mine>().expect("downcasts").0, 7);
    }

    use super::*;

    #[test]
    fn parses_admin_validation_body() {
        let b = KeycloakErrorBody::parse(
            br#"{"field":"email","errorMessage":"invalidEmailMessage","params":["email", 3]}"#,
        );
        assert_eq!(b.field.as_deref(), Some("email"));
        assert_eq!(b.message(), Some("invalidEmailMessage"));
        assert_eq!(b.params, vec!["email".to_string(), "3".to_string()]);
    }

    #[test]
    fn parses_oauth_body_and_garbage() {
        let b = KeycloakErrorBody::parse(br#"{"error":"invalid_grant","error_description":"bad"}"#);
        assert_eq!(b.error.as_deref(), Some("invalid_grant"));
        assert_eq!(b.message(), Some("bad"));
        assert_eq!(
            KeycloakErrorBody::parse(b"<html>"),
            KeycloakErrorBody::default()
        );
    }

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let s = "é".repeat(3000);
        let e = excerpt(s.as_bytes());
        assert!(e.len() <= 2048 + '…'.len_utf8());
        assert!(e.ends_with('…'));
    }
}
