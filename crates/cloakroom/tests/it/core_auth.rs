//! The token manager against the real server: every grant, expiry, single flight, 401 handling
//! and refresh-token revocation.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use cloakroom::{ClientAuth, Credentials, Otp, Secret};
use serde_json::{Value, json};

use crate::support::kc::{admin, builder, create_realm, delete_realm, user};
use crate::support::server::test_server;

/// Users `count` reports in the test realm: alice and otto (service-account users are not counted).
const USERS: u64 = 2;
const SVC_SECRET: &str = "svc-secret-for-tests";
/// Base32 of nothing in particular: Keycloak uses the UTF-8 bytes of this value as the HMAC key.
const OTP_SECRET: &str = "cloakroomtotpsecretvalue12";

/// A realm with a confidential service client, a user with admin-read roles, and a user with OTP.
fn realm_rep(access_token_lifespan: u32) -> Value {
    let mut alice = user("alice", "alice-pw");
    alice["clientRoles"] = json!({"realm-management": ["view-users", "view-realm"]});
    let mut otp_user = user("otto", "otto-pw");
    otp_user["clientRoles"] = json!({"realm-management": ["view-users"]});
    otp_user["credentials"].as_array_mut().unwrap().push(json!({
        "type": "otp",
        "secretData": json!({"value": OTP_SECRET}).to_string(),
        "credentialData": json!({
            "subType": "totp", "digits": 6, "counter": 0, "period": 30, "algorithm": "HmacSHA1"
        }).to_string(),
    }));
    json!({
        "accessTokenLifespan": access_token_lifespan,
        "eventsEnabled": true,
        "enabledEventTypes": ["LOGIN", "CLIENT_LOGIN", "REFRESH_TOKEN", "REFRESH_TOKEN_ERROR"],
        "clients": [{
            "clientId": "svc",
            "enabled": true,
            "publicClient": false,
            "secret": SVC_SECRET,
            "serviceAccountsEnabled": true,
            "standardFlowEnabled": false,
            "directAccessGrantsEnabled": true,
        }],
        "users": [
            alice,
            otp_user,
            {
                "username": "service-account-svc",
                "enabled": true,
                "serviceAccountClientId": "svc",
                "clientRoles": {"realm-management": ["view-users", "view-realm"]},
            },
        ],
    })
}

/// A call any of the test identities may make in `realm`.
async fn count_users(kc: &cloakroom::Client, realm: &str) -> cloakroom::Result<u64> {
    kc.raw()
        .get(format!("/admin/realms/{realm}/users/count"))
        .realm(realm)
        .send_json()
        .await
}

/// Events of the given type recorded by Keycloak for `realm`.
async fn events(admin: &cloakroom::Client, realm: &str, kind: &str) -> Vec<Value> {
    admin
        .raw()
        .get(format!("/admin/realms/{realm}/events"))
        .query("type", kind)
        .query("max", 1000)
        .send_json()
        .await
        .expect("events")
}

/// A clock the test can move forward.
#[derive(Clone, Default)]
struct TestClock(Arc<AtomicI64>);
impl TestClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_secs(self.0.load(Ordering::SeqCst) as u64)
    }
    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

fn totp_now() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, OTP_SECRET.as_bytes(), now)
}

