//! The evaluate-scopes endpoints: the example tokens, userinfo and SAML response the admin
//! console shows, the protocol mappers that apply, and the granted / not granted roles.

use std::collections::BTreeMap;

use cloakroom::generated::models::{ClientRepresentation, ProtocolMapperRepresentation};
use cloakroom::request::Method;
use serde_json::json;

use super::{TestRealm, create_client, names};
use crate::support::kc::{admin, user};
use crate::support::served::served_or_refused;

fn tier_claim() -> ProtocolMapperRepresentation {
    ProtocolMapperRepresentation {
        name: Some("tier".into()),
        protocol: Some("openid-connect".into()),
        protocol_mapper: Some("oidc-hardcoded-claim-mapper".into()),
        config: Some(BTreeMap::from([
            ("claim.name".into(), "tier".into()),
            ("claim.value".into(), "gold".into()),
            ("jsonType.label".into(), "String".into()),
            ("access.token.claim".into(), "true".into()),
            ("id.token.claim".into(), "true".into()),
            ("userinfo.token.claim".into(), "true".into()),
        ])),
        ..Default::default()
    }
}

#[tokio::test]
async fn evaluate_scopes_example_tokens_mappers_and_roles() {
    let kc = admin();
    let mut alice = user("alice", "alice-pw");
    alice["realmRoles"] = json!(["reader", "writer"]);
    let realm = TestRealm::new(
        &kc,
        "cl-eval",
        json!({
            "roles": {"realm": [{"name": "reader"}, {"name": "writer"}]},
            "users": [alice],
        }),
    )
    .await;
    let r = kc.realm(&realm.name);
    let alice_id = r
        .users()
        .list()
        .username("alice")
        .exact(true)
        .send()
        .await
        .unwrap()[0]
        .id
        .clone()
        .unwrap();
    let portal = create_client(
        &kc,
        &realm.name,
        ClientRepresentation {
            client_id: Some("portal".into()),
            public_client: Some(true),
            full_scope_allowed: Some(false),
            protocol_mappers: Some(vec![tier_claim()]),
            ..Default::default()
        },
    )
    .await;
    let client = r.client(&portal);
    client
        .scope_mappings_realm_add(&[r.role("reader").get().send().await.unwrap()])
        .send()
        .await
        .unwrap();

    let at = client
        .generate_example_access_token()
        .user_id(&alice_id)
        .scope("openid email")
        .send()
        .await
        .unwrap();
    assert_eq!(at.sub.as_deref(), Some(alice_id.as_str()));
    assert_eq!(at.preferred_username.as_deref(), Some("alice"));
    assert_eq!(at.email.as_deref(), Some("alice@example.com"));
    assert_eq!(at.azp.as_deref(), Some("portal"));
    assert!(
        at.iss
            .as_deref()
            .unwrap()
            .ends_with(&format!("/realms/{}", realm.name))
    );
    assert_eq!(at.extra["tier"], "gold");
    // Only the scope-mapped role reaches the token, though alice has both.
    let roles = at.realm_access.unwrap().roles.unwrap();
    assert!(roles.contains(&"reader".to_owned()), "{roles:?}");
    assert!(!roles.contains(&"writer".to_owned()), "{roles:?}");

    let id = client
        .generate_example_id_token()
        .user_id(&alice_id)
        .scope("openid")
        .send()
        .await
        .unwrap();
    assert_eq!(id.typ.as_deref(), Some("ID"));
    assert_eq!(id.sub.as_deref(), Some(alice_id.as_str()));
    assert_eq!(id.extra["tier"], "gold");

    let info = client
        .generate_example_userinfo()
        .user_id(&alice_id)
        .scope("openid email")
        .send()
        .await
        .unwrap();
    assert_eq!(info["sub"], alice_id.as_str());
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["tier"], "gold");

    let mappers = client
        .evaluate_protocol_mappers()
        .scope("openid email")
        .send()
        .await
        .unwrap();
    let tier = mappers
        .iter()
        .find(|m| m.mapper_name.as_deref() == Some("tier"))
        .unwrap();
    assert_eq!(tier.container_type.as_deref(), Some("client"));
    assert_eq!(tier.container_id.as_deref(), Some(portal.as_str()));
    let email = mappers
        .iter()
        .find(|m| m.mapper_name.as_deref() == Some("email"))
        .unwrap();
    assert_eq!(email.container_type.as_deref(), Some("client-scope"));
    assert_eq!(email.container_name.as_deref(), Some("email"));

    // Realm roles: the role container is the realm, by name.
    let granted = names(
        &client
            .evaluate_granted_scope_mappings(&realm.name)
            .scope("openid")
            .send()
            .await
            .unwrap(),
    );
    assert!(granted.contains(&"reader".to_owned()), "{granted:?}");
    assert!(!granted.contains(&"writer".to_owned()), "{granted:?}");
    let not_granted = names(
        &client
            .evaluate_not_granted_scope_mappings(&realm.name)
            .scope("openid")
            .send()
            .await
            .unwrap(),
    );
    assert!(
        not_granted.contains(&"writer".to_owned()),
        "{not_granted:?}"
    );
    assert!(
        !not_granted.contains(&"reader".to_owned()),
        "{not_granted:?}"
    );
    // Client roles: the role container is a client, by id.
    let account = r
        .clients()
        .list()
        .client_id("account")
        .send()
        .await
        .unwrap()[0]
        .id
        .clone()
        .unwrap();
    let account_not_granted = names(
        &client
            .evaluate_not_granted_scope_mappings(&account)
            .send()
            .await
            .unwrap(),
    );
    assert!(
        account_not_granted.contains(&"manage-account".to_owned()),
        "{account_not_granted:?}"
    );
    assert!(
        client
            .evaluate_granted_scope_mappings(&account)
            .send()
            .await
            .unwrap()
            .is_empty()
    );
    realm.finish(&kc).await;
}

#[tokio::test]
async fn evaluate_scopes_example_saml_response() {
    let kc = admin();
    let realm = TestRealm::new(
        &kc,
        "cl-evalsaml",
        json!({"users": [user("bob", "bob-pw")]}),
    )
    .await;
    let r = kc.realm(&realm.name);
    let bob = r
        .users()
        .list()
        .username("bob")
        .exact(true)
        .send()
        .await
        .unwrap()[0]
        .id
        .clone()
        .unwrap();
    let sp = create_client(
        &kc,
        &realm.name,
        ClientRepresentation {
            client_id: Some("https://sp.example.com/saml".into()),
            protocol: Some("saml".into()),
            redirect_uris: Some(vec!["https://sp.example.com/*".into()]),
            ..Default::default()
        },
    )
    .await;
    // Keycloak answers the XML as a bare JSON string (the spec says an object). 26.5.6 and
    // 26.4.7 do not serve it (the census): the client refuses it with `Error::NotServed`.
    let example = r
        .client(&sp)
        .generate_example_saml_response()
        .user_id(&bob)
        .send()
        .await;
    if let Some(xml) = served_or_refused(
        Method::Get,
        "/admin/realms/{realm}/clients/{client-uuid}/evaluate-scopes/generate-example-saml-response",
        example,
    ) {
        assert!(xml.contains("Response"), "{xml}");
        assert!(xml.contains("Assertion"), "{xml}");
        assert!(xml.contains("https://sp.example.com/saml"), "{xml}");
    }
    realm.finish(&kc).await;
}
