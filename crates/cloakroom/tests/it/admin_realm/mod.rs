//! The realm area of the Admin API against the real server: the realm itself, its
//! organizations, identity providers, events, localization and brute-force detection.

mod events;
mod identity_providers;
mod organizations;
mod realm;

use cloakroom::Client;
use cloakroom::generated::models::RoleRepresentation;
use serde_json::{Value, json};

use crate::support::kc::{create_realm, user};

/// A throw-away realm with `extra` merged into its representation.
pub(crate) async fn realm_with(kc: &Client, prefix: &str, extra: Value) -> String {
    let mut rep = json!({"enabled": true});
    if let (Some(rep), Value::Object(extra)) = (rep.as_object_mut(), extra) {
        rep.extend(extra);
    }
    create_realm(kc, prefix, rep).await
}

/// Creates a user with a password and a complete profile; returns its id.
pub(crate) async fn create_user(kc: &Client, realm: &str, username: &str) -> String {
    kc.raw()
        .post(format!("/admin/realms/{realm}/users"))
        .json(&user(username, "pa55-Word!"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating user {username}: {e}"))
        .location_id()
        .unwrap()
}

/// Creates a realm role and returns it as the server has it (with its id).
pub(crate) async fn create_realm_role(kc: &Client, realm: &str, name: &str) -> RoleRepresentation {
    kc.raw()
        .post(format!("/admin/realms/{realm}/roles"))
        .json(&json!({"name": name, "description": format!("{name} role")}))
        .send()
        .await
        .unwrap();
    kc.raw()
        .get(format!("/admin/realms/{realm}/roles/{name}"))
        .send_json()
        .await
        .unwrap()
}

/// Creates a confidential client with one client role; returns the client's id and the role.
pub(crate) async fn create_client_with_role(
    kc: &Client,
    realm: &str,
    client_id: &str,
    role: &str,
) -> (String, RoleRepresentation) {
    let uuid = kc
        .raw()
        .post(format!("/admin/realms/{realm}/clients"))
        .json(&json!({"clientId": client_id, "publicClient": false, "secret": "s3cret"}))
        .send()
        .await
        .unwrap()
        .location_id()
        .unwrap();
    kc.raw()
        .post(format!("/admin/realms/{realm}/clients/{uuid}/roles"))
        .json(&json!({"name": role}))
        .send()
        .await
        .unwrap();
    let role = kc
        .raw()
        .get(format!("/admin/realms/{realm}/clients/{uuid}/roles/{role}"))
        .send_json()
        .await
        .unwrap();
    (uuid, role)
}
