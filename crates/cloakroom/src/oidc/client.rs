//! One client of a realm: grants, introspection, revocation, logout, userinfo.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use super::{Claims, JwtVerifier, Oidc, T_TOKEN};
use crate::ClientAuth;
use crate::auth::{TokenSet, authenticate_client, parse_token_answer, token_request};
use crate::error::Result;
use crate::request::{Method, Request};
use crate::secret::Secret;

/// A client of one realm (`client_id` plus how it authenticates): runs grants and the other
/// OAuth endpoints that need client authentication. Cheap to clone.
#[derive(Clone)]
pub struct OidcClient {
    pub(crate) oidc: Oidc,
    pub(crate) client_id: String,
    pub(crate) auth: ClientAuth,
    id_verifier: Arc<OnceLock<JwtVerifier>>,
}

impl fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcClient")
            .field("realm", &self.oidc.realm())
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .finish()
    }
}

/// A resource-owner password grant.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PasswordGrant {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// One-time password, when the user has OTP configured.
    pub otp: Option<Secret>,
    /// Scopes (`openid` to get an ID token).
    pub scope: Option<String>,
}

impl PasswordGrant {
    /// A password grant for `username`.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            otp: None,
            scope: None,
        }
    }
    /// Adds a one-time password.
    pub fn otp(mut self, code: impl Into<Secret>) -> Self {
        self.otp = Some(code.into());
        self
    }
    /// Requests scopes.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

/// Which kind of token is being revoked or introspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// An access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
}

impl TokenTypeHint {
    fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

/// The answer of the introspection endpoint (RFC 7662).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is currently active.
    pub active: bool,
    /// The token's claims (empty for an inactive token).
    pub claims: Claims,
}

/// The answer of the UserInfo endpoint.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UserInfo {
    /// The user's claims.
    pub claims: Claims,
    /// Whether Keycloak answered with a signed JWT (verified before being returned).
    pub signed: bool,
}

const T_INTROSPECT: &str = "/realms/{realm}/protocol/openid-connect/token/introspect";
const T_REVOKE: &str = "/realms/{realm}/protocol/openid-connect/revoke";
const T_LOGOUT: &str = "/realms/{realm}/protocol/openid-connect/logout";
const T_USERINFO: &str = "/realms/{realm}/protocol/openid-connect/userinfo";

