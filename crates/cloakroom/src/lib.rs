//! cloakroom: a complete, typed Keycloak client.
//!
//! - [`Client`]: one cheap-to-clone handle with a connection pool and a token manager that
//!   refreshes ahead of expiry, once for any number of concurrent callers.
//! - The Admin REST API, every operation of Keycloak's OpenAPI document (`generated`), with an
//!   ergonomic layer on top (`kc.realm("acme").users()…`).
//! - Code that holds paths rather than handles: [`Client::operation`] runs the catalogued
//!   operation a concrete path names, and refuses a path the catalog does not have.
//! - Errors carry Keycloak's own message, field and parameters ([`Error`]).
//! - Secrets never appear in `Debug`, `Display`, errors or logs ([`Secret`]).
//!
//! ```no_run
//! # async fn demo() -> cloakroom::Result<()> {
//! use cloakroom::generated::models::{ClientRepresentation, UserRepresentation};
//! use cloakroom::{Client, Credentials};
//! use futures_util::TryStreamExt;
//!
//! let kc = Client::builder("http://127.0.0.1:8080")
//!     .credentials(Credentials::password("admin", "admin"))
//!     .build()?;
//! let acme = kc.realm("acme");
//! let ada = UserRepresentation::new("ada").with_password("correct horse", false);
//! let id = acme.users().create(&ada).send().await?;
//! acme.user(&id).add_realm_roles(["auditor"]).await?;
//! acme.clients().ensure(&ClientRepresentation::confidential("billing")).await?;
//! let everyone: Vec<_> = acme.users().list().stream().try_collect().await?;
//! // Paths no typed call covers: the raw layer, same auth, retries and errors.
//! let workflows: serde_json::Value = kc.raw().get("/admin/realms/acme/workflows").send_json().await?;
//! # let _ = (everyone, workflows);
//! # Ok(()) }
//! ```
//!
//! The everyday chores, one function each, are in `examples/chores.rs`.

pub mod admin;
pub mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod clock;
pub mod error;
pub mod generated;
mod jose;
pub mod oidc;
mod raw;
pub mod request;
pub mod retry;
mod secret;
mod served;
pub mod server_version;
mod transport;
pub mod uma;

pub use auth::{ClientAuth, Credentials, Otp, TokenProvider, TokenSet, TokenStats};
pub use client::{Client, ClientBuilder};
pub use clock::Clock;
pub use error::{Error, Result};
pub use jose::SigningKey;
pub use oidc::{JwtVerifier, Oidc, OidcClient};
pub use raw::{Raw, RawCall};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use transport::{Exchange, Observer};
