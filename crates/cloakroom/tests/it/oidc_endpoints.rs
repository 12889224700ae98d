//! OIDC endpoints against the real server: discovery, introspection, userinfo (JSON and signed),
//! revocation, logout, ID token checks, private_key_jwt client authentication and dynamic
//! client registration.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloakroom::oidc::{PasswordGrant, SigningKey, TokenTypeHint};
use cloakroom::{Client, ClientAuth, Credentials, Secret};
use serde_json::{Value, json};

use crate::oidc_util::*;
use crate::support::server::test_server;

const SECRET: &str = "app-secret";

fn oauth_error(e: &cloakroom::Error) -> Option<&str> {
    e.as_auth().and_then(|a| a.oauth_error())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_is_fetched_once_and_typed() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let kc = Client::builder(test_server().url)
        .observer(move |ex| {
            if ex.template.ends_with("openid-configuration") {
                c.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    let oidc = kc.oidc("master");
    let d = oidc.discovery().await.unwrap();
    let d2 = oidc.clone().discovery().await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(d, d2);
    assert_eq!(d.issuer, oidc.issuer_url());
    assert!(
        d.code_challenge_methods_supported
            .contains(&"S256".to_owned())
    );
    assert!(d.device_authorization_endpoint.is_some());
    assert!(
        d.extra.contains_key("check_session_iframe")
            || d.extra.contains_key("mtls_endpoint_aliases"),
        "unknown fields are kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_userinfo_revocation_and_logout() {
    let admin = admin();
    let mut signed = self_audience(confidential("app-jwt", SECRET));
    signed["attributes"] = json!({"user.info.response.signature.alg": "RS256"});
    let realm = create_realm(
        &admin,
        "oidc-endpoints",
        json!({
            "clients": [self_audience(confidential("app", SECRET)), signed],
            "users": [user("alice", "alice-pw")],
        }),
    )
    .await;
    let _cleanup = cleanup(&realm);
    let kc = builder().build().unwrap();
    let oidc = kc.oidc(&realm);
    let app = oidc.client("app", ClientAuth::SecretBasic(SECRET.into()));
    let login = || app.password(PasswordGrant::new("alice", "alice-pw").scope("openid email"));

    let tokens = login().await.unwrap();
    assert!(format!("{tokens:?}").contains("redacted"));
    let id = app
        .id_token_verifier()
        .verify_id_token(tokens.id_token.as_ref().unwrap().expose_secret(), None)
        .await
        .unwrap();
    assert_eq!(id.typ.as_deref(), Some("ID"));
    assert_eq!(id.aud, ["app"]);

    // Introspection of an active token.
    let i = app.introspect(&tokens.access_token).await.unwrap();
    assert!(i.active);
    assert_eq!(i.claims.preferred_username.as_deref(), Some("alice"));
    assert_eq!(i.claims.azp.as_deref(), Some("app"));

    // UserInfo, JSON.
    let u = app.userinfo(&tokens.access_token).await.unwrap();
    assert!(!u.signed);
    assert_eq!(u.claims.email.as_deref(), Some("alice@example.com"));

    // UserInfo, signed JWT (client configured for RS256 userinfo), verified.
    let jwt_app = oidc.client("app-jwt", ClientAuth::SecretPost(SECRET.into()));
    let t2 = jwt_app
        .password(PasswordGrant::new("alice", "alice-pw").scope("openid"))
        .await
        .unwrap();
    let u = jwt_app.userinfo(&t2.access_token).await.unwrap();
    assert!(u.signed);
    assert_eq!(u.claims.preferred_username.as_deref(), Some("alice"));
    assert_eq!(u.claims.aud, ["app-jwt"]);

    // Revoking the access token: introspection reports it inactive.
    app.revoke(&tokens.access_token, Some(TokenTypeHint::AccessToken))
        .await
        .unwrap();
    let i = app.introspect(&tokens.access_token).await.unwrap();
    assert!(!i.active, "revoked access token is inactive");
    // Introspection of garbage is simply inactive.
    let i = app.introspect(&Secret::new("not-a-token")).await.unwrap();
    assert!(!i.active);

    // Refresh works, then logout ends the session and the refresh token is refused.
    let rt = tokens.refresh_token.clone().unwrap();
    let refreshed = app.refresh(&rt).await.unwrap();
    let rt = refreshed.refresh_token.unwrap_or(rt);
    app.logout(&rt).await.unwrap();
    let e = app.refresh(&rt).await.unwrap_err();
    assert_eq!(oauth_error(&e), Some("invalid_grant"), "{e}");
    let i = app.introspect(&refreshed.access_token).await.unwrap();
    assert!(
        !i.active,
        "access token of a logged-out session is inactive"
    );

    // Revoking a refresh token ends its chain too.
    let other = login().await.unwrap();
    let rt = other.refresh_token.unwrap();
    app.revoke(&rt, Some(TokenTypeHint::RefreshToken))
        .await
        .unwrap();
    let e = app.refresh(&rt).await.unwrap_err();
    assert_eq!(oauth_error(&e), Some("invalid_grant"), "{e}");

    // Wrong client secret: a typed token-endpoint error.
    let bad = oidc.client("app", ClientAuth::SecretBasic("wrong".into()));
    let e = bad.client_credentials().await.unwrap_err();
    assert!(
        matches!(
            oauth_error(&e),
            Some("unauthorized_client" | "invalid_client")
        ),
        "{e}"
    );
    assert_eq!(e.status(), Some(401));
    // Wrong password.
    let e = app
        .password(PasswordGrant::new("alice", "nope"))
        .await
        .unwrap_err();
    assert_eq!(oauth_error(&e), Some("invalid_grant"));

    // End-session URL for browsers.
    let url = oidc
        .end_session_url()
        .id_token_hint(tokens.id_token.as_ref().unwrap())
        .post_logout_redirect_uri("http://127.0.0.1/after")
        .client_id("app")
        .state("s1")
        .build();
    assert!(url.starts_with(&format!(
        "{}/protocol/openid-connect/logout?",
        oidc.issuer_url()
    )));
    assert!(url.contains("post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%2Fafter"));

    delete_realm(&admin, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_client_authentication() {
    let rsa = SigningKey::from_pkcs8(openssl_key("rsa")).unwrap();
    let ec = SigningKey::from_pkcs8(openssl_key("ec").as_bytes()).unwrap();
    assert_eq!(rsa.algorithm().as_str(), "RS256");
    assert_eq!(ec.algorithm().as_str(), "ES256");
    assert!(!format!("{rsa:?}").contains("PRIVATE"));
    let signed_client = |id: &str, key: &SigningKey| {
        self_audience(json!({
            "clientId": id,
            "enabled": true,
            "publicClient": false,
            "clientAuthenticatorType": "client-jwt",
            "serviceAccountsEnabled": true,
            "standardFlowEnabled": false,
            "attributes": {
                "use.jwks.string": "true",
                "jwks.string": json!({"keys": [key.public_jwk()]}).to_string(),
                "token.endpoint.auth.signing.alg": key.algorithm().as_str(),
            },
        }))
    };
    let admin = admin();
    let realm = create_realm(
        &admin,
        "oidc-pkjwt",
        json!({"clients": [signed_client("rs-signed", &rsa), signed_client("ec-signed", &ec)]}),
    )
    .await;
    let _cleanup = cleanup(&realm);
    let kc = builder().build().unwrap();
    let oidc = kc.oidc(&realm);
    for (id, key) in [("rs-signed", &rsa), ("ec-signed", &ec)] {
        let c = oidc.client(id, ClientAuth::PrivateKeyJwt(key.clone()));
        let t = c
            .client_credentials()
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let i = c.introspect(&t.access_token).await.unwrap();
        assert!(i.active, "{id}");
        assert_eq!(i.claims.azp.as_deref(), Some(id));
    }
    // The wrong key is refused.
    let wrong = oidc.client("rs-signed", ClientAuth::PrivateKeyJwt(ec.clone()));
    let e = wrong.client_credentials().await.unwrap_err();
    assert!(e.as_auth().is_some(), "{e}");

    // The core token manager uses the same client authentication.
    let svc = builder()
        .auth_realm(&realm)
        .credentials(
            Credentials::client_credentials("rs-signed", "unused")
                .with_client("rs-signed", ClientAuth::PrivateKeyJwt(rsa.clone())),
        )
        .build()
        .unwrap();
    svc.access_token().await.unwrap();

    delete_realm(&admin, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_client_registration_lifecycle() {
    let admin = admin();
    let realm = create_realm(&admin, "oidc-dcr", json!({})).await;
    let _cleanup = cleanup(&realm);
    let initial: Value = admin
        .raw()
        .post(format!("/admin/realms/{realm}/clients-initial-access"))
        .json(&json!({"expiration": 600, "count": 1}))
        .send_json()
        .await
        .unwrap();
    let initial = Secret::new(initial["token"].as_str().unwrap());

    let kc = builder().build().unwrap();
    let reg = kc.oidc(&realm).registration();
    let created = reg
        .create(
            Some(&initial),
            &json!({
                "client_name": "Dynamic app",
                "redirect_uris": ["http://127.0.0.1:8000/cb"],
                "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                "token_endpoint_auth_method": "client_secret_basic",
            }),
        )
        .await
        .unwrap();
    assert!(created.client_secret.is_some());
    let d = format!("{created:?}");
    assert!(
        !d.contains(created.registration_access_token.expose_secret()),
        "{d}"
    );
    assert!(!d.contains(created.client_secret.as_ref().unwrap().expose_secret()));

    // The registered client works.
    let app = kc.oidc(&realm).client(
        created.client_id.clone(),
        ClientAuth::SecretBasic(created.client_secret.clone().unwrap()),
    );
    app.client_credentials().await.unwrap();

    // The initial access token was single-use.
    let e = reg
        .create(Some(&initial), &json!({"client_name": "second"}))
        .await
        .unwrap_err();
    assert!(e.status() == Some(401) || e.status() == Some(403), "{e}");

    let read = reg.read(&created).await.unwrap();
    assert_eq!(read.metadata["client_name"], "Dynamic app");
    let updated = reg
        .update(
            &read,
            &json!({
                "client_name": "Renamed app",
                "redirect_uris": ["http://127.0.0.1:8000/cb"],
            }),
        )
        .await
        .unwrap();
    assert_eq!(updated.metadata["client_name"], "Renamed app");
    let seen: Value = admin
        .raw()
        .get(format!("/admin/realms/{realm}/clients"))
        .query("clientId", &created.client_id)
        .send_json()
        .await
        .unwrap();
    assert_eq!(seen[0]["name"], "Renamed app");

    reg.delete(&updated).await.unwrap();
    let gone: Value = admin
        .raw()
        .get(format!("/admin/realms/{realm}/clients"))
        .query("clientId", &created.client_id)
        .send_json()
        .await
        .unwrap();
    assert_eq!(gone, json!([]));

    delete_realm(&admin, &realm).await;
}
