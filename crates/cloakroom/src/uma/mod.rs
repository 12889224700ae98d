//! UMA 2.0 and Keycloak Authorization Services from the application side: requesting party
//! tokens (RPT), permission decisions, and the protection API (resource sets, permission
//! tickets, user-managed policies) used by a resource server with its PAT.
//!
//! ```no_run
//! # async fn demo(user_token: cloakroom::Secret) -> cloakroom::Result<()> {
//! use cloakroom::{Client, ClientAuth};
//! use cloakroom::uma::PermissionRequest;
//! let kc = Client::builder("https://sso.example.com").build()?;
//! let uma = kc.uma("acme");
//! let allowed = uma
//!     .decision(&user_token, &PermissionRequest::new("photo-api").permission("album#view"))
//!     .await?;
//! # Ok(()) }
//! ```

mod models;
pub use models::{PermissionTicket, UmaPolicy};

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Client;
use crate::auth::{TokenSet, parse_token_answer};
use crate::error::{Error, Result};
use crate::oidc::{Oidc, OidcClient};
use crate::request::{AuthMode, Method, Request, encode_segment};
use crate::secret::Secret;

impl Client {
    /// UMA 2.0 / Authorization Services endpoints of `realm`. Needs no admin credentials.
    pub fn uma(&self, realm: impl Into<String>) -> Uma {
        Uma {
            oidc: self.oidc(realm),
        }
    }
}

/// A realm's UMA endpoints.
#[derive(Clone, Debug)]
pub struct Uma {
    oidc: Oidc,
}

const GRANT: &str = "urn:ietf:params:oauth:grant-type:uma-ticket";
const T_TOKEN: &str = "/realms/{realm}/protocol/openid-connect/token";

/// What a UMA ticket-grant request asks for.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct PermissionRequest {
    audience: Option<String>,
    permissions: Vec<String>,
    ticket: Option<String>,
    rpt: Option<Secret>,
    submit_request: bool,
    include_resource_name: Option<bool>,
    claim_token: Option<(String, String)>,
}

impl PermissionRequest {
    /// Asks the resource server `audience` (its client id).
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: Some(audience.into()),
            ..Self::default()
        }
    }

    /// Starts from a permission ticket issued by the resource server (the audience is in it).
    pub fn from_ticket(ticket: impl Into<String>) -> Self {
        Self {
            ticket: Some(ticket.into()),
            ..Self::default()
        }
    }

    /// Adds a permission: `resource`, `resource#scope`, `resource#scope1, scope2` or `#scope`
    /// (names or ids, as Keycloak accepts them).
    pub fn permission(mut self, p: impl Into<String>) -> Self {
        self.permissions.push(p.into());
        self
    }

    /// An RPT to upgrade (its permissions are kept).
    pub fn rpt(mut self, rpt: impl Into<Secret>) -> Self {
        self.rpt = Some(rpt.into());
        self
    }

    /// With a ticket: when denied, file a permission request the resource owner can approve.
    pub fn submit_request(mut self, yes: bool) -> Self {
        self.submit_request = yes;
        self
    }

    /// Whether the RPT names resources (default: Keycloak's, true).
    pub fn include_resource_name(mut self, yes: bool) -> Self {
        self.include_resource_name = Some(yes);
        self
    }

    /// Pushes claims to policies (`claim_token` with its format).
    pub fn claim_token(mut self, token: impl Into<String>, format: impl Into<String>) -> Self {
        self.claim_token = Some((token.into(), format.into()));
        self
    }

    fn form(&self, response_mode: Option<&str>) -> Vec<(String, String)> {
        let mut f = vec![("grant_type".into(), GRANT.into())];
        let mut opt = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                f.push((k.into(), v.into()));
            }
        };
        opt("audience", self.audience.as_deref());
        opt("ticket", self.ticket.as_deref());
        opt("rpt", self.rpt.as_ref().map(Secret::expose_secret));
        opt("response_mode", response_mode);
        if self.submit_request {
            opt("submit_request", Some("true"));
        }
        if let Some(b) = self.include_resource_name {
            opt(
                "response_include_resource_name",
                Some(if b { "true" } else { "false" }),
            );
        }
        if let Some((t, fmt)) = &self.claim_token {
            opt("claim_token", Some(t));
            opt("claim_token_format", Some(fmt));
        }
        for p in &self.permissions {
            f.push(("permission".into(), p.clone()));
        }
        f
    }
}

