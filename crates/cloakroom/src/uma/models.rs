//! Permission tickets and user-managed (UMA) policies of the protection API, typed; every field
//! Keycloak sends that is not named here is kept in `extra` and sent back as it was.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A permission ticket: a requester's request for a scope of a resource, granted or pending.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PermissionTicket {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resource's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The scope's id (or use `scope_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_name: Option<String>,
    /// The requesting user's id (or use `requester_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_name: Option<String>,
    /// The resource owner's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<bool>,
    /// Fields not named above, kept as Keycloak sent them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PermissionTicket {
    /// A ticket sharing `scope_name` of `resource` with the user `requester_name`, granted on
    /// creation when `granted`.
    pub fn share(
        resource: impl Into<String>,
        requester_name: impl Into<String>,
        scope_name: impl Into<String>,
        granted: bool,
    ) -> Self {
        Self {
            resource: Some(resource.into()),
            requester_name: Some(requester_name.into()),
            scope_name: Some(scope_name.into()),
            granted: Some(granted),
            ..Self::default()
        }
    }
}

/// A user-managed policy on a resource: who (users, groups, roles, clients, or a JavaScript
/// condition) may use which of its scopes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UmaPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Scope names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Usernames (or ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Group paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Realm role names, or `client/role` for client roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Client ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// `UNANIMOUS`, `AFFIRMATIVE` or `CONSENSUS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_strategy: Option<String>,
    /// `POSITIVE` or `NEGATIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logic: Option<String>,
    /// Fields not named above, kept as Keycloak sent them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UmaPolicy {
    /// A policy named `name` giving `scopes` to `users`.
    pub fn for_users<S: Into<String>, U: Into<String>>(
        name: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
        users: impl IntoIterator<Item = U>,
    ) -> Self {
        Self {
            name: name.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            users: users.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let v = json!({"id": "t1", "resource": "r", "granted": true, "scopeName": "read",
                       "requesterName": "bob", "createdTimestamp": 5});
        let t: PermissionTicket = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(t.granted, Some(true));
        assert_eq!(t.extra["createdTimestamp"], 5);
        assert_eq!(serde_json::to_value(&t).unwrap(), v);
        let p = json!({"id": "p", "name": "n", "scopes": ["read"], "users": ["bob"],
                       "type": "uma", "owner": "alice"});
        let u: UmaPolicy = serde_json::from_value(p.clone()).unwrap();
        assert_eq!(u.users, ["bob"]);
        assert_eq!(serde_json::to_value(&u).unwrap(), p);
    }
}
