//! The table behind `get|create|update|delete`: each CLI resource kind mapped to the
//! library's typed handles, lookups by natural key (`find_*`) and safe update (`merge`).
//!
//! Requests are the generated operations' own (`to_request()`), so spans and the coverage log
//! name the real operation; answers are read as plain JSON so the CLI prints exactly what the
//! server sent.

use cloakroom::generated::*;
use cloakroom::request::Request;
use cloakroom::{Client, Result};
use serde_json::Value;

use crate::cli::ResourceKind;
use crate::exit::{CliError, CliResult};

impl ResourceKind {
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Users => "user",
            ResourceKind::Clients => "client",
            ResourceKind::Groups => "group",
            ResourceKind::Roles => "role",
            ResourceKind::ClientScopes => "client scope",
            ResourceKind::IdentityProviders => "identity provider",
            ResourceKind::Realms => "realm",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ResourceKind::Users => &[
                "id",
                "username",
                "email",
                "firstName",
                "lastName",
                "enabled",
            ],
            ResourceKind::Clients => &[
                "id",
                "clientId",
                "name",
                "protocol",
                "publicClient",
                "enabled",
            ],
            ResourceKind::Groups => &["id", "name", "path", "subGroupCount"],
            ResourceKind::Roles => &["id", "name", "description", "composite", "clientRole"],
            ResourceKind::ClientScopes => &["id", "name", "protocol", "description"],
            ResourceKind::IdentityProviders => &["alias", "providerId", "displayName", "enabled"],
            ResourceKind::Realms => &["id", "realm", "displayName", "enabled"],
        }
    }

    /// Whether the list endpoint takes `first`/`max`.
    pub fn paged(self) -> bool {
        !matches!(self, ResourceKind::ClientScopes | ResourceKind::Realms)
    }
}

/// Where a command works: the client, the target realm and, for client roles, the client's
/// internal id.
#[derive(Clone)]
pub struct Place {
    pub kc: Client,
    pub realm: String,
    pub client_uuid: Option<String>,
}

/// One object, resolved to its typed handle.
pub enum Item {
    User(UserHandle),
    Client(ClientHandle),
    Group(GroupHandle),
    Role(RoleHandle),
    ClientRole(ClientRoleHandle),
    Scope(ClientScopeHandle),
    Idp(IdentityProviderHandle),
    Realm(RealmHandle),
}

/// Runs the same expression on whichever handle an [`Item`] holds.
macro_rules! on_item {
    ($item:expr, $h:ident => $body:expr) => {
        match $item {
            Item::User($h) => $body,
            Item::Client($h) => $body,
            Item::Group($h) => $body,
            Item::Role($h) => $body,
            Item::ClientRole($h) => $body,
            Item::Scope($h) => $body,
            Item::Idp($h) => $body,
            Item::Realm($h) => $body,
        }
    };
}

impl Item {
    pub fn get(&self) -> Result<Request> {
        on_item!(self, h => h.get().to_request())
    }

    pub fn delete(&self) -> Result<Request> {
        on_item!(self, h => h.delete().to_request())
    }

    /// The library's safe partial update (GET, merge, re-check, PUT).
    pub async fn merge(&self, patch: &Value) -> Result<()> {
        on_item!(self, h => h.merge(patch).await.map(drop))
    }
}

fn page_args(first: u32, max: u32) -> (i32, i32) {
    let c = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    (c(first), c(max))
}

impl Place {
    fn realm(&self) -> RealmHandle {
        self.kc.realm(self.realm.as_str())
    }

    fn client_roles(&self, uuid: &str) -> ClientRolesHandle {
        self.realm().client(uuid).roles()
    }

    /// The internal id of the client with this clientId (or this id).
    pub async fn client_uuid(&self, client: &str) -> CliResult<String> {
        if let Some(c) = self.realm().clients().find_by_client_id(client).await? {
            return c
                .id
                .ok_or_else(|| CliError::server("Keycloak sent a client without an id"));
        }
        match cloakroom::admin::optional(self.realm().client(client).get().send()).await? {
            Some(_) => Ok(client.to_owned()),
            None => Err(CliError::not_found(format!(
                "no client `{client}` in realm `{}`",
                self.realm
            ))),
        }
    }

