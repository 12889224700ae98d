//! Required actions: list, get, update, priorities, configuration, delete and register.

use std::collections::BTreeMap;

use cloakroom::generated::models::RequiredActionConfigRepresentation;
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};

async fn aliases(r: &cloakroom::generated::RealmHandle) -> Vec<String> {
    r.required_actions()
        .list()
        .send()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|a| a.alias)
        .collect()
}

#[tokio::test]
async fn required_action_lifecycle() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-ra", json!({})).await;
    let r = kc.realm(&realm);

    let all = r.required_actions().list().send().await.unwrap();
    assert!(
        all.iter()
            .any(|a| a.alias.as_deref() == Some("UPDATE_PASSWORD"))
    );
    let priorities: Vec<i32> = all.iter().map(|a| a.priority.unwrap()).collect();
    assert!(
        priorities.windows(2).all(|w| w[0] <= w[1]),
        "sorted by priority: {priorities:?}"
    );

    // Get and update: TERMS_AND_CONDITIONS is off in a new realm; switch it on as a default.
    let terms = r.required_action("TERMS_AND_CONDITIONS");
    let mut rep = terms.get().send().await.unwrap();
    assert_eq!(rep.alias.as_deref(), Some("TERMS_AND_CONDITIONS"));
    assert_eq!(rep.enabled, Some(false));
    rep.enabled = Some(true);
    rep.default_action = Some(true);
    terms.update(&rep).send().await.unwrap();
    let rep = terms.get().send().await.unwrap();
    assert_eq!(rep.enabled, Some(true));
    assert_eq!(rep.default_action, Some(true));

    // Priorities: UPDATE_PASSWORD swaps places with its neighbour and back.
    let before = aliases(&r).await;
    let pos = before.iter().position(|a| a == "UPDATE_PASSWORD").unwrap();
    let update_password = r.required_action("UPDATE_PASSWORD");
    update_password.raise_priority().send().await.unwrap();
    let raised = aliases(&r).await;
    assert_eq!(raised[pos - 1], "UPDATE_PASSWORD", "{raised:?}");
    assert_eq!(raised[pos], before[pos - 1]);
    update_password.lower_priority().send().await.unwrap();
    assert_eq!(aliases(&r).await, before);

    // Configuration: UPDATE_PASSWORD has `max_auth_age`.
    let desc = update_password.config_description().send().await.unwrap();
    let props = desc.properties.unwrap_or_default();
    assert!(
        props
            .iter()
            .any(|p| p.name.as_deref() == Some("max_auth_age")),
        "{props:?}"
    );
    update_password
        .update_config(&RequiredActionConfigRepresentation {
            config: Some(BTreeMap::from([("max_auth_age".into(), "600".into())])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let cfg = update_password.config().send().await.unwrap();
    assert_eq!(
        cfg.config
            .as_ref()
            .and_then(|c| c.get("max_auth_age"))
            .map(String::as_str),
        Some("600")
    );
    update_password.delete_config().send().await.unwrap();
    let cfg = update_password.config().send().await.unwrap();
    assert!(!cfg.config.unwrap_or_default().contains_key("max_auth_age"));

    // Delete one: it becomes unregistered; register it again.
    let delete_account = r.required_action("delete_account");
    delete_account.delete().send().await.unwrap();
    assert!(
        delete_account
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    let unregistered = r
        .authentication()
        .unregistered_required_actions()
        .send()
        .await
        .unwrap();
    let entry = unregistered
        .iter()
        .find(|u| u.get("providerId").map(String::as_str) == Some("delete_account"))
        .unwrap_or_else(|| panic!("delete_account is unregistered: {unregistered:?}"));
    let name = entry
        .get("name")
        .cloned()
        .unwrap_or_else(|| "Delete Account".into());
    r.authentication()
        .register_required_action(&BTreeMap::from([
            ("providerId".into(), "delete_account".into()),
            ("name".into(), name.clone()),
        ]))
        .send()
        .await
        .unwrap();
    let rep = delete_account.get().send().await.unwrap();
    assert_eq!(rep.name.as_deref(), Some(name.as_str()));
    assert!(
        !r.authentication()
            .unregistered_required_actions()
            .send()
            .await
            .unwrap()
            .iter()
            .any(|u| u.get("providerId").map(String::as_str) == Some("delete_account"))
    );

    delete_realm(&kc, &realm).await;
}
