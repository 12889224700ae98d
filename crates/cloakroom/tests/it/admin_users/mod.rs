//! Every operation of the users, groups and roles handles against the real server: users and
//! their credentials, emails, sessions, consents, federated identities, impersonation, group
//! membership and role mappings; the user profile; groups and their children, role mappings and
//! management permissions; realm roles, roles by id and client roles; default groups.

mod groups;
mod profile;
mod role_mappings;
mod roles;
mod users;

use std::collections::BTreeSet;

use cloakroom::Client;
use cloakroom::generated::models::{RoleRepresentation, UserRepresentation};

/// A user with an email, a complete profile and (optionally) a password.
pub fn user_rep(username: &str, password: Option<&str>) -> UserRepresentation {
    UserRepresentation {
        username: Some(username.into()),
        enabled: Some(true),
        email: Some(format!("{username}@example.com")),
        email_verified: Some(true),
        first_name: Some(username.into()),
        last_name: Some("Tester".into()),
        credentials: password.map(|pw| {
            vec![cloakroom::generated::models::CredentialRepresentation {
                r#type: Some("password".into()),
                value: Some(pw.into()),
                temporary: Some(false),
                ..Default::default()
            }]
        }),
        ..Default::default()
    }
}

/// The names of `roles`.
pub fn names(roles: &[RoleRepresentation]) -> BTreeSet<String> {
    roles.iter().filter_map(|r| r.name.clone()).collect()
}

/// The id (UUID) of the client `client_id` of `realm`.
pub async fn client_uuid(kc: &Client, realm: &str, client_id: &str) -> String {
    let found = kc
        .realm(realm)
        .clients()
        .list()
        .client_id(client_id)
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "client {client_id} in {realm}");
    found[0].id.clone().unwrap()
}

/// A set of strings, for readable comparisons.
pub fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
