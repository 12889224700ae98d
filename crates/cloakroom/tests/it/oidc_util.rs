//! Shared set-up for the OIDC, JWT and UMA tests: realms with clients and users, admin calls,
//! token surgery for the attack cases.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cloakroom::Client;
use serde_json::{Value, json};

use crate::support::server::test_server;

pub use crate::support::kc::{admin, builder, create_realm, delete_realm, user};

/// Deletes the realm when a test panics before its own clean-up (a realm left behind would
/// clutter the shared dev server). Keep it alive for the whole test: `let _cleanup = cleanup(&realm);`.
pub struct Cleanup(String);

pub fn cleanup(realm: &str) -> Cleanup {
    Cleanup(realm.to_owned())
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let realm = self.0.clone();
        // A fresh thread and runtime: the test's runtime is unwinding.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async { delete_realm(&admin(), &realm).await });
        })
        .join();
    }
}

/// A confidential client with a service account and direct access grants.
pub fn confidential(client_id: &str, secret: &str) -> Value {
    json!({
        "clientId": client_id,
        "enabled": true,
        "publicClient": false,
        "secret": secret,
        "serviceAccountsEnabled": true,
        "standardFlowEnabled": false,
        "directAccessGrantsEnabled": true,
    })
}

/// Adds an audience mapper putting the client itself in its access tokens' `aud`. Keycloak
/// 26.6.2+ reports a token inactive to an introspecting client that is not in its `aud`
/// (CVE-2026-37979 fix).
pub fn self_audience(mut client: Value) -> Value {
    let id = client["clientId"].as_str().unwrap().to_owned();
    client["protocolMappers"] = json!([{
        "name": "self-audience",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {
            "included.client.audience": id,
            "access.token.claim": "true",
            "id.token.claim": "false",
            "introspection.token.claim": "true",
        },
    }]);
    client
}

/// A public client with direct access grants.
pub fn public(client_id: &str) -> Value {
    json!({
        "clientId": client_id,
        "enabled": true,
        "publicClient": true,
        "standardFlowEnabled": false,
        "directAccessGrantsEnabled": true,
    })
}

/// The internal id of a client.
pub async fn client_uuid(kc: &Client, realm: &str, client_id: &str) -> String {
    let v: Value = kc
        .raw()
        .get(format!("/admin/realms/{realm}/clients"))
        .query("clientId", client_id)
        .send_json()
        .await
        .unwrap();
    v[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client {client_id} in {realm}: {v}"))
        .to_owned()
}

/// The id of a user.
pub async fn user_id(kc: &Client, realm: &str, username: &str) -> String {
    let v: Value = kc
        .raw()
        .get(format!("/admin/realms/{realm}/users"))
        .query("username", username)
        .query("exact", "true")
        .send_json()
        .await
        .unwrap();
    v[0]["id"].as_str().unwrap().to_owned()
}

/// POSTs JSON and returns the created object's id (from `Location` or the body's `id`).
pub async fn post_id(kc: &Client, path: String, body: Value) -> String {
    let resp = kc
        .raw()
        .post(path.clone())
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    if let Ok(id) = resp.location_id() {
        return id;
    }
    let v: Value = resp.json().unwrap();
    v["id"]
        .as_str()
        .or(v["_id"].as_str())
        .unwrap_or_else(|| panic!("POST {path}: no id in {v}"))
        .to_owned()
}

/// A client for the test server (no credentials) that counts JWKS fetches.
pub fn counting_client() -> (Client, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let f = fetches.clone();
    let kc = Client::builder(test_server().url)
        .observer(move |ex| {
            if ex.template == "/realms/{realm}/protocol/openid-connect/certs" {
                f.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    (kc, fetches)
}

/// Splits a JWT into its decoded header and payload and its signature part.
pub fn split(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWS");
    let dec =
        |s: &str| -> Value { serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).unwrap()).unwrap() };
    (dec(parts[0]), dec(parts[1]), parts[2].to_owned())
}

/// Re-encodes header and payload and appends `signature` (base64url) as is.
pub fn join(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        signature
    )
}

/// A PKCS#8 PEM private key made by the `openssl` CLI (`rsa` or `ec`).
pub fn openssl_key(kind: &str) -> String {
    let args: &[&str] = match kind {
        "rsa" => &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        "ec" => &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
        other => panic!("unknown key kind {other}"),
    };
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI is needed to make test keys");
    assert!(out.status.success(), "openssl genpkey failed");
    String::from_utf8(out.stdout).unwrap()
}
