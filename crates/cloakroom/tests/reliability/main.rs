//! Reliability against the real Keycloak.
//!
//! - Network faults: a loopback proxy (`proxy.rs`) in front of the harness Keycloak resets
//!   connections, answers 503 or stalls on demand, for `/admin/` requests only (token requests
//!   pass). GET/PUT/DELETE are retried within the budget and have their real effect; POST is
//!   sent once; every failure is a typed error.
//! - Soak (`soak.rs`): mixed reads and writes at concurrency 32 for `CLOAKROOM_SOAK_SECS`
//!   (default 130 s) with 60 s access tokens: no errors, one token request per refresh, sockets,
//!   tasks and memory back to where they were.

#[path = "../it/support/server.rs"]
mod server;

mod faults;
mod proxy;
mod soak;

use cloakroom::{Client, Credentials};

/// An admin client for the harness server, talking to `url` (the server or a proxy before it).
pub fn admin_via(url: &str) -> cloakroom::ClientBuilder {
    let s = server::test_server();
    Client::builder(url).credentials(Credentials::password(
        s.admin_username.clone(),
        s.admin_password.clone(),
    ))
}

/// A unique name for this run.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos & 0xffff
    )
}
