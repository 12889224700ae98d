//! cloakroom: a complete, typed Keycloak client.
//!
//! - [`Client`]: one cheap-to-clone handle with a connection pool and a token manager that
//!   refreshes ahead of expiry, once for any number of concurrent callers.
//! - The Admin REST API, every operation of Keycloak's OpenAPI document (`generated`), with an
//!   ergonomic layer on top (`kc.realm("acme").users()…`).
//! - Errors carry Keycloak's own message, field and parameters ([`Error`]).
//! - Secrets never appear in `Debug`, `Display`, errors or logs ([`Secret`]).
//!
//! ```no_run
//! # async fn demo() -> cloakroom::Result<()> {
//! use cloakroom::{Client, Credentials};
//! let kc = Client::builder("http://127.0.0.1:8080")
//!     .credentials(Credentials::password("admin", "admin"))
//!     .build()?;
//! let realms: serde_json::Value = kc.raw().get("/admin/realms").send_json().await?;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
pub mod error;
pub mod generated;
pub mod oidc;
mod raw;
pub mod request;
pub mod retry;
mod secret;
mod served;
pub mod server_version;
pub mod uma;

pub use auth::{ClientAuth, Credentials, Otp, TokenProvider, TokenSet, TokenStats};
pub use client::{Client, ClientBuilder, Exchange, Observer};
pub use error::{Error, Result};
pub use oidc::{JwtVerifier, Oidc, OidcClient, SigningKey};
pub use raw::{Raw, RawCall};
pub use retry::RetryPolicy;
pub use secret::Secret;
