//! Network faults between cloakroom and the real Keycloak, injected by the loopback proxy.

use std::time::{Duration, Instant};

use cloakroom::error::TransportKind;
use cloakroom::generated::models::UserRepresentation;
use cloakroom::{Client, Error, RetryPolicy};
use serde_json::json;

use crate::proxy::{Fault, Proxy};
use crate::{admin_via, server::test_server, unique};

/// A realm with one user, made directly (not through the proxy); returns (direct client,
/// realm, user id).
async fn setup() -> (Client, String, String) {
    let direct = admin_via(&test_server().url).build().unwrap();
    let realm = unique("faults");
    direct
        .raw()
        .post("/admin/realms")
        .json(&json!({"realm": realm, "enabled": true}))
        .send()
        .await
        .unwrap();
    let id = direct
        .realm(&realm)
        .users()
        .create(&user("ada"))
        .send()
        .await
        .unwrap();
    (direct, realm, id)
}

fn user(name: &str) -> UserRepresentation {
    serde_json::from_value(json!({
        "username": name, "enabled": true, "email": format!("{name}@example.com"),
        "firstName": "F", "lastName": "L",
    }))
    .unwrap()
}

/// A client through `proxy`: default retry budget (3 retries), short backoff.
fn via(proxy: &Proxy) -> Client {
    admin_via(&proxy.url)
        .retry(
            RetryPolicy::with_max_retries(3)
                .delays(Duration::from_millis(50), Duration::from_millis(400)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn get_put_delete_are_retried_and_take_effect() {
    let (direct, realm, id) = setup().await;
    let proxy = Proxy::start(&test_server().url).await;
    let kc = via(&proxy);
    kc.access_token().await.unwrap(); // log in through the proxy first

    // GET through two connection resets.
    proxy.inject(&[Fault::Reset, Fault::Reset]);
    let users = kc
        .realm(&realm)
        .users()
        .list()
        .max(10)
        .send()
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(proxy.seen("GET"), 3, "two resets, then the answer");

    // PUT through two 503s: the change is made once.
    let mut u = direct.realm(&realm).user(&id).get().send().await.unwrap();
    u.first_name = Some("Changed".into());
    proxy.inject(&[Fault::Unavailable, Fault::Unavailable]);
    kc.realm(&realm).user(&id).update(&u).send().await.unwrap();
    assert_eq!(proxy.seen("PUT"), 3);
    let now = direct.realm(&realm).user(&id).get().send().await.unwrap();
    assert_eq!(now.first_name.as_deref(), Some("Changed"));

    // DELETE through a reset.
    proxy.inject(&[Fault::Reset]);
    kc.realm(&realm).user(&id).delete().send().await.unwrap();
    assert_eq!(proxy.seen("DELETE"), 2);
    let gone = direct
        .realm(&realm)
        .user(&id)
        .get()
        .send()
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn post_is_sent_once() {
    let (direct, realm, _) = setup().await;
    let proxy = Proxy::start(&test_server().url).await;
    let kc = via(&proxy);
    kc.access_token().await.unwrap();

    // Reset before the request reaches the server: a typed error, one attempt, no user.
    proxy.inject(&[Fault::Reset]);
    let e = kc
        .realm(&realm)
        .users()
        .create(&user("bob"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport(t) if t.method == "POST" && t.kind != TransportKind::Tls),
        "{e:?}"
    );
    assert_eq!(proxy.seen("POST"), 1, "POST is not retried");
    let found = direct
        .realm(&realm)
        .users()
        .list()
        .username("bob")
        .exact(true)
        .send()
        .await
        .unwrap();
    assert!(found.is_empty());

    // Reset after the server created the user: still one attempt and a typed error; the user
    // exists once. A caller that must know reconciles by natural key (find / ensure helpers).
    proxy.inject(&[Fault::ResetAfterForward]);
    let e = kc
        .realm(&realm)
        .users()
        .create(&user("cyrus"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Transport(_)), "{e:?}");
    assert_eq!(proxy.seen("POST"), 1);
    let found = direct
        .realm(&realm)
        .users()
        .list()
        .username("cyrus")
        .exact(true)
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "created exactly once");

    // A 503 on POST is not retried either.
    proxy.inject(&[Fault::Unavailable]);
    let e = kc
        .realm(&realm)
        .users()
        .create(&user("dee"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
    assert_eq!(proxy.seen("POST"), 1);
}

#[tokio::test]
async fn a_burst_beyond_the_budget_is_a_typed_error_in_bounded_time() {
    let (_direct, realm, _) = setup().await;
    let proxy = Proxy::start(&test_server().url).await;
    let kc = via(&proxy);
    kc.access_token().await.unwrap();
    proxy.inject(&[Fault::Unavailable; 10]);
    let t0 = Instant::now();
    let e = kc.realm(&realm).users().list().send().await.unwrap_err();
    let took = t0.elapsed();
    match &e {
        Error::Api(a) => {
            assert_eq!(a.status, 503);
            assert_eq!(a.method, "GET");
            assert!(a.path.ends_with("/users"), "{}", a.path);
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert_eq!(proxy.seen("GET"), 4, "one attempt and three retries");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_stalled_answer_times_out_with_a_typed_error() {
    let (_direct, realm, _) = setup().await;
    let proxy = Proxy::start(&test_server().url).await;
    let kc = admin_via(&proxy.url)
        .timeout(Duration::from_secs(1))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    kc.access_token().await.unwrap();
    proxy.inject(&[Fault::Delay(Duration::from_secs(4))]);
    let t0 = Instant::now();
    let e = kc.realm(&realm).users().list().send().await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}
