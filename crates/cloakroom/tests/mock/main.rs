//! What a real Keycloak cannot be made to do on demand: 503 bursts, dropped connections, a token
//! rejected mid-flight. A stand-in server answers here; everything Keycloak really answers is
//! tested against the real server in `tests/it`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloakroom::error::TransportKind;
use cloakroom::{Client, Credentials, Error, RetryPolicy};
use tokio::io::AsyncReadExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::with_max_retries(n).delays(Duration::from_millis(1), Duration::from_millis(5))
}

fn client(url: &str) -> Client {
    Client::builder(url)
        .credentials(Credentials::token("test-token"))
        .retry(fast_retries(3))
        .build()
        .unwrap()
}

/// Answers with the given statuses in order, then repeats the last.
struct Sequence(Vec<u16>, AtomicUsize);
impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.1.fetch_add(1, Ordering::SeqCst).min(self.0.len() - 1);
        ResponseTemplate::new(self.0[i]).set_body_json(serde_json::json!({"ok": i}))
    }
}

#[tokio::test]
async fn get_put_delete_are_retried_through_a_503_burst() {
    let server = MockServer::start().await;
    for m in ["GET", "PUT", "DELETE"] {
        Mock::given(method(m))
            .and(path(format!("/admin/realms/{}", m.to_lowercase())))
            .respond_with(Sequence(vec![503, 502, 504, 200], AtomicUsize::new(0)))
            .expect(4)
            .mount(&server)
            .await;
    }
    let kc = client(&server.uri());
    let v: serde_json::Value = kc.raw().get("/admin/realms/get").send_json().await.unwrap();
    assert_eq!(v["ok"], 3);
    kc.raw().put("/admin/realms/put").send().await.unwrap();
    kc.raw()
        .delete("/admin/realms/delete")
        .send()
        .await
        .unwrap();
    // `expect(4)` on each mock is verified when the server drops.
}

#[tokio::test]
async fn post_is_not_retried_unless_the_call_opts_in() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/admin/realms/acme/users"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let kc = client(&server.uri());
    let err = kc
        .raw()
        .post("/admin/realms/acme/users")
        .json(&serde_json::json!({"username": "x"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    server.verify().await;
    server.reset().await;

    Mock::given(method("POST"))
        .and(path("/admin/realms/acme/search"))
        .respond_with(Sequence(vec![503, 200], AtomicUsize::new(0)))
        .expect(2)
        .mount(&server)
        .await;
    kc.raw()
        .post("/admin/realms/acme/search")
        .retry_post(true)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn retries_stop_at_the_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let kc = Client::builder(server.uri())
        .credentials(Credentials::token("t"))
        .retry(fast_retries(2))
        .build()
        .unwrap();
    let err = kc.raw().get("/admin/realms").send().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

/// A listener that accepts connections, reads the request, and closes without answering.
async fn dropping_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn dropped_connections_retry_get_but_not_post() {
    let (url, accepted) = dropping_server().await;
    let kc = client(&url);
    let err = kc.raw().get("/admin/realms").send().await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.kind == TransportKind::Io),
        "{err:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 4, "1 attempt + 3 retries");

    accepted.store(0, Ordering::SeqCst);
    let err = kc
        .raw()
        .post("/admin/realms")
        .json(&serde_json::json!({"realm": "x"}))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)));
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "a POST is sent once");
}

#[tokio::test]
async fn slow_answers_time_out_as_typed_errors_and_get_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .expect(2)
        .mount(&server)
        .await;
    let kc = Client::builder(server.uri())
        .credentials(Credentials::token("t"))
        .timeout(Duration::from_millis(100))
        .retry(fast_retries(1))
        .build()
        .unwrap();
    let err = kc.raw().get("/admin/realms").send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

/// A token provider whose first token is rejected mid-flight: the client asks once more and
/// retries the call once, never more.
#[tokio::test]
async fn a_token_rejected_mid_flight_is_renewed_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer token-1",
        ))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer token-2",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!(7)))
        .expect(1)
        .mount(&server)
        .await;
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let kc = Client::builder(server.uri())
        .credentials(Credentials::Provider(cloakroom::TokenProvider::new(
            move || {
                let i = n2.fetch_add(1, Ordering::SeqCst) + 1;
                async move { Ok(cloakroom::Secret::new(format!("token-{i}"))) }
            },
        )))
        .build()
        .unwrap();
    let v: u32 = kc
        .raw()
        .get("/admin/realms/x/users/count")
        .send_json()
        .await
        .unwrap();
    assert_eq!(v, 7);
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_rejected_twice_is_reported_not_looped() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let kc = Client::builder(server.uri())
        .credentials(Credentials::Provider(cloakroom::TokenProvider::new(
            move || {
                let i = n2.fetch_add(1, Ordering::SeqCst);
                async move { Ok(cloakroom::Secret::new(format!("t{i}"))) }
            },
        )))
        .build()
        .unwrap();
    let err = kc.raw().get("/admin/realms").send().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[cfg(feature = "blocking")]
#[tokio::test]
async fn blocking_inside_a_runtime_is_an_error_not_a_panic() {
    let r = cloakroom::blocking::Client::new(
        Client::builder("http://127.0.0.1:1").credentials(Credentials::token("t")),
    );
    assert!(matches!(r, Err(Error::BlockingInAsyncContext)));
}

#[cfg(feature = "blocking")]
#[test]
fn blocking_client_runs_calls() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([1, 2])))
            .mount(&server),
    );
    let kc = cloakroom::blocking::Client::new(
        Client::builder(server.uri()).credentials(Credentials::token("t")),
    )
    .unwrap();
    let v: Vec<u32> = kc.wait(kc.raw().get("/admin/realms").send_json()).unwrap();
    assert_eq!(v, vec![1, 2]);
}

#[tokio::test]
async fn too_many_requests_is_retried_after_the_servers_delay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(Sequence(vec![429, 200], AtomicUsize::new(0)))
        .expect(2)
        .mount(&server)
        .await;
    // Retry-After: 1 is capped by the policy's 5 ms maximum, so the test stays fast.
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .expect(2)
        .mount(&server)
        .await;
    let kc = Client::builder(server.uri())
        .credentials(Credentials::token("t"))
        .retry(fast_retries(1))
        .build()
        .unwrap();
    let v: serde_json::Value = kc.raw().get("/admin/realms").send_json().await.unwrap();
    assert_eq!(v["ok"], 1);
    let started = std::time::Instant::now();
    let err = kc.raw().put("/admin/realms/x").send().await.unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "Retry-After capped by max_delay"
    );
}
