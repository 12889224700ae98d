//! The admin console's effective / available client-role endpoints (`…/ui-ext/effective-roles`
//! and `…/ui-ext/available-roles`, typed from spec/cloakroom-supplement.json): the client roles
//! of a user across every client in one call.

use cloakroom::generated::models::UiExtClientRole;
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

/// `role` names of an answer, for assertion messages.
fn names(roles: &[UiExtClientRole]) -> Vec<String> {
    roles
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c.client.as_deref().unwrap_or("?"),
                c.role.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

/// The entry for client role `client`/`role` in an answer, if any.
fn entry<'a>(
    roles: &'a [UiExtClientRole],
    client: &str,
    role: &str,
) -> Option<&'a UiExtClientRole> {
    roles
        .iter()
        .find(|c| c.client.as_deref() == Some(client) && c.role.as_deref() == Some(role))
}

/// The other four kinds of holder the console asks about: a client scope and a client (their
/// scope mappings), a group (its role mappings, inherited by subgroups) and a role. Each holds
/// `shop/buyer`, set up through the realm document, and not `shop/seller`: `buyer` shows among
/// the effective roles, `seller` among the available ones.
#[tokio::test]
async fn effective_and_available_client_roles_of_scopes_clients_groups_and_roles() {
    let kc = admin();
    let realm = create_realm(
        &kc,
        "uiroles-kinds",
        json!({
            "clients": [
                {"clientId": "shop", "enabled": true},
                // Without full scope, the client's scope mappings are what it may put in tokens.
                {"clientId": "web", "enabled": true, "fullScopeAllowed": false}
            ],
            "clientScopes": [{"name": "shop-scope", "protocol": "openid-connect"}],
            "roles": {"client": {"shop": [
                {"name": "buyer"},
                {"name": "seller"},
                {"name": "bundle", "composite": true, "composites": {"client": {"shop": ["buyer"]}}}
            ]}},
            "groups": [{
                "name": "staff",
                "clientRoles": {"shop": ["buyer"]},
                "subGroups": [{"name": "night"}]
            }],
            "clientScopeMappings": {"shop": [
                {"client": "web", "roles": ["buyer"]},
                {"clientScope": "shop-scope", "roles": ["buyer"]}
            ]}
        }),
    )
    .await;
    let r = kc.realm(&realm);
    let ui = r.role_mappings_ui();
    let shop = r
        .clients()
        .find_by_client_id("shop")
        .await
        .unwrap()
        .unwrap();
    let shop_id = shop.id.unwrap();
    let web_id = r
        .clients()
        .find_by_client_id("web")
        .await
        .unwrap()
        .unwrap()
        .id
        .unwrap();
    let scope_id = r
        .client_scopes()
        .find_by_name("shop-scope")
        .await
        .unwrap()
        .unwrap()
        .id
        .unwrap();
    let staff_id = r
        .groups()
        .find_by_name("staff")
        .await
        .unwrap()
        .unwrap()
        .id
        .unwrap();
    let night_id = r
        .groups()
        .find_by_name("night")
        .await
        .unwrap()
        .unwrap()
        .id
        .unwrap();
    let bundle = r
        .client(&shop_id)
        .role("bundle")
        .get()
        .send()
        .await
        .unwrap();
    let bundle_id = bundle.id.clone().unwrap();
    assert_eq!(bundle.composite, Some(true));

    // `buyer` is effective, with `client` the clientId and `clientId` the client's internal id;
    // `seller` is not.
    let effective_has_buyer_only = |what: &str, roles: &[UiExtClientRole]| {
        let buyer = entry(roles, "shop", "buyer")
            .unwrap_or_else(|| panic!("{what}: shop/buyer is effective: {:?}", names(roles)));
        assert_eq!(buyer.client_id.as_deref(), Some(shop_id.as_str()), "{what}");
        assert!(
            entry(roles, "shop", "seller").is_none(),
            "{what}: shop/seller is not effective: {:?}",
            names(roles)
        );
    };
    // `seller` is available, `buyer` (mapped directly) is not.
    let available_has_seller_only = |what: &str, roles: &[UiExtClientRole]| {
        let seller = entry(roles, "shop", "seller")
            .unwrap_or_else(|| panic!("{what}: shop/seller is available: {:?}", names(roles)));
        assert_eq!(
            seller.client_id.as_deref(),
            Some(shop_id.as_str()),
            "{what}"
        );
        assert!(
            entry(roles, "shop", "buyer").is_none(),
            "{what}: shop/buyer is mapped already: {:?}",
            names(roles)
        );
    };

    // A client scope's scope mappings.
    let eff = ui
        .effective_of_client_scope(&scope_id)
        .send()
        .await
        .unwrap();
    effective_has_buyer_only("client scope, effective", &eff);
    let avail = ui
        .available_for_client_scope(&scope_id)
        .first(0)
        .max(100)
        .send()
        .await
        .unwrap();
    available_has_seller_only("client scope, available", &avail);
    let searched = ui
        .available_for_client_scope(&scope_id)
        .search("sell")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&searched), ["shop/seller"]);

    // A client's scope mappings (its dedicated scope).
    let eff = ui.effective_of_client(&web_id).send().await.unwrap();
    effective_has_buyer_only("client, effective", &eff);
    let avail = ui
        .available_for_client(&web_id)
        .first(0)
        .max(100)
        .send()
        .await
        .unwrap();
    available_has_seller_only("client, available", &avail);

    // A group's role mappings; a subgroup inherits them (effective) without holding them
    // directly (so they are still available to it).
    let eff = ui.effective_of_group(&staff_id).send().await.unwrap();
    effective_has_buyer_only("group, effective", &eff);
    let avail = ui
        .available_for_group(&staff_id)
        .first(0)
        .max(100)
        .send()
        .await
        .unwrap();
    available_has_seller_only("group, available", &avail);
    let eff = ui.effective_of_group(&night_id).send().await.unwrap();
    effective_has_buyer_only("subgroup, effective", &eff);
    let avail = ui
        .available_for_group(&night_id)
        .first(0)
        .max(100)
        .send()
        .await
        .unwrap();
    assert!(
        entry(&avail, "shop", "buyer").is_some(),
        "{:?}",
        names(&avail)
    );
    assert!(
        entry(&avail, "shop", "seller").is_some(),
        "{:?}",
        names(&avail)
    );

    // A role. Keycloak 26.7.3 answers the console's "default roles" tab here: the effective
    // client roles are those of the realm's default role whatever role the path names (the
    // server ignores the id), and the available ones are every client role but the named
    // role itself. So: make `shop/buyer` a default role and ask about the default role.
    let default_role = r.get().send().await.unwrap().default_role.unwrap();
    let default_role_id = default_role.id.unwrap();
    let buyer = r.client(&shop_id).role("buyer").get().send().await.unwrap();
    r.role_by_id(&default_role_id)
        .add_composites(&[buyer])
        .send()
        .await
        .unwrap();
    let eff = ui.effective_of_role(&default_role_id).send().await.unwrap();
    effective_has_buyer_only("default role, effective", &eff);
    // Through the composites of the default role's `account/manage-account`.
    assert!(
        entry(&eff, "account", "manage-account-links").is_some(),
        "{:?}",
        names(&eff)
    );
    let of_bundle = ui.effective_of_role(&bundle_id).send().await.unwrap();
    assert_eq!(
        names(&of_bundle),
        names(&eff),
        "26.7.3 ignores the role id of effective-roles/roles/{{id}}"
    );
    let avail = ui
        .available_for_role(&bundle_id)
        .first(0)
        .max(1000)
        .send()
        .await
        .unwrap();
    assert!(
        entry(&avail, "shop", "seller").is_some(),
        "{:?}",
        names(&avail)
    );
    assert!(
        entry(&avail, "shop", "buyer").is_some(),
        "{:?}",
        names(&avail)
    );
    assert!(
        entry(&avail, "shop", "bundle").is_none(),
        "a role is not available to itself: {:?}",
        names(&avail)
    );

    delete_realm(&kc, &realm).await;
}