    /// The handle of the object called `name` (natural key first, else an id).
    pub async fn resolve(&self, kind: ResourceKind, name: &str) -> CliResult<Item> {
        let r = self.realm();
        let or_id = |found: Option<Option<String>>| found.flatten().unwrap_or_else(|| name.into());
        Ok(match kind {
            ResourceKind::Users => {
                let found = r.users().find_by_username(name).await?;
                Item::User(r.user(or_id(found.map(|u| u.id))))
            }
            ResourceKind::Clients => {
                let found = r.clients().find_by_client_id(name).await?;
                Item::Client(r.client(or_id(found.map(|c| c.id))))
            }
            ResourceKind::Groups if name.starts_with('/') => {
                let found = r.find_group_by_path(name).await?.and_then(|g| g.id);
                let id = found.ok_or_else(|| {
                    CliError::not_found(format!("no group `{name}` in realm `{}`", self.realm))
                })?;
                Item::Group(r.group(id))
            }
            ResourceKind::Groups => {
                let found = r.groups().find_by_name(name).await?;
                Item::Group(r.group(or_id(found.map(|g| g.id))))
            }
            ResourceKind::ClientScopes => {
                let found = r.client_scopes().find_by_name(name).await?;
                Item::Scope(r.client_scope(or_id(found.map(|s| s.id))))
            }
            ResourceKind::Roles => match &self.client_uuid {
                Some(uuid) => Item::ClientRole(r.client(uuid.as_str()).role(name)),
                None => Item::Role(r.role(name)),
            },
            ResourceKind::IdentityProviders => Item::Idp(r.identity_provider(name)),
            ResourceKind::Realms => Item::Realm(self.kc.realm(name)),
        })
    }

    /// One page of a listing (kinds that are not [`paged`](ResourceKind::paged) answer all), with Keycloak's `search` (for clients: a clientId search).
    pub fn list_page(
        &self,
        kind: ResourceKind,
        search: Option<&str>,
        first: u32,
        max: u32,
    ) -> Result<Request> {
        let (first, max) = page_args(first, max);
        let r = self.realm();
        macro_rules! paged {
            ($list:expr) => {{
                let l = $list.first(first).max(max);
                match search {
                    Some(s) => l.search(s).to_request(),
                    None => l.to_request(),
                }
            }};
        }
        match (kind, &self.client_uuid) {
            (ResourceKind::Users, _) => paged!(r.users().list()),
            (ResourceKind::Groups, _) => paged!(r.groups().list()),
            (ResourceKind::IdentityProviders, _) => paged!(r.identity_providers().list()),
            (ResourceKind::Roles, Some(uuid)) => paged!(self.client_roles(uuid).list()),
            (ResourceKind::Roles, None) => paged!(r.roles().list()),
            (ResourceKind::Clients, _) => {
                let l = r.clients().list().first(first).max(max);
                match search {
                    Some(s) => l.client_id(s).search(true).to_request(),
                    None => l.to_request(),
                }
            }
            // Not paged: one answer holds them all.
            (ResourceKind::ClientScopes, _) => r.client_scopes().list().to_request(),
            (ResourceKind::Realms, _) => self.kc.realms().list().to_request(),
        }
    }

    /// The create operation of a kind, sending `body` as the user wrote it.
    pub fn create(&self, kind: ResourceKind, body: &Value) -> Result<Request> {
        let r = self.realm();
        let req = match (kind, &self.client_uuid) {
            (ResourceKind::Users, _) => r.users().create(&Default::default()).to_request(),
            (ResourceKind::Clients, _) => r.clients().create(&Default::default()).to_request(),
            (ResourceKind::Groups, _) => r.groups().create(&Default::default()).to_request(),
            (ResourceKind::Roles, Some(uuid)) => self
                .client_roles(uuid)
                .create(&Default::default())
                .to_request(),
            (ResourceKind::Roles, None) => r.roles().create(&Default::default()).to_request(),
            (ResourceKind::ClientScopes, _) => {
                r.client_scopes().create(&Default::default()).to_request()
            }
            (ResourceKind::IdentityProviders, _) => r
                .identity_providers()
                .create(&Default::default())
                .to_request(),
            (ResourceKind::Realms, _) => self.kc.realms().create(&Default::default()).to_request(),
        }?;
        req.json(body)
    }
}
