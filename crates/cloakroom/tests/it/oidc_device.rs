//! Device-flow polling rules with an injected clock and sleeper, so they run instantly.
//!
//! These use a wiremock stand-in for the token endpoint: Keycloak cannot be made to answer
//! `slow_down` or `expired_token` on demand (the real approval path is tested in
//! `oidc_browser`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use cloakroom::oidc::{DeviceAuthorization, Oidc};
use cloakroom::{Client, ClientAuth};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "/realms/r/protocol/openid-connect/token";

/// A provider whose clock only moves when the sleeper is asked to wait; records the waits.
fn instant_oidc(server: &MockServer) -> (Oidc, Arc<Mutex<Vec<Duration>>>) {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let elapsed = Arc::new(AtomicU64::new(0));
    let sleeps = Arc::new(Mutex::new(Vec::new()));
    let kc = Client::builder(server.uri()).build().unwrap();
    let e = elapsed.clone();
    let e2 = elapsed.clone();
    let s = sleeps.clone();
    let oidc = kc
        .oidc("r")
        .with_clock(move || t0 + Duration::from_secs(e.load(Ordering::SeqCst)))
        .with_sleeper(move |d| {
            s.lock().unwrap().push(d);
            e2.fetch_add(d.as_secs(), Ordering::SeqCst);
            Box::pin(async {})
        });
    (oidc, sleeps)
}

async fn start(server: &MockServer, oidc: &Oidc, expires_in: u64) -> DeviceAuthorization {
    Mock::given(method("POST"))
        .and(path("/realms/r/protocol/openid-connect/auth/device"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "device_code": "dev-code-123",
            "user_code": "ABCD-EFGH",
            "verification_uri": "http://kc/realms/r/device",
            "verification_uri_complete": "http://kc/realms/r/device?user_code=ABCD-EFGH",
            "expires_in": expires_in,
            "interval": 5,
        })))
        .mount(server)
        .await;
    let d = oidc
        .client("tv", ClientAuth::Public)
        .device_authorization(Some("openid"))
        .await
        .unwrap();
    assert!(
        !format!("{d:?}").contains("dev-code-123"),
        "device code is redacted"
    );
    d
}

fn oauth(error: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"error": error}))
}

#[tokio::test]
async fn polling_honours_pending_and_slow_down() {
    let server = MockServer::start().await;
    let (oidc, sleeps) = instant_oidc(&server);
    let device = start(&server, &oidc, 600).await;
    for (priority, answer) in [
        (1u8, "authorization_pending"),
        (2, "slow_down"),
        (3, "authorization_pending"),
    ] {
        Mock::given(method("POST"))
            .and(path(TOKEN))
            .and(body_string_contains("device_code=dev-code-123"))
            .respond_with(oauth(answer))
            .up_to_n_times(1)
            .with_priority(priority)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at", "token_type": "Bearer", "expires_in": 300,
            "refresh_token": "rt",
        })))
        .with_priority(10)
        .mount(&server)
        .await;

    let started = std::time::Instant::now();
    let tokens = oidc
        .client("tv", ClientAuth::Public)
        .poll_device(&device)
        .await
        .unwrap();
    assert_eq!(tokens.access_token.expose_secret(), "at");
    let secs: Vec<u64> = sleeps
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_secs)
        .collect();
    // 5 s interval; after slow_down 5 s more, kept for the rest of the polling.
    assert_eq!(secs, [5, 5, 10, 10]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no real waiting"
    );
}

#[tokio::test]
async fn expired_token_and_access_denied_are_typed() {
    // Keycloak says the code expired.
    let server = MockServer::start().await;
    let (oidc, _) = instant_oidc(&server);
    let device = start(&server, &oidc, 600).await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(oauth("expired_token"))
        .mount(&server)
        .await;
    let e = oidc
        .client("tv", ClientAuth::Public)
        .poll_device(&device)
        .await
        .unwrap_err();
    let a = e.as_auth().expect("typed auth error");
    assert_eq!(a.oauth_error(), Some("expired_token"));
    assert_eq!(a.status, Some(400));

    // The user refused.
    let server = MockServer::start().await;
    let (oidc, _) = instant_oidc(&server);
    let device = start(&server, &oidc, 600).await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(oauth("access_denied"))
        .mount(&server)
        .await;
    let e = oidc
        .client("tv", ClientAuth::Public)
        .poll_device(&device)
        .await
        .unwrap_err();
    assert_eq!(e.as_auth().unwrap().oauth_error(), Some("access_denied"));

    // The codes' lifetime passes on our clock while the user never acts: the poller stops by
    // itself with `expired_token`, without asking the server again.
    let server = MockServer::start().await;
    let (oidc, sleeps) = instant_oidc(&server);
    let device = start(&server, &oidc, 12).await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .respond_with(oauth("authorization_pending"))
        .expect(2)
        .mount(&server)
        .await;
    let e = oidc
        .client("tv", ClientAuth::Public)
        .poll_device(&device)
        .await
        .unwrap_err();
    let a = e.as_auth().unwrap();
    assert_eq!(a.oauth_error(), Some("expired_token"));
    assert_eq!(a.status, None, "decided locally");
    assert_eq!(sleeps.lock().unwrap().len(), 3);
    server.verify().await;
}
