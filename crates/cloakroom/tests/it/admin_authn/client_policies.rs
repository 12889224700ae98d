//! Client policies and profiles, initial access tokens, and the realm's default / optional
//! client scopes.

use std::collections::BTreeMap;

use cloakroom::generated::models::{
    ClientInitialAccessCreatePresentation, ClientPoliciesRepresentation,
    ClientPolicyConditionRepresentation, ClientPolicyExecutorRepresentation,
    ClientPolicyRepresentation, ClientProfileRepresentation, ClientProfilesRepresentation,
    ClientRepresentation, ClientScopeRepresentation,
};
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};

#[tokio::test]
async fn client_policy_applies_its_profile_to_new_clients() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-cpol", json!({})).await;
    let r = kc.realm(&realm);
    let cp = r.client_policies();

    // A new realm has no profiles of its own; the global ones are there on request.
    let profiles = cp.profiles().send().await.unwrap();
    assert!(profiles.profiles.unwrap_or_default().is_empty());
    assert!(
        profiles.global_profiles.unwrap_or_default().is_empty(),
        "only on request"
    );
    let with_global = cp
        .profiles()
        .include_global_profiles(true)
        .send()
        .await
        .unwrap();
    let global: Vec<_> = with_global
        .global_profiles
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.name)
        .collect();
    assert!(global.contains(&"fapi-1-baseline".to_owned()), "{global:?}");

    cp.update_profiles(&ClientProfilesRepresentation {
        profiles: Some(vec![ClientProfileRepresentation {
            name: Some("no-full-scope".into()),
            description: Some("clients never get the full scope".into()),
            executors: Some(vec![ClientPolicyExecutorRepresentation {
                executor: Some("full-scope-disabled".into()),
                configuration: Some(BTreeMap::from([("auto-configure".into(), json!("true"))])),
                ..Default::default()
            }]),
            ..Default::default()
        }]),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    let profiles = cp.profiles().send().await.unwrap().profiles.unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].name.as_deref(), Some("no-full-scope"));
    assert_eq!(
        profiles[0].executors.as_ref().unwrap()[0]
            .executor
            .as_deref(),
        Some("full-scope-disabled")
    );

    let policies = cp
        .policies()
        .include_global_policies(true)
        .send()
        .await
        .unwrap();
    assert!(policies.policies.unwrap_or_default().is_empty());
    cp.update_policies(&ClientPoliciesRepresentation {
        policies: Some(vec![ClientPolicyRepresentation {
            name: Some("every client".into()),
            description: Some("applies no-full-scope to all clients".into()),
            enabled: Some(true),
            conditions: Some(vec![ClientPolicyConditionRepresentation {
                condition: Some("any-client".into()),
                configuration: Some(BTreeMap::new()),
                ..Default::default()
            }]),
            profiles: Some(vec!["no-full-scope".into()]),
            ..Default::default()
        }]),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    let policies = cp.policies().send().await.unwrap().policies.unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].enabled, Some(true));
    assert_eq!(
        policies[0].profiles.as_deref(),
        Some(&["no-full-scope".to_owned()][..])
    );

    // The policy is enforced: a client created with the full scope does not get it.
    let uuid = r
        .clients()
        .create(&ClientRepresentation {
            client_id: Some("policed".into()),
            full_scope_allowed: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.client(&uuid)
            .get()
            .send()
            .await
            .unwrap()
            .full_scope_allowed,
        Some(false)
    );

    // Clearing the policies lifts it.
    cp.update_policies(&ClientPoliciesRepresentation {
        policies: Some(vec![]),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    assert!(
        cp.policies()
            .send()
            .await
            .unwrap()
            .policies
            .unwrap_or_default()
            .is_empty()
    );

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn initial_access_tokens() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-iat", json!({})).await;
    let iat = kc.realm(&realm).client_initial_access();
    assert!(iat.list().send().await.unwrap().is_empty());

    let created = iat
        .create(&ClientInitialAccessCreatePresentation {
            expiration: Some(3600),
            count: Some(2),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let token = created.token.expect("a token");
    let id = created.id.expect("an id");
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let listed = iat.list().send().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(listed[0].count, Some(2));
    assert_eq!(listed[0].remaining_count, Some(2));
    assert_eq!(listed[0].expiration, Some(3600));

    iat.delete(&id).send().await.unwrap();
    assert!(iat.list().send().await.unwrap().is_empty());

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn realm_default_and_optional_client_scopes() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-dscope", json!({})).await;
    let r = kc.realm(&realm);

    let defaults = r.default_default_client_scopes();
    let optionals = r.default_optional_client_scopes();
    let default_names: Vec<_> = defaults
        .list()
        .send()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.name)
        .collect();
    assert!(
        default_names.contains(&"profile".to_owned()),
        "{default_names:?}"
    );
    let optional_names: Vec<_> = optionals
        .list()
        .send()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.name)
        .collect();
    assert!(
        optional_names.contains(&"offline_access".to_owned()),
        "{optional_names:?}"
    );

    let scope = |name: &str| ClientScopeRepresentation {
        name: Some(name.into()),
        protocol: Some("openid-connect".into()),
        ..Default::default()
    };
    let billing = r
        .client_scopes()
        .create(&scope("billing"))
        .send()
        .await
        .unwrap();
    let audit = r
        .client_scopes()
        .create(&scope("audit"))
        .send()
        .await
        .unwrap();

    defaults.add(&billing).send().await.unwrap();
    optionals.add(&audit).send().await.unwrap();
    let has = |list: &[ClientScopeRepresentation], id: &str| {
        list.iter().any(|s| s.id.as_deref() == Some(id))
    };
    assert!(has(&defaults.list().send().await.unwrap(), &billing));
    assert!(has(&optionals.list().send().await.unwrap(), &audit));

    // A client created now gets them.
    let uuid = r
        .clients()
        .create(&ClientRepresentation {
            client_id: Some("scoped".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let client = r.client(&uuid).get().send().await.unwrap();
    assert!(
        client
            .default_client_scopes
            .unwrap_or_default()
            .contains(&"billing".to_owned())
    );
    assert!(
        client
            .optional_client_scopes
            .unwrap_or_default()
            .contains(&"audit".to_owned())
    );

    defaults.remove(&billing).send().await.unwrap();
    optionals.remove(&audit).send().await.unwrap();
    assert!(!has(&defaults.list().send().await.unwrap(), &billing));
    assert!(!has(&optionals.list().send().await.unwrap(), &audit));

    delete_realm(&kc, &realm).await;
}
