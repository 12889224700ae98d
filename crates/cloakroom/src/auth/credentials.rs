use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Result;
use crate::secret::Secret;

/// How a confidential client proves who it is at the token endpoint.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client (for example `admin-cli`): only `client_id` is sent.
    #[default]
    Public,
    /// `client_secret_post`: the secret goes in the form body.
    SecretPost(Secret),
    /// `client_secret_basic`: the secret goes in an HTTP Basic `Authorization` header.
    SecretBasic(Secret),
    /// `private_key_jwt`: a short-lived assertion signed with the caller's RS256/ES256 key
    /// (Keycloak's "Signed JWT" client authenticator).
    PrivateKeyJwt(crate::jose::SigningKey),
}

/// A one-time password for the password grant.
#[derive(Clone)]
#[non_exhaustive]
pub enum Otp {
    /// One fixed code: good for a single grant. Later re-grants (after the refresh token
    /// expires) cannot reuse it and fail with an [`Auth`](crate::Error::Auth) error.
    Code(Secret),
    /// A function asked for a fresh code on every grant (for example a TOTP generator).
    Provider(Arc<dyn Fn() -> Secret + Send + Sync>),
}

impl Otp {
    pub(crate) fn current(&self) -> Secret {
        match self {
            Otp::Code(c) => c.clone(),
            Otp::Provider(f) => f(),
        }
    }
}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Otp::Code(_) => f.write_str("Otp::Code([redacted])"),
            Otp::Provider(_) => f.write_str("Otp::Provider(..)"),
        }
    }
}

/// The future a [`TokenProvider`] returns.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<Secret>> + Send>>;

/// A caller-supplied source of access tokens, asked again whenever Keycloak rejects the last one.
///
/// When it fails with its own error type, return
/// [`Error::token_provider(e)`](crate::Error::token_provider): the call then fails with
/// [`Error::TokenProvider`](crate::Error::TokenProvider), whose source is `e` (downcast it to
/// get it back).
#[derive(Clone)]
pub struct TokenProvider(pub(crate) Arc<dyn Fn() -> TokenFuture + Send + Sync>);

impl TokenProvider {
    /// Wraps an async function that returns a fresh access token.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Secret>> + Send + 'static,
    {
        TokenProvider(Arc::new(move || Box::pin(f())))
    }
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenProvider(..)")
    }
}

/// What the client authenticates with.
///
/// Tokens are obtained from the *auth realm* configured on the builder (often `master`), which
/// need not be the realm being administered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// The `client_credentials` grant of a confidential client with a service account.
    /// Keycloak issues no refresh token for it; the client simply re-grants near expiry.
    ClientCredentials {
        /// The client's `clientId`.
        client_id: String,
        /// How the client authenticates.
        auth: ClientAuth,
    },
    /// The resource-owner password grant, optionally with a one-time password.
    Password {
        /// The client to log in through (`admin-cli` by default).
        client_id: String,
        /// How that client authenticates (public by default).
        auth: ClientAuth,
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
        /// A one-time password when the user has OTP configured.
        otp: Option<Otp>,
    },
    /// A refresh token obtained elsewhere (device flow, a browser login, a token cache).
    /// When it is finally refused there is nothing to re-grant with, and calls fail with
    /// [`Error::Auth`](crate::Error::Auth).
    RefreshToken {
        /// The client the refresh token was issued to.
        client_id: String,
        /// How that client authenticates.
        auth: ClientAuth,
        /// The refresh token.
        refresh_token: Secret,
    },
    /// A fixed access token supplied by the caller; never refreshed.
    Token(Secret),
    /// Tokens from a caller-supplied function, asked again after a 401.
    Provider(TokenProvider),
    /// No credentials: only calls that need no token are possible.
    None,
}

impl Credentials {
    /// Client credentials with a secret sent in the form body.
    pub fn client_credentials(client_id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Credentials::ClientCredentials {
            client_id: client_id.into(),
            auth: ClientAuth::SecretPost(secret.into()),
        }
    }

    /// The password grant through the public `admin-cli` client.
    pub fn password(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials::Password {
            client_id: "admin-cli".into(),
            auth: ClientAuth::Public,
            username: username.into(),
            password: password.into(),
            otp: None,
        }
    }

    /// A refresh token issued to a public client.
    pub fn refresh_token(client_id: impl Into<String>, refresh_token: impl Into<Secret>) -> Self {
        Credentials::RefreshToken {
            client_id: client_id.into(),
            auth: ClientAuth::Public,
            refresh_token: refresh_token.into(),
        }
    }

    /// A fixed access token.
    pub fn token(access_token: impl Into<Secret>) -> Self {
        Credentials::Token(access_token.into())
    }

    /// Uses another client (and its authentication) for a password or refresh-token grant.
    /// Has no effect on other kinds.
    pub fn with_client(mut self, id: impl Into<String>, client_auth: ClientAuth) -> Self {
        match &mut self {
            Credentials::Password {
                client_id, auth, ..
            }
            | Credentials::RefreshToken {
                client_id, auth, ..
            }
            | Credentials::ClientCredentials { client_id, auth } => {
                *client_id = id.into();
                *auth = client_auth;
            }
            Credentials::Token(_) | Credentials::Provider(_) | Credentials::None => {}
        }
        self
    }

    /// Adds a one-time password to a password grant. Has no effect on other kinds.
    pub fn with_otp(mut self, code: Otp) -> Self {
        if let Credentials::Password { otp, .. } = &mut self {
            *otp = Some(code);
        }
        self
    }

    /// The grant name used in errors and logs.
    pub(crate) fn grant_name(&self) -> &'static str {
        match self {
            Credentials::ClientCredentials { .. } => "client_credentials",
            Credentials::Password { .. } => "password",
            Credentials::RefreshToken { .. } => "refresh_token",
            Credentials::Token(_) => "static token",
            Credentials::Provider(_) => "token provider",
            Credentials::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::password("admin", "hunter2").with_otp(Otp::Code("123456".into()));
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2") && !d.contains("123456"), "{d}");
        let c = Credentials::client_credentials("svc", "s3cr3t-value");
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }
}
