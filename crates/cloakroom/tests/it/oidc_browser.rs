//! Logins a person makes in a browser: authorization code + PKCE through Keycloak's real login
//! page, and the device flow approved on the real verification page. Headless Chromium.

use std::time::Duration;

use cloakroom::ClientAuth;
use cloakroom::oidc::Prompt;
use serde_json::json;

use crate::oidc_util::*;
use crate::support::browser::{Browser, RedirectCatcher};

async fn log_in(browser: &Browser, username: &str, password: &str) {
    browser.type_into("#username", username).await;
    browser.type_into("#password", password).await;
    browser.click("#kc-login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_login_through_the_real_login_page() {
    let admin = admin();
    let mut catcher = RedirectCatcher::start("/callback").await;
    let realm = create_realm(
        &admin,
        "oidc-pkce",
        json!({
            "clients": [{
                "clientId": "web",
                "enabled": true,
                "publicClient": true,
                "standardFlowEnabled": true,
                "directAccessGrantsEnabled": false,
                "redirectUris": [catcher.redirect_uri],
                "attributes": {"pkce.code.challenge.method": "S256"},
            }],
            "users": [user("alice", "alice-pw")],
        }),
    )
    .await;
    let _cleanup = cleanup(&realm);

    let kc = builder().build().unwrap();
    let web = kc.oidc(&realm).client("web", ClientAuth::Public);
    let pending = web
        .authorization_request(catcher.redirect_uri.clone())
        .scope("profile email")
        .prompt(Prompt::Login)
        .build();

    let browser = Browser::start().await;
    browser.goto(&pending.url).await;
    log_in(&browser, "alice", "alice-pw").await;
    let callback = catcher.wait(Duration::from_secs(60)).await;
    browser.quit().await;

    assert!(callback.contains("code="), "{callback}");
    let done = web.finish_login(&pending, &callback).await.unwrap();
    let id = done.id_token.expect("openid scope gives an ID token");
    assert_eq!(id.preferred_username.as_deref(), Some("alice"));
    assert_eq!(id.nonce.as_deref(), Some(pending.nonce.as_str()));
    assert_eq!(id.aud, vec!["web".to_owned()]);
    assert!(done.tokens.refresh_token.is_some());
    let scopes = done.tokens.scope.clone().unwrap_or_default();
    assert!(scopes.contains("email"), "{scopes}");

    // The code is single-use: a replay is refused by Keycloak with a typed error.
    let replay = web.finish_login(&pending, &callback).await.unwrap_err();
    assert_eq!(
        replay.as_auth().and_then(|a| a.oauth_error()),
        Some("invalid_grant"),
        "{replay}"
    );

    // A PKCE verifier that does not match the challenge is refused too.
    let mut wrong = pending.clone();
    wrong.code_verifier = "x".repeat(43).into();
    let e = web.exchange_code(&wrong, "whatever").await.unwrap_err();
    assert!(e.as_auth().is_some(), "{e}");

    delete_realm(&admin, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_approved_on_the_real_verification_page() {
    let admin = admin();
    let realm = create_realm(
        &admin,
        "oidc-device",
        json!({
            "oauth2DevicePollingInterval": 1,
            "clients": [{
                "clientId": "tv",
                "enabled": true,
                "publicClient": true,
                "standardFlowEnabled": false,
                "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
            }],
            "users": [user("alice", "alice-pw")],
        }),
    )
    .await;
    let _cleanup = cleanup(&realm);
    let kc = builder().build().unwrap();
    let tv = kc.oidc(&realm).client("tv", ClientAuth::Public);
    let device = tv.device_authorization(Some("openid")).await.unwrap();
    assert!(!device.user_code.is_empty());
    assert_eq!(device.interval, Duration::from_secs(1));
    let complete = device
        .verification_uri_complete
        .clone()
        .expect("Keycloak sends verification_uri_complete");

    let poller = {
        let tv = tv.clone();
        let device = device.clone();
        tokio::spawn(async move { tv.poll_device(&device).await })
    };

    let browser = Browser::start().await;
    browser.goto(&complete).await;
    // Keycloak may first show the code for confirmation, then the login page.
    let started = std::time::Instant::now();
    loop {
        if browser.find("#username").await.is_some() {
            break;
        }
        if browser.find("#device-user-code").await.is_some() {
            browser.click("input[type=submit], #kc-login").await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no login page at {}",
            browser.url().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    log_in(&browser, "alice", "alice-pw").await;
    // A consent screen ("Do you grant these access privileges?") may follow.
    let started = std::time::Instant::now();
    while !poller.is_finished() && started.elapsed() < Duration::from_secs(30) {
        if let Some(_e) = browser.find("input[name=accept], #kc-login").await {
            browser.click("input[name=accept], #kc-login").await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let page = browser.source().await;
    browser.quit().await;

    let tokens = tokio::time::timeout(Duration::from_secs(30), poller)
        .await
        .expect("polling ends once approved")
        .unwrap()
        .unwrap_or_else(|e| panic!("device login failed: {e}\npage: {page}"));
    let claims = kc
        .oidc(&realm)
        .verifier()
        .authorized_party("tv")
        .build()
        .unwrap()
        .verify(tokens.access_token.expose_secret())
        .await
        .unwrap();
    assert_eq!(claims.preferred_username.as_deref(), Some("alice"));
    assert!(tokens.id_token.is_some());

    delete_realm(&admin, &realm).await;
}
