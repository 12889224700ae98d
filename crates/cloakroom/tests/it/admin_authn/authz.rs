//! Authorization services of a client: resource server settings, import, scopes, resources,
//! policies, permissions, search and evaluation.

use std::collections::BTreeMap;

use cloakroom::generated::models::{
    ClientRepresentation, DecisionEffect, DecisionStrategy, Logic, PolicyEnforcementMode,
    PolicyEvaluationRequest, PolicyRepresentation, ResourceRepresentation,
    ResourceServerRepresentation, ScopeRepresentation, UserRepresentation,
};
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};

fn names<T>(items: &[T], name: impl Fn(&T) -> Option<&String>) -> Vec<String> {
    items.iter().filter_map(|i| name(i).cloned()).collect()
}

async fn user(r: &cloakroom::generated::RealmHandle, name: &str) -> String {
    r.users()
        .create(&UserRepresentation {
            username: Some(name.into()),
            enabled: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
}

/// A confidential client with authorization services on; its UUID.
async fn resource_server_client(r: &cloakroom::generated::RealmHandle) -> String {
    r.clients()
        .create(&ClientRepresentation {
            client_id: Some("orders-api".into()),
            public_client: Some(false),
            service_accounts_enabled: Some(true),
            authorization_services_enabled: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
}

fn evaluation(
    user_id: &str,
    client_uuid: &str,
    resource: &ResourceRepresentation,
) -> PolicyEvaluationRequest {
    PolicyEvaluationRequest {
        user_id: Some(user_id.into()),
        client_id: Some(client_uuid.into()),
        resources: Some(vec![ResourceRepresentation {
            id: resource.id.clone(),
            name: resource.name.clone(),
            ..Default::default()
        }]),
        entitlements: Some(false),
        context: Some(BTreeMap::from([("attributes".into(), BTreeMap::new())])),
        ..Default::default()
    }
}

#[tokio::test]
async fn resource_server_settings_and_import() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-rs", json!({})).await;
    let r = kc.realm(&realm);
    let uuid = resource_server_client(&r).await;
    let client = r.client(&uuid);
    let rs = client.authz();
    let carol = user(&r, "carol").await;
    let dave = user(&r, "dave").await;

    let server = rs.get().send().await.unwrap();
    assert_eq!(server.client_id.as_deref(), Some(uuid.as_str()));
    assert_eq!(
        server.policy_enforcement_mode,
        Some(PolicyEnforcementMode::Enforcing)
    );

    let mut changed = server.clone();
    changed.policy_enforcement_mode = Some(PolicyEnforcementMode::Permissive);
    changed.decision_strategy = Some(DecisionStrategy::Affirmative);
    changed.allow_remote_resource_management = Some(true);
    rs.update(&changed).send().await.unwrap();
    let settings = rs.settings().send().await.unwrap();
    assert_eq!(
        settings.policy_enforcement_mode,
        Some(PolicyEnforcementMode::Permissive)
    );
    assert_eq!(
        settings.decision_strategy,
        Some(DecisionStrategy::Affirmative)
    );
    assert_eq!(settings.allow_remote_resource_management, Some(true));
    // Import: a scope, a resource using it and a permission; the mode comes with it.
    rs.import(&ResourceServerRepresentation {
        policy_enforcement_mode: Some(PolicyEnforcementMode::Enforcing),
        decision_strategy: Some(DecisionStrategy::Unanimous),
        allow_remote_resource_management: Some(true),
        scopes: Some(vec![ScopeRepresentation {
            name: Some("invoice:read".into()),
            ..Default::default()
        }]),
        resources: Some(vec![ResourceRepresentation {
            name: Some("invoices".into()),
            uris: Some(vec!["/invoices/*".into()]),
            scopes: Some(vec![ScopeRepresentation {
                name: Some("invoice:read".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }]),
        // Exported form: users, resources and policies by name.
        policies: Some(vec![
            PolicyRepresentation {
                name: Some("accountants".into()),
                r#type: Some("user".into()),
                logic: Some(Logic::Positive),
                config: Some(BTreeMap::from([("users".into(), "[\"carol\"]".into())])),
                ..Default::default()
            },
            PolicyRepresentation {
                name: Some("invoice readers".into()),
                r#type: Some("resource".into()),
                logic: Some(Logic::Positive),
                decision_strategy: Some(DecisionStrategy::Unanimous),
                config: Some(BTreeMap::from([
                    ("resources".into(), "[\"invoices\"]".into()),
                    ("applyPolicies".into(), "[\"accountants\"]".into()),
                ])),
                ..Default::default()
            },
        ]),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    let after = rs.get().send().await.unwrap();
    assert_eq!(
        after.policy_enforcement_mode,
        Some(PolicyEnforcementMode::Enforcing)
    );
    assert_eq!(after.decision_strategy, Some(DecisionStrategy::Unanimous));
    let scopes = client.authz_scopes().list().send().await.unwrap();
    assert!(names(&scopes, |s| s.name.as_ref()).contains(&"invoice:read".to_owned()));
    let invoices = client
        .authz_resources()
        .search()
        .name("invoices")
        .send()
        .await
        .unwrap()
        .expect("imported resource");
    assert_eq!(
        invoices.uris.as_deref(),
        Some(&["/invoices/*".to_owned()][..])
    );
    let perm = client
        .authz_permissions()
        .search()
        .name("invoice readers")
        .send()
        .await
        .unwrap()
        .expect("imported permission");
    assert_eq!(perm.r#type.as_deref(), Some("resource"));
    let policy = client
        .authz_policies()
        .search()
        .name("accountants")
        .send()
        .await
        .unwrap()
        .expect("imported policy");
    assert_eq!(policy.r#type.as_deref(), Some("user"));
    // The permission decides: carol may, dave may not.
    let carol_says = client
        .authz_policies()
        .evaluate(&evaluation(&carol, &uuid, &invoices))
        .send()
        .await
        .unwrap();
    assert_eq!(
        carol_says.status,
        Some(DecisionEffect::Permit),
        "{carol_says:?}"
    );
    let dave_says = client
        .authz_policies()
        .evaluate(&evaluation(&dave, &uuid, &invoices))
        .send()
        .await
        .unwrap();
    assert_eq!(
        dave_says.status,
        Some(DecisionEffect::Deny),
        "{dave_says:?}"
    );

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn scopes_resources_policies_and_permissions() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-authz", json!({})).await;
    let r = kc.realm(&realm);
    let uuid = resource_server_client(&r).await;
    let client = r.client(&uuid);
    let alice = user(&r, "alice").await;
    let bob = user(&r, "bob").await;

    // Scopes.
    let read = client
        .authz_scopes()
        .create(&ScopeRepresentation {
            name: Some("orders:read".into()),
            display_name: Some("Read orders".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let read_id = read.id.clone().expect("the created scope has an id");
    let write_id = client
        .authz_scopes()
        .create(&ScopeRepresentation {
            name: Some("orders:write".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let listed = client
        .authz_scopes()
        .list()
        .name("orders")
        .send()
        .await
        .unwrap();
    let mut listed = names(&listed, |s| s.name.as_ref());
    listed.sort();
    assert_eq!(listed, ["orders:read", "orders:write"]);
    let found = client
        .authz_scopes()
        .search()
        .name("orders:read")
        .send()
        .await
        .unwrap();
    assert_eq!(found.and_then(|s| s.id), Some(read_id.clone()));
    assert!(
        client
            .authz_scopes()
            .search()
            .name("no such scope")
            .send()
            .await
            .unwrap()
            .is_none()
    );
    let scope = client.authz_scope(&read_id);
    let mut rep = scope.get().send().await.unwrap();
    assert_eq!(rep.name.as_deref(), Some("orders:read"));
    rep.display_name = Some("Read all orders".into());
    scope.update(&rep).send().await.unwrap();
    assert_eq!(
        scope.get().send().await.unwrap().display_name.as_deref(),
        Some("Read all orders")
    );

    // Resources.
    let orders = client
        .authz_resources()
        .create(&ResourceRepresentation {
            name: Some("orders".into()),
            display_name: Some("Orders".into()),
            r#type: Some("urn:orders-api:resources:order".into()),
            uris: Some(vec!["/orders/*".into()]),
            // By name: Keycloak keeps a resource's scopes in a set whose members are equal when
            // their names are, so scopes given by id alone collapse into the first one.
            scopes: Some(vec![
                ScopeRepresentation {
                    name: Some("orders:read".into()),
                    ..Default::default()
                },
                ScopeRepresentation {
                    name: Some("orders:write".into()),
                    ..Default::default()
                },
            ]),
            attributes: Some(BTreeMap::from([("team".into(), vec!["billing".into()])])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let orders_id = orders.id.clone().expect("the created resource has an id");
    let listed = client
        .authz_resources()
        .list()
        .name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&listed, |x| x.id.as_ref()), [orders_id.as_str()]);
    let by_type = client
        .authz_resources()
        .list()
        .r#type("urn:orders-api:resources:order")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&by_type, |x| x.id.as_ref()), [orders_id.as_str()]);
    let found = client
        .authz_resources()
        .search()
        .name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(found.and_then(|x| x.id), Some(orders_id.clone()));
    let resource = client.authz_resource(&orders_id);
    let mut rep = resource.get().send().await.unwrap();
    assert_eq!(rep.uris.as_deref(), Some(&["/orders/*".to_owned()][..]));
    rep.uris = Some(vec!["/orders/*".into(), "/v2/orders/*".into()]);
    resource.update(&rep).send().await.unwrap();
    let mut uris = resource.get().send().await.unwrap().uris.unwrap();
    uris.sort();
    assert_eq!(uris, ["/orders/*", "/v2/orders/*"]);
    let attrs = resource.attributes().send().await.unwrap();
    assert_eq!(attrs.get("team"), Some(&vec!["billing".to_owned()]));
    let mut scopes = names(&resource.scopes().send().await.unwrap(), |s| {
        s.name.as_ref()
    });
    scopes.sort();
    assert_eq!(scopes, ["orders:read", "orders:write"]);
    let on_scope = client
        .authz_scope(&read_id)
        .resources()
        .send()
        .await
        .unwrap();
    assert_eq!(names(&on_scope, |x| x.name.as_ref()), ["orders"]);

    // A user policy: only alice.
    let providers = client.authz_policies().providers().send().await.unwrap();
    let types = names(&providers, |p| p.r#type.as_ref());
    assert!(
        types.contains(&"user".to_owned()) && types.contains(&"role".to_owned()),
        "{types:?}"
    );
    let policy = client
        .authz_policies()
        .create(&PolicyRepresentation {
            name: Some("only alice".into()),
            description: Some("alice and nobody else".into()),
            r#type: Some("user".into()),
            logic: Some(Logic::Positive),
            decision_strategy: Some(DecisionStrategy::Unanimous),
            config: Some(BTreeMap::from([("users".into(), format!("[\"{alice}\"]"))])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let policy_id = policy.id.clone().expect("the created policy has an id");
    assert_eq!(policy.r#type.as_deref(), Some("user"));
    let policies = client
        .authz_policies()
        .list()
        .name("only alice")
        .send()
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(names(&policies, |p| p.id.as_ref()), [policy_id.as_str()]);
    let found = client
        .authz_policies()
        .search()
        .name("only alice")
        .send()
        .await
        .unwrap();
    assert_eq!(found.and_then(|p| p.id), Some(policy_id.clone()));

    // A scope permission on orders:read, decided by that policy.
    let providers = client.authz_permissions().providers().send().await.unwrap();
    let types = names(&providers, |p| p.r#type.as_ref());
    assert!(
        types.contains(&"scope".to_owned()) && types.contains(&"resource".to_owned()),
        "{types:?}"
    );
    let permission = client
        .authz_permissions()
        .create(&PolicyRepresentation {
            name: Some("alice reads orders".into()),
            r#type: Some("scope".into()),
            resources: Some(vec![orders_id.clone()]),
            scopes: Some(vec![read_id.clone()]),
            policies: Some(vec![policy_id.clone()]),
            decision_strategy: Some(DecisionStrategy::Unanimous),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let permission_id = permission
        .id
        .clone()
        .expect("the created permission has an id");
    let permissions = client
        .authz_permissions()
        .list()
        .resource(&orders_id)
        .send()
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(names(&permissions, |p| p.id.as_ref()).contains(&permission_id));
    let found = client
        .authz_permissions()
        .search()
        .name("alice reads orders")
        .send()
        .await
        .unwrap();
    assert_eq!(found.and_then(|p| p.id), Some(permission_id.clone()));
    let on_resource = resource.permissions().send().await.unwrap();
    assert!(names(&on_resource, |p| p.name.as_ref()).contains(&"alice reads orders".to_owned()));
    let on_scope = client
        .authz_scope(&read_id)
        .permissions()
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&on_scope, |p| p.name.as_ref()),
        ["alice reads orders"]
    );

    // Evaluate: alice is permitted orders:read, bob is denied.
    let alice_says = client
        .authz_policies()
        .evaluate(&evaluation(&alice, &uuid, &orders))
        .send()
        .await
        .unwrap();
    assert_eq!(
        alice_says.status,
        Some(DecisionEffect::Permit),
        "{alice_says:?}"
    );
    let result = &alice_says.results.as_deref().unwrap()[0];
    let allowed = names(result.allowed_scopes.as_deref().unwrap_or_default(), |s| {
        s.name.as_ref()
    });
    assert!(allowed.contains(&"orders:read".to_owned()), "{allowed:?}");
    let bob_says = client
        .authz_permissions()
        .evaluate(&evaluation(&bob, &uuid, &orders))
        .send()
        .await
        .unwrap();
    assert_eq!(bob_says.status, Some(DecisionEffect::Deny), "{bob_says:?}");

    // A scope in use cannot be deleted; once its resource is gone, it can.
    let err = client
        .authz_scope(&write_id)
        .delete()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    resource.delete().send().await.unwrap();
    assert!(resource.get().send().await.unwrap_err().is_not_found());
    client.authz_scope(&write_id).delete().send().await.unwrap();
    let err = client
        .authz_scope(&write_id)
        .get()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    delete_realm(&kc, &realm).await;
}
