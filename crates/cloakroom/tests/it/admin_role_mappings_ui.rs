//! The admin console's effective / available client-role endpoints (`…/ui-ext/effective-roles`
//! and `…/ui-ext/available-roles`, typed from spec/cloakroom-supplement.json): the client roles
//! of a user across every client in one call.

use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};

#[tokio::test]
async fn effective_and_available_client_roles_of_a_user() {
    let kc = admin();
    let realm = create_realm(
        &kc,
        "uiroles",
        json!({
            "clients": [{"clientId": "shop", "enabled": true}],
            "roles": {"client": {"shop": [{"name": "buyer"}, {"name": "seller"}]}},
            "users": [{"username": "ann", "enabled": true, "clientRoles": {"shop": ["buyer"]}}]
        }),
    )
    .await;
    let r = kc.realm(&realm);
    let ann = r.users().find_by_username("ann").await.unwrap().unwrap();
    let ann_id = ann.id.unwrap();

    let effective = r
        .role_mappings_ui()
        .effective_of_user(&ann_id)
        .send()
        .await
        .unwrap();
    let buyer = effective
        .iter()
        .find(|c| c.role.as_deref() == Some("buyer"))
        .unwrap_or_else(|| panic!("buyer is effective: {effective:?}"));
    // `client` is the clientId, `clientId` the client's internal id (seen on 26.7.3).
    assert_eq!(buyer.client.as_deref(), Some("shop"));
    assert_eq!(buyer.client_id.as_ref().map(String::len), Some(36));
    assert!(
        effective
            .iter()
            .all(|c| c.role.as_deref() != Some("seller"))
    );

    let available = r
        .role_mappings_ui()
        .available_for_user(&ann_id)
        .first(0)
        .max(100)
        .send()
        .await
        .unwrap();
    assert!(
        available
            .iter()
            .any(|c| c.role.as_deref() == Some("seller") && c.client.as_deref() == Some("shop")),
        "{available:?}"
    );
    assert!(available.iter().all(|c| c.role.as_deref() != Some("buyer")));
    let searched = r
        .role_mappings_ui()
        .available_for_user(&ann_id)
        .search("sell")
        .send()
        .await
        .unwrap();
    assert!(
        searched.iter().all(|c| c.role.as_deref() == Some("seller")),
        "{searched:?}"
    );

    delete_realm(&kc, &realm).await;
}
