//! Secrets never leave through logs, errors or `Debug`: run the main flows with tracing at TRACE
//! (cloakroom, reqwest, hyper, rustls — everything) and scan every captured byte.

use std::io::Write;
use std::sync::{Arc, Mutex};

use cloakroom::Credentials;
use serde_json::json;

use crate::support::kc::{admin, builder, create_realm, delete_realm, user};
use crate::support::server::test_server;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);
impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn trace_logs_errors_and_debug_output_hold_no_secret() {
    let admin_kc = admin();
    const PW: &str = "pw-Zq8-unmistakable";
    const SECRET: &str = "cs-Xy7-unmistakable";
    let mut u = user("tracy", PW);
    u["clientRoles"] = json!({"realm-management": ["view-users"]});
    let realm = create_realm(
        &admin_kc,
        "secrets",
        json!({
            "users": [u],
            "clients": [{"clientId": "svc", "publicClient": false, "secret": SECRET,
                         "serviceAccountsEnabled": true, "standardFlowEnabled": false}],
        }),
    )
    .await;

    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut seen = String::new();
    let pw_client = builder()
        .auth_realm(&realm)
        .credentials(Credentials::password("tracy", PW))
        .default_header("CF-Access-Client-Secret", SECRET)
        .build()
        .unwrap();
    let n: u64 = pw_client
        .raw()
        .get(format!("/admin/realms/{realm}/users/count"))
        .send_json()
        .await
        .unwrap();
    assert_eq!(n, 1);
    let tokens = pw_client.token_set().await.unwrap();
    let access = tokens.access_token.expose_secret().to_owned();
    let refresh = tokens
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    seen.push_str(&format!("{pw_client:?}\n{tokens:?}\n"));

    let svc = builder()
        .auth_realm(&realm)
        .credentials(Credentials::client_credentials("svc", SECRET))
        .build()
        .unwrap();
    let svc_token = svc.access_token().await.unwrap();
    seen.push_str(&format!("{svc:?}\n{svc_token:?}\n"));

    // Failures: wrong password, wrong secret, a 403 — their Display and Debug.
    for creds in [
        Credentials::password("tracy", format!("{PW}-wrong")),
        Credentials::client_credentials("svc", format!("{SECRET}-wrong")),
    ] {
        let c = builder()
            .auth_realm(&realm)
            .credentials(creds)
            .build()
            .unwrap();
        let e = c.access_token().await.unwrap_err();
        seen.push_str(&format!("{e}\n{e:?}\n{c:?}\n"));
    }
    let e = pw_client
        .raw()
        .get("/admin/realms/master/users")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    seen.push_str(&format!("{e}\n{e:?}\n"));

    drop(_guard);
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("keycloak.request"),
        "tracing spans were captured"
    );
    assert!(
        logs.len() > 1000,
        "TRACE output was captured ({} bytes)",
        logs.len()
    );
    let all = format!("{logs}\n{seen}");
    for (what, needle) in [
        ("password", PW),
        ("client secret", SECRET),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("service token", svc_token.expose_secret()),
    ] {
        // Tokens are long; a leak of any 24-character stretch of them counts.
        let probe = &needle[needle.len().saturating_sub(24)..];
        assert!(
            !all.contains(probe),
            "the {what} leaked into logs/errors/Debug"
        );
    }
    let _ = test_server();
    delete_realm(&admin_kc, &realm).await;
}
