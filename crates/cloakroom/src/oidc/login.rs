//! Authorization code flow with PKCE (S256), state and nonce.

use std::fmt;

use super::{Claims, OidcClient, random_token};
use crate::auth::TokenSet;
use crate::error::{AuthError, Error, Result, VerifyError};
use crate::jose::{b64url, sha256};
use crate::secret::Secret;

/// The OpenID Connect `prompt` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// Fail instead of showing any page.
    None,
    /// Always ask for credentials.
    Login,
    /// Always ask for consent.
    Consent,
    /// Let the user choose an account.
    SelectAccount,
}

impl Prompt {
    fn as_str(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        }
    }
}

/// Builds the URL a browser is sent to for logging in.
#[derive(Clone, Debug)]
#[must_use]
pub struct AuthorizationRequest {
    client: OidcClient,
    redirect_uri: String,
    scopes: Vec<String>,
    prompt: Option<Prompt>,
    login_hint: Option<String>,
    extra: Vec<(String, String)>,
}

/// A login in progress: the URL to send the browser to, and what is needed to finish it.
/// Keep it (for example in the server-side session) until the browser comes back.
#[derive(Clone)]
pub struct PendingLogin {
    /// The authorization URL.
    pub url: String,
    /// The `state` value the redirect must carry back.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub code_verifier: Secret,
    /// The redirect URI sent with the request (sent again with the code).
    pub redirect_uri: String,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("url", &self.url)
            .field("state", &self.state)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Tokens from an authorization code, with the verified ID token claims.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CodeTokens {
    /// The tokens.
    pub tokens: TokenSet,
    /// The ID token's claims, verified (signature, issuer, audience, nonce, times).
    pub id_token: Option<Claims>,
}

impl AuthorizationRequest {
    /// Adds scopes (space-separated or one at a time; `openid` is always included).
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes
            .extend(scope.split_ascii_whitespace().map(str::to_owned));
        self
    }

    /// Sets `prompt`.
    pub fn prompt(mut self, p: Prompt) -> Self {
        self.prompt = Some(p);
        self
    }

    /// Pre-fills the user name on the login page.
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// Adds any other parameter (`kc_idp_hint`, `ui_locales`, `acr_values`, …).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Generates state, nonce and the PKCE pair, and builds the URL.
    pub fn build(self) -> PendingLogin {
        let state = random_token(24);
        let nonce = random_token(24);
        let verifier = random_token(32);
        let challenge = b64url(&sha256(verifier.as_bytes()));
        let mut scopes = vec!["openid".to_owned()];
        for s in self.scopes {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        let oidc = &self.client.oidc;
        let mut url = url::Url::parse(&format!(
            "{}/protocol/openid-connect/auth",
            oidc.issuer_url()
        ))
        .expect("base URL was validated by the builder");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.client.client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(p) = self.prompt {
                q.append_pair("prompt", p.as_str());
            }
            if let Some(h) = &self.login_hint {
                q.append_pair("login_hint", h);
            }
            for (k, v) in &self.extra {
                q.append_pair(k, v);
            }
        }
        PendingLogin {
            url: url.to_string(),
            state,
            nonce,
            code_verifier: Secret::new(verifier),
            redirect_uri: self.redirect_uri,
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl OidcClient {
    /// Starts an authorization code login with PKCE: `redirect_uri` must be registered on the
    /// client in Keycloak.
    pub fn authorization_request(&self, redirect_uri: impl Into<String>) -> AuthorizationRequest {
        AuthorizationRequest {
            client: self.clone(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            prompt: None,
            login_hint: None,
            extra: Vec::new(),
        }
    }

    /// Finishes a login from the URL (or just the query string) the browser was redirected
    /// to: checks `error`, `state` and `iss`, exchanges the code and verifies the ID token.
    pub async fn finish_login(&self, pending: &PendingLogin, callback: &str) -> Result<CodeTokens> {
        let query = match callback.split_once('?') {
            Some((_, q)) => q,
            None => callback,
        };
        let query = query.split('#').next().unwrap_or(query);
        let mut code = None;
        let mut state = None;
        let mut iss = None;
        let mut error = None;
        let mut description = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "code" => code = Some(v.into_owned()),
                "state" => state = Some(v.into_owned()),
                "iss" => iss = Some(v.into_owned()),
                "error" => error = Some(v.into_owned()),
                "error_description" => description = Some(v.into_owned()),
                _ => {}
            }
        }
        if !constant_time_eq(
            state.as_deref().unwrap_or("").as_bytes(),
            pending.state.as_bytes(),
        ) {
            return Err(VerifyError::State.into());
        }
        if let Some(error) = error {
            return Err(Error::Auth(Box::new(AuthError {
                realm: self.oidc.realm().to_owned(),
                grant: "authorization_code".into(),
                status: None,
                error: Some(error),
                description,
                cause: None,
            })));
        }
        if let Some(iss) = iss {
            // RFC 9207: the authorization server names itself; a mix-up attack names another.
            let expected = self.oidc.discovery().await?.issuer.clone();
            if iss != expected {
                return Err(VerifyError::Issuer {
                    expected,
                    found: Some(iss),
                }
                .into());
            }
        }
        let code = code.ok_or_else(|| Error::invalid_input("the callback carries no `code`"))?;
        self.exchange_code(pending, &code).await
    }

    /// Exchanges an authorization code (state already checked by the caller) and verifies the
    /// ID token against the login's nonce.
    pub async fn exchange_code(&self, pending: &PendingLogin, code: &str) -> Result<CodeTokens> {
        let form = vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.to_owned()),
            ("redirect_uri".into(), pending.redirect_uri.clone()),
            (
                "code_verifier".into(),
                pending.code_verifier.expose_secret().to_owned(),
            ),
        ];
        // A code is single-use: never retried.
        let tokens = self.token(form, "authorization_code", false).await?;
        let id_token = match &tokens.id_token {
            Some(t) => Some(
                self.id_token_verifier()
                    .verify_id_token(t.expose_secret(), Some(&pending.nonce))
                    .await?,
            ),
            None => None,
        };
        Ok(CodeTokens { tokens, id_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, ClientAuth};

    #[test]
    fn url_has_pkce_state_nonce() {
        let kc = Client::builder("http://kc:8080").build().unwrap();
        let p = kc
            .oidc("acme")
            .client("app", ClientAuth::Public)
            .authorization_request("http://127.0.0.1:9/cb")
            .scope("profile openid")
            .prompt(Prompt::Login)
            .build();
        let u = url::Url::parse(&p.url).unwrap();
        assert_eq!(u.path(), "/realms/acme/protocol/openid-connect/auth");
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["scope"], "openid profile");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], p.state);
        assert_eq!(q["nonce"], p.nonce);
        let expected = b64url(&sha256(p.code_verifier.expose_secret().as_bytes()));
        assert_eq!(q["code_challenge"], expected);
        assert!(!format!("{p:?}").contains(p.code_verifier.expose_secret()));
        assert!(p.code_verifier.expose_secret().len() >= 43);
    }

    #[tokio::test]
    async fn wrong_state_is_refused_before_any_call() {
        let kc = Client::builder("http://127.0.0.1:9").build().unwrap();
        let app = kc.oidc("acme").client("app", ClientAuth::Public);
        let p = app.authorization_request("http://127.0.0.1:9/cb").build();
        let e = app
            .finish_login(&p, "http://127.0.0.1:9/cb?code=x&state=evil")
            .await
            .unwrap_err();
        assert_eq!(e.as_verify(), Some(&VerifyError::State));
    }
}
