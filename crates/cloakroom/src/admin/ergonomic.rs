//! What users of other Keycloak clients keep writing by hand: lookups by natural key,
//! create-if-absent that survives races, and partial updates that lose nothing.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::generated::models::{
    ClientRepresentation, ClientScopeRepresentation, GroupRepresentation,
    IdentityProviderRepresentation, OrganizationRepresentation, RealmRepresentation,
    RoleRepresentation, UserRepresentation,
};
use crate::generated::*;

/// The outcome of an `ensure`: the object's id and whether this call created it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ensured {
    /// The id (or, for realms and roles, the name) of the object.
    pub id: String,
    /// `true` when this call created it, `false` when it already existed.
    pub created: bool,
}

/// Turns a 404 into `None`.
pub async fn optional<T>(fut: impl Future<Output = Result<T>>) -> Result<Option<T>> {
    match fut.await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Create, and on 409 look the object up by its natural key: the race-safe create-if-absent.
/// A conflict whose object cannot be found (e.g. a duplicate email, not username) stays an error.
async fn ensure<C, F, FutC, FutF>(create: C, find: F) -> Result<Ensured>
where
    C: FnOnce() -> FutC,
    FutC: Future<Output = Result<String>>,
    F: FnOnce() -> FutF,
    FutF: Future<Output = Result<Option<String>>>,
{
    match create().await {
        Ok(id) => Ok(Ensured { id, created: true }),
        Err(e) if e.is_conflict() => match find().await? {
            Some(id) => Ok(Ensured { id, created: false }),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

fn required<'a>(v: &'a Option<String>, what: &str) -> Result<&'a str> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid_input(format!("{what} is required")))
}

impl UsersHandle {
    /// The user with exactly this username (Keycloak stores usernames in lower case).
    pub async fn find_by_username(&self, username: &str) -> Result<Option<UserRepresentation>> {
        let found = self.list().username(username).exact(true).send().await?;
        Ok(found.into_iter().find(|u| {
            u.username
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(username))
        }))
    }

    /// The user with exactly this email address.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<UserRepresentation>> {
        let found = self.list().email(email).exact(true).send().await?;
        Ok(found.into_iter().find(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        }))
    }

    /// Creates the user unless one with the same username exists; returns its id either way.
    pub async fn ensure(&self, user: &UserRepresentation) -> Result<Ensured> {
        let username = required(&user.username, "username")?.to_owned();
        ensure(
            || self.create(user).send(),
            || async { Ok(self.find_by_username(&username).await?.and_then(|u| u.id)) },
        )
        .await
    }
}

impl ClientsHandle {
    /// The client with exactly this `clientId` (the human name, not the UUID).
    pub async fn find_by_client_id(&self, client_id: &str) -> Result<Option<ClientRepresentation>> {
        let found = self.list().client_id(client_id).send().await?;
        Ok(found
            .into_iter()
            .find(|c| c.client_id.as_deref() == Some(client_id)))
    }

    /// Creates the client unless one with the same `clientId` exists; returns its UUID.
    pub async fn ensure(&self, client: &ClientRepresentation) -> Result<Ensured> {
        let client_id = required(&client.client_id, "clientId")?.to_owned();
        ensure(
            || self.create(client).send(),
            || async { Ok(self.find_by_client_id(&client_id).await?.and_then(|c| c.id)) },
        )
        .await
    }
}

impl RealmsHandle {
    /// Creates the realm unless it exists; the id returned is the realm's name.
    pub async fn ensure(&self, realm: &RealmRepresentation) -> Result<Ensured> {
        let name = required(&realm.realm, "realm")?.to_owned();
        ensure(
            || self.create(realm).send(),
            || async { Ok(Some(name.clone())) },
        )
        .await
    }
}

impl RealmHandle {
    /// The group at `path` (`/parent/child`), or `None`.
    pub async fn find_group_by_path(&self, path: &str) -> Result<Option<GroupRepresentation>> {
        let trimmed = path.trim_matches('/');
        if trimmed.is_empty() {
            return Err(Error::invalid_input("group path is empty"));
        }
        optional(self.group_by_path(trimmed).send()).await
    }

