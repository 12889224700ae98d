//! The twenty chores of `examples/chores.rs` against the real server, each result checked
//! through the Admin API; plus the one-call helpers' failure modes (typed `NotFound`, nothing
//! half-done).

use std::time::Duration;

use cloakroom::Error;

use crate::support::kc;

#[path = "../../examples/chores.rs"]
mod example;

#[tokio::test]
async fn every_chore_does_what_it_says() {
    let admin = kc::admin();
    let realm = kc::unique("chores");
    example::create_realm(&admin, &realm).await.unwrap();
    example::create_realm(&admin, &realm).await.unwrap(); // safe to repeat
    let acme = admin.realm(&realm);

    let id = example::create_user(&admin, &realm).await.unwrap();
    let found = example::user_id(&admin, &realm, "ADA").await.unwrap();
    assert_eq!(found.as_deref(), Some(id.as_str()), "usernames ignore case");
    example::update_user(&admin, &realm, &id).await.unwrap();
    let ada = acme.user(&id).get().send().await.unwrap();
    assert_eq!(ada.first_name.as_deref(), Some("Augusta"));
    assert_eq!(
        ada.last_name.as_deref(),
        Some("Lovelace"),
        "other fields kept"
    );

    example::set_password(&admin, &realm, &id).await.unwrap();
    let ada = acme.user(&id).get().send().await.unwrap();
    let actions = ada.required_actions.unwrap_or_default();
    assert!(
        actions.iter().any(|a| a == "UPDATE_PASSWORD"),
        "{actions:?}"
    );

    acme.user(&id).disable().await.unwrap();
    assert_eq!(
        acme.user(&id).get().send().await.unwrap().enabled,
        Some(false)
    );
    example::disable_and_enable(&admin, &realm, &id)
        .await
        .unwrap();
    assert_eq!(
        acme.user(&id).get().send().await.unwrap().enabled,
        Some(true)
    );

    example::grant_realm_roles(&admin, &realm, &id)
        .await
        .unwrap();
    let realm_roles = acme.user(&id).role_mappings_realm().send().await.unwrap();
    let names: Vec<_> = realm_roles.iter().filter_map(|r| r.name.clone()).collect();
    assert!(
        names.contains(&"auditor".into()) && names.contains(&"viewer".into()),
        "{names:?}"
    );

    let uuid = example::create_client(&admin, &realm).await.unwrap();
    assert_eq!(example::client_uuid(&admin, &realm).await.unwrap(), uuid);
    let secret = example::client_secret(&admin, &realm, &uuid).await.unwrap();
    assert_eq!(secret.as_deref(), Some("billing-secret"));
    example::grant_client_role(&admin, &realm, &uuid, &id)
        .await
        .unwrap();
    let granted = acme
        .user(&id)
        .role_mappings_client(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0].name.as_deref(), Some("invoices:read"));

    let group = example::join_group(&admin, &realm, &id).await.unwrap();
    assert_eq!(
        example::group_by_path(&admin, &realm).await.unwrap(),
        Some(group.clone())
    );
    let groups = acme.user(&id).groups().send().await.unwrap();
    assert_eq!(
        groups
            .iter()
            .filter_map(|g| g.id.clone())
            .collect::<Vec<_>>(),
        [group]
    );

    assert_eq!(example::count_users(&admin, &realm).await.unwrap(), 1);
    assert_eq!(example::all_users(&admin, &realm).await.unwrap().len(), 1);

    example::login_fixture(&admin, &realm).await.unwrap();
    let tokens = example::login_and_refresh(&admin, &realm).await.unwrap();
    assert!(!tokens.expires_within(Duration::from_secs(5)));
    assert!(tokens.expires_within(Duration::from_secs(24 * 3600)));
    let (info, introspection) = example::userinfo_and_introspect(&admin, &realm, &tokens)
        .await
        .unwrap();
    assert_eq!(info.claims.preferred_username.as_deref(), Some("grace"));
    assert!(
        introspection.active,
        "billing may introspect: {introspection:?}"
    );
    let claims = example::verify_token(&admin, &realm, &tokens)
        .await
        .unwrap();
    assert_eq!(claims.preferred_username.as_deref(), Some("grace"));
    let refresh = tokens.refresh_token.as_ref().unwrap();
    example::logout(&admin, &realm, refresh).await.unwrap();
    let portal = admin.oidc(&realm).client(
        "portal",
        cloakroom::ClientAuth::SecretPost("portal-secret".into()),
    );
    let after_logout = portal.refresh(refresh).await.unwrap_err();
    assert!(after_logout.as_auth().is_some(), "{after_logout}");

    example::delete_user(&admin, &realm, &id).await.unwrap();
    assert!(
        acme.user(&id)
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    kc::delete_realm(&admin, &realm).await;
}

#[tokio::test]
async fn lookups_by_name_fail_typed_and_change_nothing() {
    let admin = kc::admin();
    let realm = kc::create_realm(&admin, "chores-missing", serde_json::json!({})).await;
    let acme = admin.realm(&realm);

    let e = acme.users().get_by_username("nobody").await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { kind: "user", key } if key == "nobody"),
        "{e:?}"
    );
    assert!(e.is_not_found());
    assert_eq!(e.to_string(), "user `nobody` not found");
    let e = acme.clients().get_by_client_id("ghost").await.unwrap_err();
    assert!(matches!(e, Error::NotFound { kind: "client", .. }), "{e:?}");
    let e = acme.get_group_by_path("/no/such").await.unwrap_err();
    assert!(matches!(e, Error::NotFound { kind: "group", .. }), "{e:?}");

    // One unknown role among known ones: nothing is granted.
    acme.roles()
        .ensure(&cloakroom::generated::models::RoleRepresentation::new(
            "known",
        ))
        .await
        .unwrap();
    let id = acme
        .users()
        .create(&cloakroom::generated::models::UserRepresentation::new(
            "bob",
        ))
        .send()
        .await
        .unwrap();
    let e = acme
        .user(&id)
        .add_realm_roles(["known", "unknown"])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { kind: "realm role", key } if key == "unknown"),
        "{e:?}"
    );
    let mapped = acme.user(&id).role_mappings_realm().send().await.unwrap();
    assert!(
        mapped.iter().all(|r| r.name.as_deref() != Some("known")),
        "{mapped:?}"
    );
    let e = acme
        .user(&id)
        .add_client_roles("ghost", ["x"])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { kind: "client", .. }), "{e:?}");
    kc::delete_realm(&admin, &realm).await;
}

#[tokio::test]
async fn public_keys_are_published() {
    let admin = kc::admin();
    let realm = kc::create_realm(&admin, "chores-keys", serde_json::json!({})).await;
    let oidc = admin.oidc(&realm);
    let jwks = oidc.jwks().await.unwrap();
    assert!(
        jwks.keys
            .iter()
            .any(|k| k.kty == "RSA" && k.alg.as_deref() == Some("RS256")),
        "{jwks:?}"
    );
    let pem = oidc.realm_public_key_pem().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMII"), "{pem}");
    assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
    kc::delete_realm(&admin, &realm).await;
}
