//! Server version awareness against the real server: an operation the client's known server
//! version does not serve fails with `Error::NotServed` before anything is sent, and the version
//! is detected from the server info.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloakroom::{Client, Credentials, Error};

use crate::support::server::test_server;

/// An admin client told `version`, and a counter of the HTTP exchanges it makes.
fn admin_told(version: &str) -> (Client, Arc<AtomicUsize>) {
    let server = test_server();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let kc = Client::builder(server.url.clone())
        .credentials(Credentials::password(
            server.admin_username.clone(),
            server.admin_password.clone(),
        ))
        .server_version(version)
        .observer(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    (kc, sent)
}

/// Lists the groups of an organization that does not exist: always an error.
async fn org_groups(kc: &Client) -> Error {
    kc.realm("master")
        .organization("no-such-org")
        .groups()
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn an_operation_the_known_version_lacks_is_refused_before_sending() {
    let (kc, sent) = admin_told("26.4.7");
    // Organization groups arrived after 26.4.7: the census of 26.4.7 does not list them.
    let err = org_groups(&kc).await;
    assert_eq!(sent.load(Ordering::SeqCst), 0, "nothing may be sent: {err}");
    match &err {
        Error::NotServed {
            template,
            server_version,
            served_since,
            ..
        } => {
            assert_eq!(
                *template,
                "/admin/realms/{realm}/organizations/{org-id}/groups"
            );
            assert_eq!(server_version, "26.4.7");
            assert_eq!(*served_since, Some("26.7.3"));
        }
        other => panic!("expected NotServed, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("GET /admin/realms/{realm}/organizations/{org-id}/groups")
            && msg.contains("26.4.7"),
        "{msg}"
    );

    // What 26.4.7 serves still goes out (and answers, here from the real 26.7.3).
    let realms = kc.realms().list().send().await.unwrap();
    assert!(realms.iter().any(|r| r.realm.as_deref() == Some("master")));
    assert!(sent.load(Ordering::SeqCst) > 0);
}

#[tokio::test]
async fn a_version_the_census_did_not_read_blocks_nothing() {
    let (kc, sent) = admin_told("99.0.0");
    let err = org_groups(&kc).await;
    assert!(sent.load(Ordering::SeqCst) > 0, "the request went out");
    assert!(
        !matches!(err, Error::NotServed { .. }),
        "the server answered, not the table: {err}"
    );
}

#[tokio::test]
async fn detects_the_real_servers_version() {
    let server = test_server();
    // A client not told the version (the tests' own clients are told it).
    let kc = Client::builder(server.url.clone())
        .credentials(Credentials::password(
            server.admin_username.clone(),
            server.admin_password.clone(),
        ))
        .build()
        .unwrap();
    assert_eq!(kc.server_version(), None);
    let version = kc.detect_server_version().await.unwrap();
    let expected = server.version.clone().unwrap_or_else(|| "26.7.3".into());
    assert_eq!(version, expected);
    assert_eq!(kc.server_version().as_deref(), Some(expected.as_str()));
    // 26.7.3 serves organization groups: the check lets the call through to the server; an
    // older version does not, and the detected version refuses it before sending.
    let err = org_groups(&kc).await;
    let refused = matches!(err, Error::NotServed { .. });
    let template = "/admin/realms/{realm}/organizations/{org-id}/groups";
    assert_eq!(
        refused,
        !crate::support::served::served(cloakroom::request::Method::Get, template),
        "{err}"
    );
}
