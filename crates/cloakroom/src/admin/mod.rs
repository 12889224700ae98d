//! The hand-written Admin API layer on top of the generated operations: navigation
//! (`kc.realm("acme").users()`), all-pages streams, lookups by natural key, race-safe
//! create-if-absent and safe partial updates.
//!
//! The everyday chores, each one call chain. The example compiles as a doctest; each chore is
//! also exercised against the real server in `tests/it`.
//!
//! ```no_run
//! # async fn chores() -> cloakroom::Result<()> {
//! use cloakroom::generated::models::{
//!     ClientRepresentation, CredentialRepresentation, GroupRepresentation, RealmRepresentation,
//!     RoleRepresentation, UserRepresentation,
//! };
//! use cloakroom::{Client, Credentials};
//! use futures_util::TryStreamExt;
//!
//! let kc = Client::builder("http://127.0.0.1:8080")
//!     .credentials(Credentials::password("admin", "admin"))
//!     .build()?;
//!
//! // Create a realm (safe to repeat: `ensure` returns the existing one).
//! kc.realms()
//!     .ensure(&RealmRepresentation {
//!         realm: Some("acme".into()),
//!         enabled: Some(true),
//!         ..Default::default()
//!     })
//!     .await?;
//! let acme = kc.realm("acme");
//!
//! // Create a user with a password; the id comes back from the Location header.
//! let id = acme
//!     .users()
//!     .create(&UserRepresentation {
//!         username: Some("ada".into()),
//!         enabled: Some(true),
//!         email: Some("ada@example.com".into()),
//!         credentials: Some(vec![CredentialRepresentation {
//!             r#type: Some("password".into()),
//!             value: Some("correct horse".into()),
//!             temporary: Some(false),
//!             ..Default::default()
//!         }]),
//!         ..Default::default()
//!     })
//!     .send()
//!     .await?;
//!
//! // Assign a realm role.
//! acme.roles()
//!     .ensure(&RoleRepresentation { name: Some("auditor".into()), ..Default::default() })
//!     .await?;
//! let auditor = acme.role("auditor").get().send().await?;
//! acme.user(&id).role_mappings_realm_add(&[auditor]).send().await?;
//!
//! // Create a confidential client and read its secret.
//! let client = acme
//!     .clients()
//!     .ensure(&ClientRepresentation {
//!         client_id: Some("billing".into()),
//!         public_client: Some(false),
//!         service_accounts_enabled: Some(true),
//!         ..Default::default()
//!     })
//!     .await?;
//! let secret = acme.client(&client.id).client_secret().send().await?;
//! println!("billing's secret: {}", secret.value.unwrap_or_default());
//!
//! // Add the user to a group (created along its path if missing).
//! let group = acme.ensure_group_path("/eng/platform").await?;
//! acme.user(&id).join_group(&group.id).send().await?;
//! let members = acme.group(&group.id).members().send().await?;
//!
//! // Export every user, page by page (not just Keycloak's default 100).
//! let mut users = acme.users().list().brief_representation(false).stream();
//! while let Some(user) = users.try_next().await? {
//!     println!("{}", serde_json::to_string(&user).unwrap_or_default());
//! }
//! # let _ = (members, GroupRepresentation::default());
//! # Ok(()) }
//! ```

mod chores;
mod constructors;
mod ergonomic;
mod navigation;
mod operation;
mod pages;

pub use ergonomic::{Ensured, merge_patch, optional};
pub use operation::{OperationCall, find_operation};
pub use pages::{DEFAULT_PAGE_SIZE, Pages, collect_all, pages};
