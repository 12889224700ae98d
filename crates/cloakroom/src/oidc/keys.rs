//! The realm's public keys as Keycloak publishes them: the JWKS (for verifiers of one's own)
//! and the realm's PEM public key. [`JwtVerifier`](crate::oidc::JwtVerifier) fetches and
//! caches keys by itself; these are for callers who need the keys as such.

use serde::{Deserialize, Serialize};

use super::Oidc;
use crate::error::{Error, Result};
use crate::request::Method;

const T_CERTS: &str = "/realms/{realm}/protocol/openid-connect/certs";
const T_REALM_INFO: &str = "/realms/{realm}";

/// A JSON Web Key Set (RFC 7517).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JsonWebKeySet {
    /// The keys, in the order the server listed them.
    #[serde(default)]
    pub keys: Vec<JsonWebKey>,
}

/// One public key of a [`JsonWebKeySet`]. Fields this version does not know are kept in
/// `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JsonWebKey {
    /// Key id: the `kid` in a token's header names this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Key type: `RSA`, `EC` or `OKP`.
    #[serde(default)]
    pub kty: String,
    /// Algorithm, e.g. `RS256`, `ES256`, `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig` or `enc`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Every other member (`n`, `e`, `crv`, `x`, `y`, `x5c`, `x5t`…).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct RealmInfo {
    public_key: Option<String>,
}

impl Oidc {
    /// The realm's signing keys (`…/protocol/openid-connect/certs`), fetched now.
    pub async fn jwks(&self) -> Result<JsonWebKeySet> {
        let req = self.public_request(Method::Get, "/protocol/openid-connect/certs", T_CERTS);
        self.http_client().send(req).await?.json()
    }

    /// The realm's RSA public key as PEM (`-----BEGIN PUBLIC KEY-----…`), from the realm's
    /// public information document. Prefer [`jwks`](Self::jwks) or a verifier: a realm can have
    /// several keys, and this is only the active RSA one.
    pub async fn realm_public_key_pem(&self) -> Result<String> {
        let req = self.public_request(Method::Get, "", T_REALM_INFO);
        let info: RealmInfo = self.http_client().send(req).await?.json()?;
        let body = info
            .public_key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::not_found("realm public key of", self.realm().to_owned()))?;
        Ok(pem_wrap(&body))
    }
}

/// Wraps base64 DER in PEM armour, 64 characters a line.
fn pem_wrap(base64_der: &str) -> String {
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    let bytes = base64_der.as_bytes();
    for line in bytes.chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_lines_are_64_characters() {
        let pem = pem_wrap(&"A".repeat(130));
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 64);
        assert_eq!(lines[3].len(), 2);
        assert_eq!(lines[4], "-----END PUBLIC KEY-----");
    }

    #[test]
    fn jwk_keeps_unknown_members() {
        let k: JsonWebKey = serde_json::from_str(
            r#"{"kid":"k1","kty":"RSA","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}"#,
        )
        .unwrap();
        assert_eq!(k.use_.as_deref(), Some("sig"));
        assert_eq!(k.extra["n"], "AQAB");
    }
}