#[tokio::test]
async fn every_grant_obtains_a_token_from_the_real_server() {
    let admin = admin();
    let realm = create_realm(&admin, "grants", realm_rep(300)).await;

    // client_credentials: no refresh token is the normal case.
    let svc = builder()
        .auth_realm(&realm)
        .credentials(Credentials::client_credentials("svc", SVC_SECRET))
        .build()
        .unwrap();
    assert_eq!(count_users(&svc, &realm).await.unwrap(), USERS);
    let set = svc.token_set().await.unwrap();
    assert!(set.refresh_token.is_none());
    assert!(set.expires_at.is_some());

    // client_secret_basic works as well as client_secret_post.
    let basic = builder()
        .auth_realm(&realm)
        .credentials(Credentials::ClientCredentials {
            client_id: "svc".into(),
            auth: ClientAuth::SecretBasic(SVC_SECRET.into()),
        })
        .build()
        .unwrap();
    assert_eq!(count_users(&basic, &realm).await.unwrap(), USERS);

    // password grant through admin-cli.
    let alice = builder()
        .auth_realm(&realm)
        .credentials(Credentials::password("alice", "alice-pw"))
        .build()
        .unwrap();
    assert_eq!(count_users(&alice, &realm).await.unwrap(), USERS);
    let alice_set = alice.token_set().await.unwrap();
    let refresh = alice_set
        .refresh_token
        .clone()
        .expect("password grant gives a refresh token");

    // refresh token obtained elsewhere.
    let from_refresh = builder()
        .auth_realm(&realm)
        .credentials(Credentials::refresh_token("admin-cli", refresh))
        .build()
        .unwrap();
    assert_eq!(count_users(&from_refresh, &realm).await.unwrap(), USERS);
    assert_eq!(from_refresh.token_stats().refreshes, 1);

    // caller-supplied static token.
    let fixed = builder()
        .credentials(Credentials::token(alice_set.access_token.clone()))
        .build()
        .unwrap();
    assert_eq!(count_users(&fixed, &realm).await.unwrap(), USERS);
    assert_eq!(fixed.token_stats().token_requests, 0);

    // password + OTP, the code computed here from the credential the realm was given.
    let otto = builder()
        .auth_realm(&realm)
        .credentials(
            Credentials::password("otto", "otto-pw")
                .with_otp(Otp::Provider(Arc::new(|| Secret::new(totp_now())))),
        )
        .build()
        .unwrap();
    assert_eq!(count_users(&otto, &realm).await.unwrap(), USERS);
    // Without the code the same user is refused, with Keycloak's OAuth error.
    let no_otp = builder()
        .auth_realm(&realm)
        .credentials(Credentials::password("otto", "otto-pw"))
        .build()
        .unwrap();
    let err = count_users(&no_otp, &realm).await.unwrap_err();
    let auth = err.as_auth().expect("auth error");
    assert_eq!(auth.oauth_error(), Some("invalid_grant"), "{err}");
    assert!(err.is_unauthorized());

    // Wrong client secret: invalid_client / unauthorized_client, typed.
    let bad = builder()
        .auth_realm(&realm)
        .credentials(Credentials::client_credentials("svc", "wrong"))
        .build()
        .unwrap();
    let err = count_users(&bad, &realm).await.unwrap_err();
    assert_eq!(err.as_auth().unwrap().status, Some(401), "{err}");
    assert!(!err.to_string().contains("wrong"));

    delete_realm(&admin, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_calls_after_real_expiry_make_one_token_request() {
    let admin = admin();
    // Keycloak's shortest useful lifespan for this test: 5 s.
    let realm = create_realm(&admin, "stampede", realm_rep(5)).await;
    let alice = builder()
        .auth_realm(&realm)
        .credentials(Credentials::password("alice", "alice-pw"))
        .refresh_skew(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(count_users(&alice, &realm).await.unwrap(), USERS);
    assert_eq!(alice.token_stats().token_requests, 1);
    let first = alice.access_token().await.unwrap();

    tokio::time::sleep(Duration::from_secs(6)).await;
    let calls = (0..100).map(|_| {
        let kc = alice.clone();
        let realm = realm.clone();
        tokio::spawn(async move { count_users(&kc, &realm).await })
    });
    for c in futures_util::future::join_all(calls).await {
        assert_eq!(c.unwrap().unwrap(), USERS);
    }
    let stats = alice.token_stats();
    assert_eq!(stats.token_requests, 2, "{stats:?}");
    assert_eq!(stats.refreshes, 1, "{stats:?}");
    assert_ne!(alice.access_token().await.unwrap(), first);

    // Keycloak's own event log agrees: one login, one refresh.
    assert_eq!(events(&admin, &realm, "LOGIN").await.len(), 1);
    assert_eq!(events(&admin, &realm, "REFRESH_TOKEN").await.len(), 1);
    delete_realm(&admin, &realm).await;
}

#[tokio::test]
async fn client_credentials_regrants_instead_of_refreshing() {
    let admin = admin();
    let realm = create_realm(&admin, "regrant", realm_rep(300)).await;
    let clock = TestClock::default();
    let c2 = clock.clone();
    let svc = builder()
        .auth_realm(&realm)
        .credentials(Credentials::client_credentials("svc", SVC_SECRET))
        .clock(move || c2.now())
        .build()
        .unwrap();
    count_users(&svc, &realm).await.unwrap();
    clock.advance(400);
    count_users(&svc, &realm).await.unwrap();
    let stats = svc.token_stats();
    assert_eq!((stats.token_requests, stats.refreshes), (2, 0), "{stats:?}");
    assert_eq!(events(&admin, &realm, "CLIENT_LOGIN").await.len(), 2);
    delete_realm(&admin, &realm).await;
}

#[tokio::test]
async fn a_401_renews_once_and_a_dead_refresh_token_leads_to_a_regrant() {
    let admin = admin();
    let realm = create_realm(&admin, "revoked", realm_rep(300)).await;
    let alice = builder()
        .auth_realm(&realm)
        .credentials(Credentials::password("alice", "alice-pw"))
        .build()
        .unwrap();
    count_users(&alice, &realm).await.unwrap();
    assert_eq!(alice.token_stats().token_requests, 1);

    // Log alice out on the server: her access token and her refresh token both die while the
    // client still thinks the access token is fresh.
    let users: Vec<Value> = admin
        .raw()
        .get(format!("/admin/realms/{realm}/users"))
        .query("username", "alice")
        .query("exact", true)
        .send_json()
        .await
        .unwrap();
    let id = users[0]["id"].as_str().unwrap().to_owned();
    admin
        .raw()
        .post(format!("/admin/realms/{realm}/users/{id}/logout"))
        .send()
        .await
        .unwrap();

    // The next call gets a 401, tries the refresh token (refused), grants again, and succeeds.
    assert_eq!(count_users(&alice, &realm).await.unwrap(), USERS);
    let stats = alice.token_stats();
    assert_eq!((stats.token_requests, stats.refreshes), (3, 1), "{stats:?}");
    assert_eq!(events(&admin, &realm, "REFRESH_TOKEN_ERROR").await.len(), 1);
    assert_eq!(events(&admin, &realm, "LOGIN").await.len(), 2);

    // A fixed token that the server rejects is not retried in a loop: one 401, typed.
    let dead = alice.access_token().await.unwrap();
    admin
        .raw()
        .post(format!("/admin/realms/{realm}/users/{id}/logout"))
        .send()
        .await
        .unwrap();
    let fixed = builder()
        .credentials(Credentials::token(dead))
        .build()
        .unwrap();
    let err = count_users(&fixed, &realm).await.unwrap_err();
    assert!(err.is_unauthorized() && err.status() == Some(401), "{err}");
    delete_realm(&admin, &realm).await;
}

#[tokio::test]
async fn revoked_refresh_token_on_expiry_leads_to_a_regrant() {
    let admin = admin();
    let realm = create_realm(&admin, "revoke-rt", realm_rep(300)).await;
    let clock = TestClock::default();
    let c2 = clock.clone();
    let alice = builder()
        .auth_realm(&realm)
        .credentials(Credentials::password("alice", "alice-pw"))
        .clock(move || c2.now())
        .build()
        .unwrap();
    count_users(&alice, &realm).await.unwrap();
    let rt = alice
        .token_set()
        .await
        .unwrap()
        .refresh_token
        .clone()
        .unwrap();

    // Revoke the refresh token at the real revocation endpoint.
    let revoke = format!("/realms/{realm}/protocol/openid-connect/revoke");
    builder()
        .build()
        .unwrap()
        .raw()
        .post(revoke)
        .form(vec![
            ("token".into(), rt.expose_secret().into()),
            ("token_type_hint".into(), "refresh_token".into()),
            ("client_id".into(), "admin-cli".into()),
        ])
        .send()
        .await
        .unwrap();

    clock.advance(600);
    assert_eq!(count_users(&alice, &realm).await.unwrap(), USERS);
    let stats = alice.token_stats();
    assert_eq!((stats.token_requests, stats.refreshes), (3, 1), "{stats:?}");
    delete_realm(&admin, &realm).await;
}

#[test]
fn test_server_is_configured() {
    // Fails loudly (never skips) when no server is available.
    let s = test_server();
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
}
