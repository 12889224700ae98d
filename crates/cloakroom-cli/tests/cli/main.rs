//! CLI tests against a real Keycloak.
//!
//! The server comes from `CLOAKROOM_TEST_URL` (+ `CLOAKROOM_TEST_MGMT_URL`,
//! `CLOAKROOM_TEST_ADMIN_USER`, `CLOAKROOM_TEST_ADMIN_PASSWORD`), else from the harness's state
//! file (`CLOAKROOM_TEST_STATE` or `<repo>/.cache/keycloak/state.json`). Without one every test
//! fails with instructions: nothing is skipped. Each test has its own realm and its own
//! configuration directory, so tests run in parallel.

mod browser;
mod private;
mod support;

mod api;
mod apply_kinds;
mod config;
mod dev;
mod doctor;
mod fault;
mod health;
mod oracle;
mod papercuts;
mod realm;
mod resource;
mod roundtrip;
mod security;
mod token;
mod version;