impl OidcClient {
    pub(crate) fn new(oidc: Oidc, client_id: String, auth: ClientAuth) -> Self {
        Self {
            oidc,
            client_id,
            auth,
            id_verifier: Arc::new(OnceLock::new()),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The realm's provider.
    pub fn oidc(&self) -> &Oidc {
        &self.oidc
    }

    /// The verifier used for this client's ID tokens (audience = client id; cached keys).
    pub fn id_token_verifier(&self) -> JwtVerifier {
        self.id_verifier
            .get_or_init(|| {
                self.oidc
                    .verifier()
                    .audience(self.client_id.clone())
                    .build()
                    .expect("an audience is set")
            })
            .clone()
    }

    /// A form POST to an endpoint under `/realms/{realm}/protocol/openid-connect/`, with client
    /// authentication.
    pub(crate) fn form_request(
        &self,
        tail: &str,
        template: &'static str,
        form: Vec<(String, String)>,
    ) -> Result<Request> {
        let req = self.oidc.public_request(
            Method::Post,
            &format!("/protocol/openid-connect/{tail}"),
            template,
        );
        authenticate_client(
            req,
            self.oidc.inner.client.base_url(),
            self.oidc.realm(),
            &self.client_id,
            &self.auth,
            form,
        )
    }

    /// Calls the token endpoint. `retry` only for grants that are safe to send twice.
    pub(crate) async fn token(
        &self,
        form: Vec<(String, String)>,
        grant: &str,
        retry: bool,
    ) -> Result<TokenSet> {
        let req = token_request(
            self.oidc.inner.client.base_url(),
            self.oidc.realm(),
            &self.client_id,
            &self.auth,
            form,
        )?
        .retry_post(retry);
        debug_assert_eq!(req.template(), T_TOKEN);
        let resp = self.oidc.oauth_send(req, grant).await?;
        parse_token_answer(
            self.oidc.realm(),
            grant,
            resp.status(),
            resp.bytes(),
            self.oidc.now(),
        )
    }

    /// The `client_credentials` grant (the client's service account).
    pub async fn client_credentials(&self) -> Result<TokenSet> {
        self.client_credentials_scoped(None).await
    }

    /// The `client_credentials` grant with explicit scopes.
    pub async fn client_credentials_scoped(&self, scope: Option<&str>) -> Result<TokenSet> {
        let mut form = vec![("grant_type".into(), "client_credentials".into())];
        super::push_opt(&mut form, "scope", scope);
        self.token(form, "client_credentials", true).await
    }

    /// The resource-owner password grant.
    pub async fn password(&self, g: PasswordGrant) -> Result<TokenSet> {
        let mut form = vec![
            ("grant_type".into(), "password".into()),
            ("username".into(), g.username),
            ("password".into(), g.password.expose_secret().to_owned()),
        ];
        if let Some(otp) = &g.otp {
            form.push(("totp".into(), otp.expose_secret().to_owned()));
        }
        super::push_opt(&mut form, "scope", g.scope.as_deref());
        self.token(form, "password", true).await
    }

    /// The `refresh_token` grant. Not retried: Keycloak may rotate refresh tokens.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet> {
        let form = vec![
            ("grant_type".into(), "refresh_token".into()),
            (
                "refresh_token".into(),
                refresh_token.expose_secret().to_owned(),
            ),
        ];
        self.token(form, "refresh_token", false).await
    }

    /// Asks Keycloak whether `token` is active, and its claims (RFC 7662).
    ///
    /// Since Keycloak 26.6.2 the introspecting client must be in the access token's `aud`
    /// (an audience mapper on the issuing client), otherwise the answer is `active: false`.
    pub async fn introspect(&self, token: &Secret) -> Result<Introspection> {
        let form = vec![("token".into(), token.expose_secret().to_owned())];
        let req = self
            .form_request("token/introspect", T_INTROSPECT, form)?
            .retry_post(true);
        let resp = self.oidc.oauth_send(req, "introspection").await?;
        let map: Map<String, Value> = resp.json()?;
        let active = map.get("active").and_then(Value::as_bool).unwrap_or(false);
        Ok(Introspection {
            active,
            claims: Claims::from_map(map),
        })
    }

    /// Revokes an access or refresh token (RFC 7009). Revoking a refresh token ends its
    /// session's refresh chain; revoking an access token makes introspection report it inactive.
    pub async fn revoke(&self, token: &Secret, hint: Option<TokenTypeHint>) -> Result<()> {
        let mut form = vec![("token".into(), token.expose_secret().to_owned())];
        super::push_opt(
            &mut form,
            "token_type_hint",
            hint.map(TokenTypeHint::as_str),
        );
        let req = self
            .form_request("revoke", T_REVOKE, form)?
            .retry_post(true);
        self.oidc.oauth_send(req, "revocation").await?;
        Ok(())
    }

    /// Ends the session a refresh token belongs to (back-channel logout by refresh token).
    pub async fn logout(&self, refresh_token: &Secret) -> Result<()> {
        let form = vec![(
            "refresh_token".into(),
            refresh_token.expose_secret().to_owned(),
        )];
        let req = self
            .form_request("logout", T_LOGOUT, form)?
            .retry_post(true);
        self.oidc.oauth_send(req, "logout").await?;
        Ok(())
    }

    /// The UserInfo endpoint. A signed (JWT) answer is verified with the realm's keys and this
    /// client as audience.
    pub async fn userinfo(&self, access_token: &Secret) -> Result<UserInfo> {
        let req = self
            .oidc
            .public_request(Method::Get, "/protocol/openid-connect/userinfo", T_USERINFO)
            .header(
                "authorization",
                format!("Bearer {}", access_token.expose_secret()),
            );
        let resp = self.oidc.oauth_send(req, "userinfo").await?;
        let is_jwt = resp
            .content_type()
            .is_some_and(|c| c.starts_with("application/jwt"));
        if is_jwt {
            let verifier = self
                .oidc
                .verifier()
                .audience(self.client_id.clone())
                .allow_missing_exp()
                .build()?;
            let text = resp.text();
            let claims = verifier.verify(text.trim()).await?;
            return Ok(UserInfo {
                claims,
                signed: true,
            });
        }
        let map: Map<String, Value> = resp.json()?;
        Ok(UserInfo {
            claims: Claims::from_map(map),
            signed: false,
        })
    }
}