    /// Creates every missing group along `path` (`/eng/platform/sre`) and returns the id of
    /// the last one. Safe against concurrent callers creating the same groups.
    pub async fn ensure_group_path(&self, path: &str) -> Result<Ensured> {
        let names: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if names.is_empty() {
            return Err(Error::invalid_input("group path is empty"));
        }
        let mut parent: Option<String> = None;
        let mut so_far = String::new();
        let mut last = None;
        for name in names {
            so_far.push('/');
            so_far.push_str(name);
            let group = GroupRepresentation {
                name: Some(name.to_owned()),
                ..Default::default()
            };
            let lookup = so_far.clone();
            let create = || async {
                let id = match &parent {
                    None => self.groups().create(&group).send().await?,
                    Some(p) => self.group(p.clone()).create_child(&group).send().await?,
                };
                match id {
                    Some(id) => Ok(id),
                    // No Location: look it up.
                    None => self
                        .find_group_by_path(&lookup)
                        .await?
                        .and_then(|g| g.id)
                        .ok_or_else(|| Error::invalid_input("created group not found")),
                }
            };
            let existing = self.find_group_by_path(&so_far).await?.and_then(|g| g.id);
            let step = match existing {
                Some(id) => Ensured { id, created: false },
                None => {
                    ensure(create, || async {
                        Ok(self.find_group_by_path(&lookup).await?.and_then(|g| g.id))
                    })
                    .await?
                }
            };
            parent = Some(step.id.clone());
            last = Some(step);
        }
        last.ok_or_else(|| Error::invalid_input("group path is empty"))
    }
}

impl GroupsHandle {
    /// The first group, at any depth, named exactly `name` (Keycloak answers a search with the
    /// matching groups nested under their top-level ancestors). Use
    /// [`RealmHandle::find_group_by_path`] when names repeat under different parents.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<GroupRepresentation>> {
        let found = self.list().search(name).exact(true).send().await?;
        Ok(first_named(found, name))
    }
}

/// Depth-first search of a group tree for a group called `name`.
fn first_named(groups: Vec<GroupRepresentation>, name: &str) -> Option<GroupRepresentation> {
    let mut stack: Vec<GroupRepresentation> = groups.into_iter().rev().collect();
    while let Some(mut g) = stack.pop() {
        if g.name.as_deref() == Some(name) {
            return Some(g);
        }
        if let Some(sub) = g.sub_groups.take() {
            stack.extend(sub.into_iter().rev());
        }
    }
    None
}

impl RolesHandle {
    /// The realm role with this name, or `None`.
    pub async fn find(&self, name: &str) -> Result<Option<RoleRepresentation>> {
        optional(
            RoleHandle::new(self.client.clone(), self.realm.clone(), name)
                .get()
                .send(),
        )
        .await
    }

    /// Creates the realm role unless it exists; the id returned is the role's name.
    pub async fn ensure(&self, role: &RoleRepresentation) -> Result<Ensured> {
        let name = required(&role.name, "role name")?.to_owned();
        ensure(
            || self.create(role).send(),
            || async { Ok(Some(name.clone())) },
        )
        .await
    }
}

impl ClientRolesHandle {
    /// The client role with this name, or `None`.
    pub async fn find(&self, name: &str) -> Result<Option<RoleRepresentation>> {
        optional(
            ClientRoleHandle::new(
                self.client.clone(),
                self.realm.clone(),
                self.client_uuid.clone(),
                name,
            )
            .get()
            .send(),
        )
        .await
    }

    /// Creates the client role unless it exists; the id returned is the role's name.
    pub async fn ensure(&self, role: &RoleRepresentation) -> Result<Ensured> {
        let name = required(&role.name, "role name")?.to_owned();
        ensure(
            || self.create(role).send(),
            || async { Ok(Some(name.clone())) },
        )
        .await
    }
}

impl ClientScopesHandle {
    /// The client scope with this name, or `None`.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<ClientScopeRepresentation>> {
        let all = self.list().send().await?;
        Ok(all.into_iter().find(|s| s.name.as_deref() == Some(name)))
    }
}

impl IdentityProvidersHandle {
    /// The identity provider with this alias, or `None`.
    pub async fn find(&self, alias: &str) -> Result<Option<IdentityProviderRepresentation>> {
        optional(
            IdentityProviderHandle::new(self.client.clone(), self.realm.clone(), alias)
                .get()
                .send(),
        )
        .await
    }
}

impl OrganizationsHandle {
    /// The organization with exactly this name, or `None`.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<OrganizationRepresentation>> {
        let found = self.list().search(name).exact(true).send().await?;
        Ok(found.into_iter().find(|o| o.name.as_deref() == Some(name)))
    }
}

