//! Login events, admin events and their settings; localization texts; brute-force detection.

use std::collections::BTreeMap;

use cloakroom::generated::models::RealmEventsConfigRepresentation;
use cloakroom::{Client, Credentials};
use serde_json::json;

use super::{create_user, realm_with};
use crate::support::kc::{admin, builder, delete_realm, unique};

/// A password grant through `admin-cli` of `realm`; `Err` when Keycloak refuses it.
async fn password_grant(realm: &str, username: &str, password: &str) -> cloakroom::Result<()> {
    let c: Client = builder()
        .auth_realm(realm)
        .credentials(Credentials::password(username, password))
        .build()
        .unwrap();
    c.access_token().await.map(drop)
}

#[tokio::test]
async fn login_and_admin_events_with_their_config() {
    let kc = admin();
    let realm = realm_with(&kc, "events", json!({})).await;
    let r = kc.realm(&realm);
    let ev = r.events();

    let before = ev.config().send().await.unwrap();
    assert_eq!(before.events_enabled, Some(false), "{before:?}");
    assert!(
        before
            .events_listeners
            .unwrap()
            .contains(&"jboss-logging".to_owned())
    );
    ev.update_config(&RealmEventsConfigRepresentation {
        events_enabled: Some(true),
        events_expiration: Some(3600),
        events_listeners: Some(vec!["jboss-logging".into()]),
        enabled_event_types: Some(vec!["LOGIN".into(), "LOGIN_ERROR".into()]),
        admin_events_enabled: Some(true),
        admin_events_details_enabled: Some(true),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    let after = ev.config().send().await.unwrap();
    assert_eq!(after.events_enabled, Some(true));
    assert_eq!(after.events_expiration, Some(3600));
    assert_eq!(after.admin_events_enabled, Some(true));
    let mut types = after.enabled_event_types.unwrap();
    types.sort();
    assert_eq!(types, ["LOGIN", "LOGIN_ERROR"]);

    // Login events.
    let name = unique("frank");
    let frank = create_user(&kc, &realm, &name).await;
    password_grant(&realm, &name, "pa55-Word!").await.unwrap();
    assert!(password_grant(&realm, &name, "wrong").await.is_err());
    let logins = ev.list().r#type(["LOGIN"]).send().await.unwrap();
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0].user_id.as_deref(), Some(frank.as_str()));
    assert_eq!(logins[0].client_id.as_deref(), Some("admin-cli"));
    assert!(logins[0].session_id.is_some());
    let errors = ev
        .list()
        .r#type(["LOGIN_ERROR"])
        .user(frank.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].error.as_deref(), Some("invalid_user_credentials"));
    let all = ev.list().client("admin-cli").max(10).send().await.unwrap();
    assert_eq!(all.len(), 2);

    // Admin events (with their representation, since details are on).
    kc.raw()
        .post(format!("/admin/realms/{realm}/roles"))
        .json(&json!({"name": "auditor"}))
        .send()
        .await
        .unwrap();
    let admin_events = r
        .admin_events()
        .list()
        .operation_types(["CREATE"])
        .resource_types(["REALM_ROLE"])
        .send()
        .await
        .unwrap();
    assert_eq!(admin_events.len(), 1, "{admin_events:?}");
    let e = &admin_events[0];
    assert_eq!(e.resource_path.as_deref(), Some("roles/auditor"));
    assert!(e.representation.as_deref().unwrap().contains("auditor"));
    let master_id = kc.realm("master").get().send().await.unwrap().id;
    assert_eq!(
        e.auth_details.as_ref().unwrap().realm_id,
        master_id,
        "the bootstrap admin logs in to master"
    );
    let user_events = r
        .admin_events()
        .list()
        .resource_types(["USER"])
        .send()
        .await
        .unwrap();
    assert_eq!(user_events.len(), 1, "{user_events:?}");
    assert_eq!(
        user_events[0].resource_path.as_deref(),
        Some(format!("users/{frank}").as_str())
    );
    assert_eq!(user_events[0].operation_type.as_deref(), Some("CREATE"));

    ev.clear().send().await.unwrap();
    assert!(ev.list().send().await.unwrap().is_empty());
    r.admin_events().clear().send().await.unwrap();
    assert!(r.admin_events().list().send().await.unwrap().is_empty());
    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn localization_texts() {
    let kc = admin();
    let realm = realm_with(
        &kc,
        "l10n",
        json!({"internationalizationEnabled": true, "supportedLocales": ["en", "de"],
            "defaultLocale": "en"}),
    )
    .await;
    let l = kc.realm(&realm).localization();

    l.import_texts(
        "de",
        &BTreeMap::from([
            ("loginTitle".to_owned(), "Willkommen".to_owned()),
            ("doLogIn".to_owned(), "Anmelden".to_owned()),
        ]),
    )
    .send()
    .await
    .unwrap();
    l.set_text("en", "loginTitle", "Welcome aboard")
        .send()
        .await
        .unwrap();
    let mut locales = l.locales().send().await.unwrap();
    locales.sort();
    assert_eq!(locales, ["de", "en"]);

    let de = l.texts("de").send().await.unwrap();
    assert_eq!(de.len(), 2, "{de:?}");
    assert_eq!(de["doLogIn"], "Anmelden");
    assert_eq!(
        l.text("en", "loginTitle").send().await.unwrap(),
        "Welcome aboard"
    );
    l.set_text("de", "loginTitle", "Herzlich willkommen")
        .send()
        .await
        .unwrap();
    assert_eq!(
        l.text("de", "loginTitle").send().await.unwrap(),
        "Herzlich willkommen"
    );

    l.delete_text("de", "doLogIn").send().await.unwrap();
    assert!(
        l.text("de", "doLogIn")
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(l.texts("de").send().await.unwrap().len(), 1);
    l.delete_locale("de").send().await.unwrap();
    assert!(l.texts("de").send().await.unwrap().is_empty());
    assert_eq!(l.locales().send().await.unwrap(), ["en"]);
    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn brute_force_detection() {
    let kc = admin();
    let realm = realm_with(
        &kc,
        "brute",
        json!({"bruteForceProtected": true, "failureFactor": 5, "permanentLockout": false,
            "maxFailureWaitSeconds": 900, "waitIncrementSeconds": 60,
            "quickLoginCheckMilliSeconds": 1, "minimumQuickLoginWaitSeconds": 60}),
    )
    .await;
    let ad = kc.realm(&realm).attack_detection();
    let grace = unique("grace");
    let grace_id = create_user(&kc, &realm, &grace).await;
    let heidi = unique("heidi");
    let heidi_id = create_user(&kc, &realm, &heidi).await;

    // Keycloak records a login failure on a background queue after the grant has answered; a
    // second failure for the same user while the first is still being recorded can be lost
    // under load (seen in CI: 1 of 2 counted). So each failure is waited for (bounded) before
    // the next one: the test checks the admin API, not Keycloak's concurrency.
    let status_of = |id: String, want: u64| {
        let ad = ad.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
            loop {
                let s = ad.user_status(&id).send().await.unwrap();
                if s["numFailures"] == want || std::time::Instant::now() > deadline {
                    break s;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    let mut status = Default::default();
    for n in 1..=2u64 {
        assert!(password_grant(&realm, &grace, "wrong").await.is_err());
        status = status_of(grace_id.clone(), n).await;
    }
    assert!(password_grant(&realm, &heidi, "wrong").await.is_err());
    assert_eq!(status_of(heidi_id.clone(), 1).await["numFailures"], 1);
    assert_eq!(status["numFailures"], 2, "{status:?}");
    assert!(status.contains_key("disabled") && status.contains_key("lastFailure"));
    assert_eq!(
        status["lastIPFailure"], "127.0.0.1",
        "the failed logins came from loopback: {status:?}"
    );

    ad.clear_user(&grace_id).send().await.unwrap();
    let cleared = ad.user_status(&grace_id).send().await.unwrap();
    assert_eq!(cleared["numFailures"], 0, "{cleared:?}");
    assert_eq!(
        ad.user_status(&heidi_id).send().await.unwrap()["numFailures"],
        1
    );

    ad.clear_all().send().await.unwrap();
    assert_eq!(
        ad.user_status(&heidi_id).send().await.unwrap()["numFailures"],
        0
    );
    delete_realm(&kc, &realm).await;
}
