//! The everyday chores as one call each: lookups that fail with [`Error::NotFound`], passwords,
//! enabling and disabling users, and role assignment by role *name* (Keycloak's API wants the
//! whole role objects, which means a lookup per role first).

use crate::error::{Error, Result};
use crate::generated::models::{
    ClientRepresentation, CredentialRepresentation, GroupRepresentation, RoleRepresentation,
    UserRepresentation,
};
use crate::generated::*;
use crate::secret::Secret;

impl UsersHandle {
    /// The user with this username (compared as Keycloak does, ignoring case), or
    /// [`Error::NotFound`]. [`find_by_username`](Self::find_by_username) is the `Option` form.
    pub async fn get_by_username(&self, username: &str) -> Result<UserRepresentation> {
        self.find_by_username(username)
            .await?
            .ok_or_else(|| Error::not_found("user", username))
    }
}

impl ClientsHandle {
    /// The client with this `clientId`, or [`Error::NotFound`].
    /// [`find_by_client_id`](Self::find_by_client_id) is the `Option` form.
    pub async fn get_by_client_id(&self, client_id: &str) -> Result<ClientRepresentation> {
        self.find_by_client_id(client_id)
            .await?
            .ok_or_else(|| Error::not_found("client", client_id))
    }

    /// The UUID (the id every client URL wants) of the client with this `clientId`.
    pub async fn uuid_of(&self, client_id: &str) -> Result<String> {
        self.get_by_client_id(client_id)
            .await?
            .id
            .ok_or_else(|| Error::not_found("client id of", client_id))
    }
}

impl RealmHandle {
    /// The group at `path` (`/parent/child`), or [`Error::NotFound`].
    /// [`find_group_by_path`](Self::find_group_by_path) is the `Option` form.
    pub async fn get_group_by_path(&self, path: &str) -> Result<GroupRepresentation> {
        self.find_group_by_path(path)
            .await?
            .ok_or_else(|| Error::not_found("group", path))
    }

    /// The realm roles with these names, in the order given; the first missing one is an
    /// [`Error::NotFound`] and nothing is returned.
    pub async fn realm_roles_named<S: AsRef<str>>(
        &self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Vec<RoleRepresentation>> {
        let mut roles = Vec::new();
        for name in names {
            let name = name.as_ref();
            let role = self.roles().find(name).await?;
            roles.push(role.ok_or_else(|| Error::not_found("realm role", name))?);
        }
        Ok(roles)
    }

    /// The UUID of the client `client_id` and its roles with these names; the first missing
    /// client or role is an [`Error::NotFound`].
    pub async fn client_roles_named<S: AsRef<str>>(
        &self,
        client_id: &str,
        names: impl IntoIterator<Item = S>,
    ) -> Result<(String, Vec<RoleRepresentation>)> {
        let uuid = self.clients().uuid_of(client_id).await?;
        let handle = self.client(&uuid).roles();
        let mut roles = Vec::new();
        for name in names {
            let name = name.as_ref();
            let role = handle.find(name).await?;
            roles.push(role.ok_or_else(|| Error::not_found("client role", name))?);
        }
        Ok((uuid, roles))
    }
}

/// Role assignment by name for a handle with `role_mappings_{realm,client}_{add,remove}`: users
/// and groups alike.
macro_rules! grants_roles_by_name {
    ($handle:ident, $who:literal) => {
        impl $handle {
            fn realm_handle(&self) -> RealmHandle {
                RealmHandle::new(self.client.clone(), self.realm.clone())
            }

            #[doc = concat!("Grants the realm roles with these names to ", $who, ".")]
            pub async fn add_realm_roles<S: AsRef<str>>(
                &self,
                names: impl IntoIterator<Item = S>,
            ) -> Result<()> {
                let roles = self.realm_handle().realm_roles_named(names).await?;
                self.role_mappings_realm_add(&roles).send().await
            }

            #[doc = concat!("Takes the realm roles with these names away from ", $who, ".")]
            pub async fn remove_realm_roles<S: AsRef<str>>(
                &self,
                names: impl IntoIterator<Item = S>,
            ) -> Result<()> {
                let roles = self.realm_handle().realm_roles_named(names).await?;
                self.role_mappings_realm_remove(&roles).send().await
            }

            #[doc = concat!("Grants roles of the client `client_id` (its `clientId`, not its UUID) by name to ", $who, ".")]
            pub async fn add_client_roles<S: AsRef<str>>(
                &self,
                client_id: &str,
                names: impl IntoIterator<Item = S>,
            ) -> Result<()> {
                let realm = self.realm_handle();
                let (uuid, roles) = realm.client_roles_named(client_id, names).await?;
                self.role_mappings_client_add(uuid, &roles).send().await
            }

            #[doc = concat!("Takes roles of the client `client_id` away from ", $who, " by name.")]
            pub async fn remove_client_roles<S: AsRef<str>>(
                &self,
                client_id: &str,
                names: impl IntoIterator<Item = S>,
            ) -> Result<()> {
                let realm = self.realm_handle();
                let (uuid, roles) = realm.client_roles_named(client_id, names).await?;
                self.role_mappings_client_remove(uuid, &roles).send().await
            }
        }
    };
}

grants_roles_by_name!(UserHandle, "the user");
grants_roles_by_name!(GroupHandle, "the group (so to every member)");

impl UserHandle {
    /// Sets the user's password; a `temporary` one must be changed at the next login.
    pub async fn set_password(&self, password: impl Into<Secret>, temporary: bool) -> Result<()> {
        let credential = CredentialRepresentation::password(password, temporary);
        self.reset_password(&credential).send().await
    }

    /// Enables the user (a safe partial update: nothing else changes).
    pub async fn enable(&self) -> Result<()> {
        self.patch(|u| u.enabled = Some(true)).await.map(drop)
    }

    /// Disables the user: they can no longer log in; nothing else changes.
    pub async fn disable(&self) -> Result<()> {
        self.patch(|u| u.enabled = Some(false)).await.map(drop)
    }
}
