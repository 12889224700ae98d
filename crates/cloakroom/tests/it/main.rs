//! Integration tests against a real Keycloak 26.7.3 (started by `cargo xtask keycloak start`
//! or `cargo xtask test`). One binary, one module per area.

mod support;

mod admin_authn;
mod admin_authz_types;
mod admin_clients;
mod admin_deprecated;
mod admin_ergonomic;
mod admin_federation;
mod admin_realm;
mod admin_role_mappings_ui;
mod admin_serverinfo;
mod admin_users;
mod admin_v2_clients;
mod chores;
mod core_auth;
mod core_errors;
mod model_secrets;
mod secrets;
mod served_versions;

mod oidc_browser;
mod oidc_device;
mod oidc_endpoints;
mod oidc_exchange;
mod oidc_jwt;
mod oidc_util;
mod uma;