/// One granted permission (`response_mode=permissions`, or an RPT's `authorization` claim).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Permission {
    /// The resource id.
    #[serde(default)]
    pub rsid: Option<String>,
    /// The resource name.
    #[serde(default)]
    pub rsname: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Uma {
    /// The realm's provider (for verifying RPTs, for example).
    pub fn oidc(&self) -> &Oidc {
        &self.oidc
    }

    /// The UMA discovery document (`.well-known/uma2-configuration`).
    pub async fn configuration(&self) -> Result<Map<String, Value>> {
        let req = self.oidc.public_request(
            Method::Get,
            "/.well-known/uma2-configuration",
            "/realms/{realm}/.well-known/uma2-configuration",
        );
        self.oidc.http_client().send(req).await?.json()
    }

    fn ticket_request(&self, bearer: &Secret, form: Vec<(String, String)>) -> Request {
        self.oidc
            .public_request(Method::Post, "/protocol/openid-connect/token", T_TOKEN)
            .header(
                "authorization",
                format!("Bearer {}", bearer.expose_secret()),
            )
            .form(form)
    }

    /// Obtains an RPT for the requesting party whose access token is `access_token`.
    /// A refusal is an [`Error::Auth`] with `oauth_error() == Some("access_denied")` (status 403).
    pub async fn rpt(&self, access_token: &Secret, req: &PermissionRequest) -> Result<TokenSet> {
        let resp = self
            .oidc
            .oauth_send(
                self.ticket_request(access_token, req.form(None)),
                "uma-ticket",
            )
            .await?;
        parse_token_answer(
            self.oidc.realm(),
            "uma-ticket",
            resp.status(),
            resp.bytes(),
            self.oidc.now(),
        )
    }

    /// Whether the requesting party has all the permissions asked for
    /// (`response_mode=decision`). A denial is `Ok(false)`.
    pub async fn decision(&self, access_token: &Secret, req: &PermissionRequest) -> Result<bool> {
        let r = self
            .oidc
            .oauth_send(
                self.ticket_request(access_token, req.form(Some("decision"))),
                "uma-ticket",
            )
            .await;
        match r {
            Ok(resp) => Ok(resp
                .json::<Value>()?
                .get("result")
                .and_then(Value::as_bool)
                .unwrap_or(false)),
            Err(e) if is_access_denied(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The permissions granted (`response_mode=permissions`). A denial is an empty list.
    pub async fn permissions(
        &self,
        access_token: &Secret,
        req: &PermissionRequest,
    ) -> Result<Vec<Permission>> {
        let r = self
            .oidc
            .oauth_send(
                self.ticket_request(access_token, req.form(Some("permissions"))),
                "uma-ticket",
            )
            .await;
        match r {
            Ok(resp) => resp.json(),
            Err(e) if is_access_denied(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Obtains a protection API token (PAT) with the resource server's client credentials.
    pub async fn pat(&self, resource_server: &OidcClient) -> Result<Secret> {
        Ok(resource_server.client_credentials().await?.access_token)
    }

    /// The protection API, authorized by a PAT.
    pub fn protection(&self, pat: impl Into<Secret>) -> Protection {
        Protection {
            oidc: self.oidc.clone(),
            pat: pat.into(),
        }
    }
}

/// Whether an error is a UMA / OAuth `access_denied` refusal.
pub fn is_access_denied(e: &Error) -> bool {
    e.as_auth()
        .is_some_and(|a| a.oauth_error() == Some("access_denied"))
}

/// A resource as the protection API represents it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Resource {
    /// Id (set by Keycloak).
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unique name.
    pub name: String,
    /// Display name.
    #[serde(
        rename = "displayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// Type (a URN grouping resources).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// URIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<String>,
    /// Scope names.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "scope_names"
    )]
    pub resource_scopes: Vec<String>,
    /// Owner (user id or name; the resource server when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Value>,
    /// Whether the owner manages access (user-managed permissions).
    #[serde(
        rename = "ownerManagedAccess",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub owner_managed_access: bool,
    /// Other attributes Keycloak sent or should receive.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Resource {
    /// A resource named `name` with scopes.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            name: name.into(),
            resource_scopes: scopes.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

fn scope_names<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    let items: Vec<Value> = Vec::deserialize(d)?;
    Ok(items
        .into_iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            Value::Object(m) => m.get("name").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .collect())
}

/// One requested permission in a ticket request.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct TicketPermission {
    /// The resource id.
    pub resource_id: String,
    /// The scopes asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_scopes: Vec<String>,
}

impl TicketPermission {
    /// Asks for `scopes` of resource `resource_id`.
    pub fn new<S: Into<String>>(
        resource_id: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            resource_id: resource_id.into(),
            resource_scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

/// The protection API of a resource server, authorized by its PAT.
#[derive(Clone)]
pub struct Protection {
    oidc: Oidc,
    pat: Secret,
}

impl fmt::Debug for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Protection")
            .field("realm", &self.oidc.realm())
            .finish_non_exhaustive()
    }
}

impl Protection {
    fn req(&self, method: Method, tail: &str, template: &'static str) -> Request {
        Request::new(
            method,
            format!("{}/authz/protection{tail}", self.oidc.realm_path()),
            template,
        )
        .realm(self.oidc.realm())
        .auth(AuthMode::None)
        .header(
            "authorization",
            format!("Bearer {}", self.pat.expose_secret()),
        )
    }

    async fn send(&self, req: Request) -> Result<crate::request::Response> {
        self.oidc.http_client().send(req).await
    }

    /// Creates a resource; returns it with its id.
    pub async fn create_resource(&self, r: &Resource) -> Result<Resource> {
        let req = self
            .req(
                Method::Post,
                "/resource_set",
                "/realms/{realm}/authz/protection/resource_set",
            )
            .json(r)?;
        self.send(req).await?.json()
    }

    /// Resource ids, optionally filtered by exact `name`.
    pub async fn list_resources(&self, name: Option<&str>) -> Result<Vec<String>> {
        let mut req = self.req(
            Method::Get,
            "/resource_set",
            "/realms/{realm}/authz/protection/resource_set",
        );
        if let Some(n) = name {
            req = req.query("name", n).query("exactName", "true");
        }
        self.send(req).await?.json()
    }

    /// One resource.
    pub async fn get_resource(&self, id: &str) -> Result<Resource> {
        crate::request::check_path_param("id", id)?;
        let req = self.req(
            Method::Get,
            &format!("/resource_set/{}", encode_segment(id)),
            "/realms/{realm}/authz/protection/resource_set/{id}",
        );
        self.send(req).await?.json()
    }

    /// Replaces a resource.
    pub async fn update_resource(&self, id: &str, r: &Resource) -> Result<()> {
        crate::request::check_path_param("id", id)?;
        let req = self
            .req(
                Method::Put,
                &format!("/resource_set/{}", encode_segment(id)),
                "/realms/{realm}/authz/protection/resource_set/{id}",
            )
            .json(r)?;
        self.send(req).await?;
        Ok(())
    }

    /// Deletes a resource.
    pub async fn delete_resource(&self, id: &str) -> Result<()> {
        crate::request::check_path_param("id", id)?;
        let req = self.req(
            Method::Delete,
            &format!("/resource_set/{}", encode_segment(id)),
            "/realms/{realm}/authz/protection/resource_set/{id}",
        );
        self.send(req).await?;
        Ok(())
    }

    /// Obtains a permission ticket for the permissions a client asked for without an RPT.
    pub async fn create_ticket(&self, permissions: &[TicketPermission]) -> Result<String> {
        let req = self
            .req(
                Method::Post,
                "/permission",
                "/realms/{realm}/authz/protection/permission",
            )
            .json(permissions)?;
        let v: Value = self.send(req).await?.json()?;
        v.get("ticket")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::invalid_input("the permission answer has no ticket"))
    }

    /// Permission tickets (pending requests and granted ones).
    pub async fn list_tickets(&self, resource_id: Option<&str>) -> Result<Vec<PermissionTicket>> {
        let mut req = self.req(
            Method::Get,
            "/permission/ticket",
            "/realms/{realm}/authz/protection/permission/ticket",
        );
        if let Some(r) = resource_id {
            req = req.query("resourceId", r);
        }
        self.send(req).await?.json()
    }

    /// Creates a ticket directly (granted on creation when `granted` is true), for example
    /// when the owner shares a resource.
    pub async fn create_permission_ticket(
        &self,
        ticket: &PermissionTicket,
    ) -> Result<PermissionTicket> {
        let req = self
            .req(
                Method::Post,
                "/permission/ticket",
                "/realms/{realm}/authz/protection/permission/ticket",
            )
            .json(ticket)?;
        self.send(req).await?.json()
    }

    /// Updates a ticket (for example its `granted` to approve a request).
    pub async fn update_permission_ticket(&self, ticket: &PermissionTicket) -> Result<()> {
        let req = self
            .req(
                Method::Put,
                "/permission/ticket",
                "/realms/{realm}/authz/protection/permission/ticket",
            )
            .json(ticket)?;
        self.send(req).await?;
        Ok(())
    }

    /// Deletes a ticket.
    pub async fn delete_permission_ticket(&self, id: &str) -> Result<()> {
        crate::request::check_path_param("id", id)?;
        let req = self.req(
            Method::Delete,
            &format!("/permission/ticket/{}", encode_segment(id)),
            "/realms/{realm}/authz/protection/permission/ticket/{id}",
        );
        self.send(req).await?;
        Ok(())
    }

    /// Creates a user-managed (UMA) policy on a resource the owner manages.
    pub async fn create_policy(&self, resource_id: &str, policy: &UmaPolicy) -> Result<UmaPolicy> {
        crate::request::check_path_param("resource_id", resource_id)?;
        let req = self
            .req(
                Method::Post,
                &format!("/uma-policy/{}", encode_segment(resource_id)),
                "/realms/{realm}/authz/protection/uma-policy/{resource_id}",
            )
            .json(policy)?;
        self.send(req).await?.json()
    }

    /// User-managed policies, optionally of one resource.
    pub async fn list_policies(&self, resource_id: Option<&str>) -> Result<Vec<UmaPolicy>> {
        let mut req = self.req(
            Method::Get,
            "/uma-policy",
            "/realms/{realm}/authz/protection/uma-policy",
        );
        if let Some(r) = resource_id {
            req = req.query("resource", r);
        }
        self.send(req).await?.json()
    }

    /// Replaces a user-managed policy.
    pub async fn update_policy(&self, id: &str, policy: &UmaPolicy) -> Result<()> {
        crate::request::check_path_param("id", id)?;
        let req = self
            .req(
                Method::Put,
                &format!("/uma-policy/{}", encode_segment(id)),
                "/realms/{realm}/authz/protection/uma-policy/{id}",
            )
            .json(policy)?;
        self.send(req).await?;
        Ok(())
    }

    /// Deletes a user-managed policy.
    pub async fn delete_policy(&self, id: &str) -> Result<()> {
        crate::request::check_path_param("id", id)?;
        let req = self.req(
            Method::Delete,
            &format!("/uma-policy/{}", encode_segment(id)),
            "/realms/{realm}/authz/protection/uma-policy/{id}",
        );
        self.send(req).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_reads_scope_objects() {
        let r: Resource = serde_json::from_value(serde_json::json!({
            "_id": "1", "name": "doc", "resource_scopes": [{"id": "s", "name": "read"}, "write"],
            "ownerManagedAccess": true, "icon_uri": "x"
        }))
        .unwrap();
        assert_eq!(r.resource_scopes, ["read", "write"]);
        assert!(r.owner_managed_access);
        assert!(r.extra.contains_key("icon_uri"));
        let back = serde_json::to_value(Resource::new("d", ["read"])).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"name": "d", "resource_scopes": ["read"]})
        );
    }

    #[test]
    fn ticket_form_has_no_empty_fields() {
        let f = PermissionRequest::new("rs")
            .permission("doc#read")
            .form(Some("decision"));
        let keys: Vec<_> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["grant_type", "audience", "response_mode", "permission"]
        );
    }
}
