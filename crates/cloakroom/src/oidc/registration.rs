//! OpenID Connect Dynamic Client Registration (Keycloak's `clients-registrations/openid-connect`).

use std::fmt;

use serde_json::{Map, Value};

use super::{Oidc, json_str};
use crate::error::{Error, Result};
use crate::request::{AuthMode, Method, Request, encode_segment};
use crate::secret::Secret;

const T_CREATE: &str = "/realms/{realm}/clients-registrations/openid-connect";
const T_ONE: &str = "/realms/{realm}/clients-registrations/openid-connect/{client_id}";

/// Registers and manages clients with registration tokens instead of admin credentials.
#[derive(Clone, Debug)]
pub struct ClientRegistration {
    oidc: Oidc,
}

/// A registered client. Keycloak rotates the registration access token on every read and
/// update: always keep the latest value returned.
#[derive(Clone)]
#[non_exhaustive]
pub struct RegisteredClient {
    /// The client id.
    pub client_id: String,
    /// The client secret, for confidential clients.
    pub client_secret: Option<Secret>,
    /// The token that authorizes reading, updating and deleting this client.
    pub registration_access_token: Secret,
    /// The client's configuration URL.
    pub registration_client_uri: Option<String>,
    /// The client metadata as returned (secrets removed).
    pub metadata: Map<String, Value>,
}

impl fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("registration_client_uri", &self.registration_client_uri)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl RegisteredClient {
    fn from_answer(mut m: Map<String, Value>, previous: Option<&RegisteredClient>) -> Result<Self> {
        let client_id = m
            .get("client_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_input("the registration answer has no client_id"))?;
        let secret = m
            .remove("client_secret")
            .and_then(|v| v.as_str().map(Secret::new));
        let rat = m
            .remove("registration_access_token")
            .and_then(|v| v.as_str().map(Secret::new))
            .or_else(|| previous.map(|p| p.registration_access_token.clone()))
            .ok_or_else(|| {
                Error::invalid_input("the registration answer has no registration_access_token")
            })?;
        let uri = json_str(&Value::Object(m.clone()), "registration_client_uri");
        Ok(RegisteredClient {
            client_id,
            client_secret: secret.or_else(|| previous.and_then(|p| p.client_secret.clone())),
            registration_access_token: rat,
            registration_client_uri: uri,
            metadata: m,
        })
    }
}

impl ClientRegistration {
    pub(crate) fn new(oidc: Oidc) -> Self {
        Self { oidc }
    }

    fn request(&self, method: Method, client_id: Option<&str>, token: Option<&Secret>) -> Request {
        let base = format!(
            "{}/clients-registrations/openid-connect",
            self.oidc.realm_path()
        );
        let (path, template) = match client_id {
            Some(id) => (format!("{base}/{}", encode_segment(id)), T_ONE),
            None => (base, T_CREATE),
        };
        let mut req = Request::new(method, path, template)
            .realm(self.oidc.realm())
            .auth(AuthMode::None);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {}", t.expose_secret()));
        }
        req
    }

    /// Registers a client from OIDC client metadata (`redirect_uris`, `client_name`,
    /// `grant_types`, `token_endpoint_auth_method`, …). `initial_access_token` comes from the
    /// realm's admin (Clients → Initial access token); without one the realm's anonymous
    /// registration policies apply.
    pub async fn create(
        &self,
        initial_access_token: Option<&Secret>,
        metadata: &Value,
    ) -> Result<RegisteredClient> {
        let req = self
            .request(Method::Post, None, initial_access_token)
            .json(metadata)?;
        let resp = self.oidc.inner.client.send(req).await?;
        RegisteredClient::from_answer(resp.json()?, None)
    }

    /// Reads the client's current metadata (rotates the registration access token).
    pub async fn read(&self, client: &RegisteredClient) -> Result<RegisteredClient> {
        let req = self.request(
            Method::Get,
            Some(&client.client_id),
            Some(&client.registration_access_token),
        );
        let resp = self.oidc.inner.client.send(req).await?;
        RegisteredClient::from_answer(resp.json()?, Some(client))
    }

    /// Replaces the client's metadata (`client_id` is added when missing).
    pub async fn update(
        &self,
        client: &RegisteredClient,
        metadata: &Value,
    ) -> Result<RegisteredClient> {
        let mut body = metadata.clone();
        if let Value::Object(m) = &mut body {
            m.entry("client_id")
                .or_insert_with(|| Value::String(client.client_id.clone()));
        }
        let req = self
            .request(
                Method::Put,
                Some(&client.client_id),
                Some(&client.registration_access_token),
            )
            .json(&body)?;
        let resp = self.oidc.inner.client.send(req).await?;
        RegisteredClient::from_answer(resp.json()?, Some(client))
    }

    /// Deletes the client.
    pub async fn delete(&self, client: &RegisteredClient) -> Result<()> {
        let req = self.request(
            Method::Delete,
            Some(&client.client_id),
            Some(&client.registration_access_token),
        );
        self.oidc.inner.client.send(req).await?;
        Ok(())
    }
}