/// Applies an RFC 7386 JSON merge patch: objects merge key by key, `null` removes a key, any
/// other value replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("made an object above");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// GET, change, re-check, PUT. Shared by every `patch`/`merge` below.
async fn patch_with<T, G, FutG, P, FutP>(
    what: &str,
    get: G,
    put: P,
    change: impl FnOnce(&mut T) -> Result<()>,
) -> Result<T>
where
    T: Serialize + Clone,
    G: Fn() -> FutG,
    FutG: Future<Output = Result<T>>,
    P: FnOnce(T) -> FutP,
    FutP: Future<Output = Result<()>>,
{
    let to_json = |v: &T| serde_json::to_value(v).map_err(|e| Error::invalid_input(e.to_string()));
    let before = get().await?;
    let fingerprint = to_json(&before)?;
    let mut after = before;
    change(&mut after)?;
    // Keycloak has no ETags: read once more and refuse to overwrite someone else's change.
    if to_json(&get().await?)? != fingerprint {
        return Err(Error::ConcurrentChange(what.to_owned()));
    }
    put(after.clone()).await?;
    Ok(after)
}

fn apply_merge<T: Serialize + DeserializeOwned>(value: &mut T, patch: &Value) -> Result<()> {
    let mut json =
        serde_json::to_value(&*value).map_err(|e| Error::invalid_input(e.to_string()))?;
    merge_patch(&mut json, patch);
    *value = serde_json::from_value(json)
        .map_err(|e| Error::invalid_input(format!("the merge patch does not fit: {e}")))?;
    Ok(())
}

macro_rules! patchable {
    ($handle:ident, $model:ty, $what:literal) => {
        impl $handle {
            /// Safe partial update: reads the current object, applies `change`, checks nobody
            /// else changed it meanwhile ([`Error::ConcurrentChange`] if so), and writes it
            /// back. Fields this version of cloakroom does not know are kept. Returns what was
            /// written.
            pub async fn patch(&self, change: impl FnOnce(&mut $model)) -> Result<$model> {
                patch_with(
                    $what,
                    || self.get().send(),
                    |v| async move { self.update(&v).send().await },
                    |v| {
                        change(v);
                        Ok(())
                    },
                )
                .await
            }

            /// Like [`patch`](Self::patch), with an RFC 7386 JSON merge patch
            /// (`{"attributes": {"team": ["sre"]}, "email": null}`). A patch that does not fit
            /// the model is refused before anything is written.
            pub async fn merge(&self, patch: &Value) -> Result<$model> {
                patch_with(
                    $what,
                    || self.get().send(),
                    |v| async move { self.update(&v).send().await },
                    |v| apply_merge(v, patch),
                )
                .await
            }
        }
    };
}

patchable!(UserHandle, UserRepresentation, "the user");
patchable!(ClientHandle, ClientRepresentation, "the client");
patchable!(RealmHandle, RealmRepresentation, "the realm");
patchable!(GroupHandle, GroupRepresentation, "the group");
patchable!(RoleHandle, RoleRepresentation, "the role");
patchable!(ClientRoleHandle, RoleRepresentation, "the client role");
patchable!(
    ClientScopeHandle,
    ClientScopeRepresentation,
    "the client scope"
);
patchable!(
    IdentityProviderHandle,
    IdentityProviderRepresentation,
    "the identity provider"
);
patchable!(
    OrganizationHandle,
    OrganizationRepresentation,
    "the organization"
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}, "keep": 1});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null, "h": [1]}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e", "h": [1]}, "keep": 1}));
        let mut t = json!([1]);
        merge_patch(&mut t, &json!({"x": 1}));
        assert_eq!(t, json!({"x": 1}));
    }

    #[test]
    fn group_names_are_found_at_any_depth() {
        let tree: Vec<GroupRepresentation> = serde_json::from_value(json!([
            {"name": "eng", "subGroups": [{"name": "ops", "id": "1"}]},
            {"name": "ops", "id": "2"}
        ]))
        .unwrap();
        assert_eq!(
            first_named(tree.clone(), "ops").unwrap().id.as_deref(),
            Some("1")
        );
        assert_eq!(
            first_named(tree.clone(), "eng").unwrap().name.as_deref(),
            Some("eng")
        );
        assert!(first_named(tree, "nope").is_none());
    }

    #[test]
    fn merge_keeps_unknown_fields() {
        let mut u: UserRepresentation =
            serde_json::from_value(json!({"username": "a", "futureField": {"x": 1}})).unwrap();
        apply_merge(&mut u, &json!({"firstName": "Ada"})).unwrap();
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["futureField"], json!({"x": 1}));
        assert_eq!(v["firstName"], "Ada");
        assert!(apply_merge(&mut u, &json!({"enabled": "not a bool"})).is_err());
    }
}
