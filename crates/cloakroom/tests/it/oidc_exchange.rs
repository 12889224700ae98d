//! Token exchange on the real server: standard (v2) between two clients the test configures,
//! and legacy (v1) direct impersonation through fine-grained admin permissions.

use cloakroom::ClientAuth;
use cloakroom::oidc::{LegacyTokenExchange, PasswordGrant, TokenExchange};
use serde_json::{Value, json};

use crate::oidc_util::*;

fn audience_mapper(name: &str, audience: &str) -> Value {
    json!({
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {
            "included.client.audience": audience,
            "access.token.claim": "true",
            "introspection.token.claim": "true",
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_token_exchange_v2_between_two_clients() {
    let admin = admin();
    // `front` issues the user's token with `backend` in its audience; `backend` may exchange
    // it (standard token exchange enabled) for a token aimed at `target`, whose role the user
    // holds.
    let mut front = public("front");
    front["protocolMappers"] = json!([audience_mapper("to-backend", "backend")]);
    let mut backend = confidential("backend", "backend-secret");
    backend["attributes"] = json!({"standard.token.exchange.enabled": "true"});
    let mut target = confidential("target", "target-secret");
    target["serviceAccountsEnabled"] = json!(false);
    let mut alice = user("alice", "alice-pw");
    alice["clientRoles"] = json!({"target": ["reader"]});
    let realm = create_realm(
        &admin,
        "oidc-tx2",
        json!({
            "clients": [front, backend, target, public("other")],
            "roles": {"client": {"target": [{"name": "reader"}]}},
            "users": [alice],
        }),
    )
    .await;
    let _cleanup = cleanup(&realm);
    let kc = builder().build().unwrap();
    let oidc = kc.oidc(&realm);
    let subject = oidc
        .client("front", ClientAuth::Public)
        .password(PasswordGrant::new("alice", "alice-pw"))
        .await
        .unwrap()
        .access_token;
    let backend = oidc.client("backend", ClientAuth::SecretBasic("backend-secret".into()));

    let exchanged = backend
        .exchange(&TokenExchange::new(subject.clone()).audience("target"))
        .await
        .unwrap();
    assert_ne!(exchanged.access_token, subject);
    let claims = oidc
        .verifier()
        .audience("target")
        .build()
        .unwrap()
        .verify(exchanged.access_token.expose_secret())
        .await
        .unwrap();
    assert_eq!(claims.azp.as_deref(), Some("backend"));
    assert_eq!(claims.preferred_username.as_deref(), Some("alice"));
    assert!(claims.has_client_role("target", "reader"));

    // Without an audience the token is for the requester itself.
    let own = backend
        .exchange(&TokenExchange::new(subject.clone()))
        .await
        .unwrap();
    let c = oidc
        .verifier()
        .authorized_party("backend")
        .build()
        .unwrap()
        .verify(own.access_token.expose_secret())
        .await
        .unwrap();
    assert_eq!(c.sub, claims.sub);

    // A token whose audience lacks the requester cannot be exchanged by it.
    let foreign = oidc
        .client("other", ClientAuth::Public)
        .password(PasswordGrant::new("alice", "alice-pw"))
        .await
        .unwrap()
        .access_token;
    let e = backend
        .exchange(&TokenExchange::new(foreign).audience("target"))
        .await
        .unwrap_err();
    let auth = e
        .as_auth()
        .unwrap_or_else(|| panic!("typed auth error, got {e}"));
    assert!(auth.oauth_error().is_some(), "{e}");
    // An audience the user has nothing in is refused.
    let e = backend
        .exchange(&TokenExchange::new(subject).audience("no-such-client"))
        .await
        .unwrap_err();
    assert!(e.as_auth().is_some(), "{e}");

    delete_realm(&admin, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_v1_direct_impersonation() {
    let admin = admin();
    let realm = create_realm(
        &admin,
        "oidc-tx1",
        json!({
            "clients": [confidential("impersonator", "imp-secret"), confidential("plain", "plain-secret")],
            "users": [user("alice", "alice-pw")],
        }),
    )
    .await;
    let _cleanup = cleanup(&realm);
    // Fine-grained admin permissions (v1): allow `impersonator` to impersonate users.
    let perms: Value = admin
        .raw()
        .put(format!(
            "/admin/realms/{realm}/users-management-permissions"
        ))
        .json(&json!({"enabled": true}))
        .send_json()
        .await
        .unwrap();
    let impersonate = perms["scopePermissions"]["impersonate"]
        .as_str()
        .unwrap_or_else(|| panic!("no impersonate permission: {perms}"))
        .to_owned();
    let rm = client_uuid(&admin, &realm, "realm-management").await;
    let imp_uuid = client_uuid(&admin, &realm, "impersonator").await;
    let authz = format!("/admin/realms/{realm}/clients/{rm}/authz/resource-server");
    let policy = post_id(
        &admin,
        format!("{authz}/policy/client"),
        json!({"name": "impersonator-client", "logic": "POSITIVE", "clients": [imp_uuid]}),
    )
    .await;
    let mut perm: Value = admin
        .raw()
        .get(format!("{authz}/permission/scope/{impersonate}"))
        .send_json()
        .await
        .unwrap();
    perm["policies"] = json!([policy]);
    admin
        .raw()
        .put(format!("{authz}/permission/scope/{impersonate}"))
        .json(&perm)
        .send()
        .await
        .unwrap();

    let kc = builder().build().unwrap();
    let oidc = kc.oidc(&realm);
    let imp = oidc.client("impersonator", ClientAuth::SecretPost("imp-secret".into()));
    let t = imp
        .legacy_exchange(&LegacyTokenExchange::impersonate("alice"))
        .await
        .unwrap();
    let c = oidc
        .verifier()
        .authorized_party("impersonator")
        .build()
        .unwrap()
        .verify(t.access_token.expose_secret())
        .await
        .unwrap();
    assert_eq!(c.preferred_username.as_deref(), Some("alice"));

    // A client without the permission is refused with a typed error.
    let plain = oidc.client("plain", ClientAuth::SecretPost("plain-secret".into()));
    let e = plain
        .legacy_exchange(&LegacyTokenExchange::impersonate("alice"))
        .await
        .unwrap_err();
    let a = e
        .as_auth()
        .unwrap_or_else(|| panic!("typed auth error, got {e}"));
    assert!(a.oauth_error().is_some(), "{e}");

    delete_realm(&admin, &realm).await;
}
