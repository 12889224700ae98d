//! The hand-written Admin API layer on top of the generated operations: navigation
//! (`kc.realm("acme").users()`), all-pages streams, lookups by natural key, race-safe
//! create-if-absent and safe partial updates.

mod ergonomic;
mod navigation;
mod pages;

pub use ergonomic::{Ensured, merge_patch, optional};
pub use pages::{DEFAULT_PAGE_SIZE, Pages, collect_all, pages};
