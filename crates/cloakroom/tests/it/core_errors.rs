//! Keycloak's error answers arrive as typed errors carrying its own words.

use cloakroom::Error;
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};

#[tokio::test]
async fn not_found_conflict_and_validation_errors_are_typed() {
    let kc = admin();
    let realm = create_realm(&kc, "errors", json!({})).await;

    // 404
    let err = kc
        .raw()
        .get(format!(
            "/admin/realms/{realm}/users/00000000-0000-0000-0000-000000000000"
        ))
        .realm(&realm)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let api = err.as_api().unwrap();
    assert_eq!(api.method, "GET");
    assert_eq!(api.realm.as_deref(), Some(realm.as_str()));
    assert!(
        api.path
            .ends_with("/users/00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(api.message(), Some("User not found"), "{api:?}");
    assert!(err.to_string().contains("404") && err.to_string().contains("User not found"));

    // 409 on a duplicate username
    let bob = json!({"username": "bob", "enabled": true});
    let created = kc
        .raw()
        .post(format!("/admin/realms/{realm}/users"))
        .json(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(!created.location_id().unwrap().is_empty());
    let err = kc
        .raw()
        .post(format!("/admin/realms/{realm}/users"))
        .json(&bob)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        err.as_api().unwrap().message(),
        Some("User exists with same username")
    );

    // 400 with field and params from the user-profile validation
    let err = kc
        .raw()
        .post(format!("/admin/realms/{realm}/users"))
        .json(&json!({"username": "carol", "email": "not-an-email"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    let api = err.as_api().unwrap();
    assert_eq!(api.field(), Some("email"), "{api:?}");
    assert!(api.params().iter().any(|p| p == "not-an-email"), "{api:?}");
    assert!(err.to_string().contains("field `email`"), "{err}");

    // 404 for a realm that does not exist
    let err = kc
        .raw()
        .get("/admin/realms/no-such-realm-anywhere")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    // A port nobody listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kc = cloakroom::Client::builder(format!("http://127.0.0.1:{port}"))
        .retry(cloakroom::RetryPolicy::none())
        .build()
        .unwrap();
    let err = kc.raw().get("/realms/master").send().await.unwrap_err();
    match &err {
        Error::Transport(t) => assert_eq!(t.kind, cloakroom::error::TransportKind::Connect),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable());
}
