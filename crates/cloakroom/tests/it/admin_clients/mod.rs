//! Every non-deprecated operation of the clients area against the real server: clients and
//! their secrets, protocol mappers, scope mappings, default/optional client scopes, sessions,
//! adapter installation, the evaluate-scopes endpoints, certificates (including multipart
//! uploads), management permissions, client scopes and their old alias, client templates.

mod certificates;
mod client_scopes;
mod clients;
mod evaluate;
mod mappers;
mod scope_mappings;
mod sessions;

use cloakroom::Client;
use cloakroom::generated::models::{ClientRepresentation, RoleRepresentation};
use serde_json::Value;

use crate::support::kc::{admin, create_realm, delete_realm};

/// A throw-away realm: deleted by [`TestRealm::finish`], or on drop when the test panicked.
pub struct TestRealm {
    pub name: String,
    done: bool,
}

impl TestRealm {
    pub async fn new(kc: &Client, prefix: &str, rep: Value) -> Self {
        let name = create_realm(kc, prefix, rep).await;
        Self { name, done: false }
    }

    pub async fn finish(mut self, kc: &Client) {
        delete_realm(kc, &self.name).await;
        self.done = true;
    }
}

impl Drop for TestRealm {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let realm = self.name.clone();
        // A fresh thread and runtime: the test's runtime may be unwinding.
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

/// Creates a client through the typed API and returns its id (the UUID).
pub async fn create_client(kc: &Client, realm: &str, rep: ClientRepresentation) -> String {
    kc.realm(realm).clients().create(&rep).send().await.unwrap()
}

/// A confidential OpenID Connect client with a known secret.
pub fn confidential(client_id: &str, secret: &str) -> ClientRepresentation {
    ClientRepresentation {
        client_id: Some(client_id.into()),
        enabled: Some(true),
        protocol: Some("openid-connect".into()),
        public_client: Some(false),
        secret: Some(secret.into()),
        service_accounts_enabled: Some(true),
        direct_access_grants_enabled: Some(true),
        standard_flow_enabled: Some(true),
        redirect_uris: Some(vec!["https://app.example.com/*".into()]),
        ..Default::default()
    }
}

/// The names of `roles`, sorted.
pub fn names(roles: &[RoleRepresentation]) -> Vec<String> {
    let mut v: Vec<String> = roles.iter().filter_map(|r| r.name.clone()).collect();
    v.sort();
    v
}
