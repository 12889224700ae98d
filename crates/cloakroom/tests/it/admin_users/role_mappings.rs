//! A user's realm and client role mappings: available, assigned, effective (composite).

use serde_json::json;

use super::{client_uuid, names, set, user_rep};
use crate::support::kc::{admin, create_realm, delete_realm};

/// A realm with roles `viewer` and `editor` (a composite of `viewer`) and a client `api` with
/// roles `read` and `write` (a composite of `read`).
pub fn realm_with_roles() -> serde_json::Value {
    json!({
        "roles": {
            "realm": [
                {"name": "viewer", "description": "Sees things"},
                {"name": "editor", "description": "Changes things",
                 "composite": true, "composites": {"realm": ["viewer"]}},
            ],
            "client": {
                "api": [
                    {"name": "read"},
                    {"name": "write", "composite": true, "composites": {"client": {"api": ["read"]}}},
                ],
            },
        },
        "clients": [{"clientId": "api", "publicClient": false, "secret": "api-secret"}],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_realm_and_client_role_mappings() {
    let kc = admin();
    let realm = create_realm(&kc, "users-rm", realm_with_roles()).await;
    let r = kc.realm(&realm);
    let api = client_uuid(&kc, &realm, "api").await;
    let id = r
        .users()
        .create(&user_rep("ivy", None))
        .send()
        .await
        .unwrap();
    let user = r.user(&id);
    let default_roles = format!("default-roles-{realm}");

    // Realm roles.
    let assigned = user.role_mappings_realm().send().await.unwrap();
    assert_eq!(names(&assigned), set([default_roles.as_str()]));
    let available = user.role_mappings_realm_available().send().await.unwrap();
    let available_names = names(&available);
    assert!(available_names.contains("viewer") && available_names.contains("editor"));
    assert!(
        !available_names.contains(&default_roles),
        "assigned roles are not available"
    );
    let editor = available
        .iter()
        .find(|r| r.name.as_deref() == Some("editor"))
        .unwrap()
        .clone();

    user.role_mappings_realm_add(std::slice::from_ref(&editor))
        .send()
        .await
        .unwrap();
    let assigned = user.role_mappings_realm().send().await.unwrap();
    assert_eq!(names(&assigned), set([default_roles.as_str(), "editor"]));
    let effective = names(&user.role_mappings_realm_composite().send().await.unwrap());
    for role in ["editor", "viewer", "offline_access", "uma_authorization"] {
        assert!(effective.contains(role), "{role} in {effective:?}");
    }
    let brief = user
        .role_mappings_realm_composite()
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    let editor_full = brief
        .iter()
        .find(|r| r.name.as_deref() == Some("editor"))
        .unwrap();
    assert_eq!(editor_full.description.as_deref(), Some("Changes things"));
    assert!(!names(&user.role_mappings_realm_available().send().await.unwrap()).contains("editor"));

    // Client roles.
    assert!(
        user.role_mappings_client(&api)
            .send()
            .await
            .unwrap()
            .is_empty()
    );
    let available = user
        .role_mappings_client_available(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&available), set(["read", "write"]));
    let write = available
        .iter()
        .find(|r| r.name.as_deref() == Some("write"))
        .unwrap()
        .clone();
    user.role_mappings_client_add(&api, std::slice::from_ref(&write))
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&user.role_mappings_client(&api).send().await.unwrap()),
        set(["write"])
    );
    let effective = user
        .role_mappings_client_composite(&api)
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&effective),
        set(["read", "write"]),
        "write includes read"
    );
    assert_eq!(
        names(
            &user
                .role_mappings_client_available(&api)
                .send()
                .await
                .unwrap()
        ),
        set(["read"])
    );

    // Everything at once.
    let all = user.role_mappings().send().await.unwrap();
    assert_eq!(
        names(all.realm_mappings.as_ref().unwrap()),
        set([default_roles.as_str(), "editor"])
    );
    let api_mappings = &all.client_mappings.as_ref().unwrap()["api"];
    assert_eq!(api_mappings.id.as_deref(), Some(api.as_str()));
    assert_eq!(api_mappings.client.as_deref(), Some("api"));
    assert_eq!(
        names(api_mappings.mappings.as_ref().unwrap()),
        set(["write"])
    );

    user.role_mappings_client_remove(&api, std::slice::from_ref(&write))
        .send()
        .await
        .unwrap();
    assert!(
        user.role_mappings_client(&api)
            .send()
            .await
            .unwrap()
            .is_empty()
    );
    user.role_mappings_realm_remove(std::slice::from_ref(&editor))
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&user.role_mappings_realm().send().await.unwrap()),
        set([default_roles.as_str()])
    );
    let all = user.role_mappings().send().await.unwrap();
    assert!(all.client_mappings.unwrap_or_default().is_empty());

    delete_realm(&kc, &realm).await;
}
