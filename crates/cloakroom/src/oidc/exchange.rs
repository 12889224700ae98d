//! Token exchange (RFC 8693): Keycloak's standard (v2) form and the legacy (v1) form.

use super::{OidcClient, push_opt};
use crate::auth::TokenSet;
use crate::error::Result;
use crate::secret::Secret;

/// Token type URIs of RFC 8693.
pub mod token_types {
    /// An OAuth access token.
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    /// An OAuth refresh token.
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    /// An OpenID Connect ID token.
    pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
    /// A JWT.
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
}

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Standard token exchange (Keycloak 26.2+, `token-exchange-standard:v2`): a client that is in
/// the subject token's audience trades it for a token for another audience and/or fewer scopes.
/// The requesting client needs "Standard token exchange" enabled.
#[derive(Clone, Debug)]
#[must_use]
pub struct TokenExchange {
    subject_token: Secret,
    subject_token_type: String,
    requested_token_type: Option<String>,
    audience: Vec<String>,
    scope: Option<String>,
}

impl TokenExchange {
    /// Exchanges `subject_token` (an access token by default).
    pub fn new(subject_token: impl Into<Secret>) -> Self {
        Self {
            subject_token: subject_token.into(),
            subject_token_type: token_types::ACCESS_TOKEN.into(),
            requested_token_type: None,
            audience: Vec::new(),
            scope: None,
        }
    }
    /// The subject token's type URI.
    pub fn subject_token_type(mut self, t: impl Into<String>) -> Self {
        self.subject_token_type = t.into();
        self
    }
    /// The type of token wanted (access token by default; refresh and ID tokens where allowed).
    pub fn requested_token_type(mut self, t: impl Into<String>) -> Self {
        self.requested_token_type = Some(t.into());
        self
    }
    /// Adds a target audience (a client id); may be repeated.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience.push(aud.into());
        self
    }
    /// Requested scopes.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    fn form(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("grant_type".into(), GRANT.into()),
            (
                "subject_token".into(),
                self.subject_token.expose_secret().to_owned(),
            ),
            ("subject_token_type".into(), self.subject_token_type.clone()),
        ];
        push_opt(
            &mut f,
            "requested_token_type",
            self.requested_token_type.as_deref(),
        );
        for a in &self.audience {
            f.push(("audience".into(), a.clone()));
        }
        push_opt(&mut f, "scope", self.scope.as_deref());
        f
    }
}

/// Legacy token exchange (`token-exchange:v1`, preview): cross-client exchange governed by
/// fine-grained permissions, impersonation (`requested_subject`), external issuers.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct LegacyTokenExchange {
    subject_token: Option<Secret>,
    subject_token_type: Option<String>,
    subject_issuer: Option<String>,
    requested_subject: Option<String>,
    requested_token_type: Option<String>,
    requested_issuer: Option<String>,
    audience: Option<String>,
    scope: Option<String>,
}

impl LegacyTokenExchange {
    /// Exchanges `subject_token` (an access token of this realm by default).
    pub fn subject_token(subject_token: impl Into<Secret>) -> Self {
        Self {
            subject_token: Some(subject_token.into()),
            subject_token_type: Some(super::token_types::ACCESS_TOKEN.into()),
            ..Self::default()
        }
    }
    /// Direct ("naked") impersonation: the calling client obtains a token for `user` (user name
    /// or id) without a subject token. Needs the client's impersonation permission.
    pub fn impersonate(user: impl Into<String>) -> Self {
        Self {
            requested_subject: Some(user.into()),
            ..Self::default()
        }
    }
    /// Impersonates `user` starting from a subject token.
    pub fn requested_subject(mut self, user: impl Into<String>) -> Self {
        self.requested_subject = Some(user.into());
        self
    }
    /// The subject token's type URI.
    pub fn subject_token_type(mut self, t: impl Into<String>) -> Self {
        self.subject_token_type = Some(t.into());
        self
    }
    /// The external issuer (identity provider alias) of the subject token.
    pub fn subject_issuer(mut self, iss: impl Into<String>) -> Self {
        self.subject_issuer = Some(iss.into());
        self
    }
    /// The token type wanted.
    pub fn requested_token_type(mut self, t: impl Into<String>) -> Self {
        self.requested_token_type = Some(t.into());
        self
    }
    /// An identity provider alias to obtain an external token from.
    pub fn requested_issuer(mut self, iss: impl Into<String>) -> Self {
        self.requested_issuer = Some(iss.into());
        self
    }
    /// The target client.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }
    /// Requested scopes.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    fn form(&self) -> Vec<(String, String)> {
        let mut f = vec![("grant_type".into(), GRANT.into())];
        push_opt(
            &mut f,
            "subject_token",
            self.subject_token.as_ref().map(Secret::expose_secret),
        );
        push_opt(
            &mut f,
            "subject_token_type",
            self.subject_token_type.as_deref(),
        );
        push_opt(&mut f, "subject_issuer", self.subject_issuer.as_deref());
        push_opt(
            &mut f,
            "requested_subject",
            self.requested_subject.as_deref(),
        );
        push_opt(
            &mut f,
            "requested_token_type",
            self.requested_token_type.as_deref(),
        );
        push_opt(&mut f, "requested_issuer", self.requested_issuer.as_deref());
        push_opt(&mut f, "audience", self.audience.as_deref());
        push_opt(&mut f, "scope", self.scope.as_deref());
        f
    }
}

impl OidcClient {
    /// Standard (v2) token exchange.
    pub async fn exchange(&self, req: &TokenExchange) -> Result<TokenSet> {
        self.token(req.form(), "token-exchange", false).await
    }

    /// Legacy (v1) token exchange.
    pub async fn legacy_exchange(&self, req: &LegacyTokenExchange) -> Result<TokenSet> {
        self.token(req.form(), "token-exchange (v1)", false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_empty_fields_on_the_wire() {
        let f = LegacyTokenExchange::impersonate("alice").form();
        let keys: Vec<_> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["grant_type", "requested_subject"]);
        let f = TokenExchange::new("t").audience("a").audience("b").form();
        assert_eq!(f.iter().filter(|(k, _)| k == "audience").count(), 2);
        assert!(!f.iter().any(|(k, _)| k == "scope"));
    }
}
