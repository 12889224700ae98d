//! Deprecated operations are generated (and marked `#[deprecated]`); the ones no other test
//! reaches are exercised here so the coverage report speaks for all 413.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};
use crate::support::smtp::SmtpSink;

/// `POST /admin/realms/{realm}/testSMTPConnection` sends a test message to the calling admin's
/// own address through the settings it is given.
#[tokio::test]
#[allow(deprecated)]
async fn test_smtp_connection_sends_a_message_to_the_admin() {
    let kc = admin();
    let sink = SmtpSink::start().await;
    let realm = create_realm(&kc, "smtp-test", json!({})).await;

    // The bootstrap admin has no email address until one is given.
    let master = kc.realm("master");
    let me = master
        .users()
        .find_by_username(&crate::support::server::test_server().admin_username)
        .await
        .unwrap()
        .expect("the bootstrap admin exists");
    let admin_user = master.user(me.id.clone().unwrap());
    if me.email.is_none() {
        admin_user
            .patch(|u| u.email = Some("bootstrap-admin@example.com".into()))
            .await
            .unwrap();
    }

    let settings: BTreeMap<String, String> = sink
        .realm_config()
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    kc.realm(&realm)
        .test_smtp_connection(&settings)
        .send()
        .await
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mail.len(), 1, "one test message");
    assert!(
        mail[0].to.iter().any(|t| t.contains("@example.com")),
        "{:?}",
        mail[0].to
    );
    delete_realm(&kc, &realm).await;
}
