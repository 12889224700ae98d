//! The OpenID Provider metadata (`.well-known/openid-configuration`).

use serde::Deserialize;
use serde_json::{Map, Value};

/// A realm's OpenID Provider metadata. Fields Keycloak adds that are not named here are kept in
/// [`extra`](Self::extra).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `iss` of every token of the realm.
    pub issuer: String,
    /// Where browsers are sent to log in.
    pub authorization_endpoint: Option<String>,
    /// The token endpoint.
    pub token_endpoint: Option<String>,
    /// Token introspection (RFC 7662).
    pub introspection_endpoint: Option<String>,
    /// UserInfo.
    pub userinfo_endpoint: Option<String>,
    /// RP-initiated logout.
    pub end_session_endpoint: Option<String>,
    /// The realm's public keys.
    pub jwks_uri: Option<String>,
    /// Dynamic client registration.
    pub registration_endpoint: Option<String>,
    /// Token revocation (RFC 7009).
    pub revocation_endpoint: Option<String>,
    /// Device authorization (RFC 8628).
    pub device_authorization_endpoint: Option<String>,
    /// Pushed authorization requests (RFC 9126).
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Supported grant types.
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    /// Supported response types.
    #[serde(default)]
    pub response_types_supported: Vec<String>,
    /// Supported scopes.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Supported PKCE methods.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// ID token signature algorithms.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Client authentication methods at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Claims the provider can supply.
    #[serde(default)]
    pub claims_supported: Vec<String>,
    /// Everything else Keycloak sent (`mtls_endpoint_aliases`, `check_session_iframe`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
