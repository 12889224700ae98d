//! cloakroom: a complete, typed Keycloak client.

pub mod error;
pub mod generated;
pub mod request;

pub use error::{Error, Result};
