//! Typed token claims with Keycloak's role helpers.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// Roles granted in one scope (`realm_access` or one client of `resource_access`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Access {
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The claims of a JWT: registered claims typed, Keycloak's role claims typed, and every claim
/// in [`raw`](Self::raw).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// Issuer.
    pub iss: Option<String>,
    /// Subject (the user id, or the service account's user id).
    pub sub: Option<String>,
    /// Audiences (a single string in the token becomes one element).
    pub aud: Vec<String>,
    /// Authorized party: the client the token was issued to.
    pub azp: Option<String>,
    /// Expiry (seconds since the epoch).
    pub exp: Option<i64>,
    /// Not before.
    pub nbf: Option<i64>,
    /// Issued at.
    pub iat: Option<i64>,
    /// Token id.
    pub jti: Option<String>,
    /// Keycloak's token type (`Bearer`, `ID`, `Refresh`, `Logout`, …).
    pub typ: Option<String>,
    /// Session id.
    pub sid: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// ID token nonce.
    pub nonce: Option<String>,
    /// The user name.
    pub preferred_username: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Realm roles.
    pub realm_access: Option<Access>,
    /// Client roles, by client id.
    pub resource_access: BTreeMap<String, Access>,
    /// Every claim as sent.
    pub raw: Map<String, Value>,
}

fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

impl Claims {
    /// Reads claims from a JSON object.
    pub fn from_map(raw: Map<String, Value>) -> Self {
        let s = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        let aud = match raw.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        // Deserialize from borrowed values: no copy of the claim trees.
        let realm_access = raw
            .get("realm_access")
            .and_then(|v| Access::deserialize(v).ok());
        let resource_access = raw
            .get("resource_access")
            .and_then(|v| BTreeMap::<String, Access>::deserialize(v).ok())
            .unwrap_or_default();
        Claims {
            iss: s("iss"),
            sub: s("sub"),
            aud,
            azp: s("azp"),
            exp: num(raw.get("exp")),
            nbf: num(raw.get("nbf")),
            iat: num(raw.get("iat")),
            jti: s("jti"),
            typ: s("typ"),
            sid: s("sid"),
            scope: s("scope"),
            nonce: s("nonce"),
            preferred_username: s("preferred_username"),
            email: s("email"),
            realm_access,
            resource_access,
            raw,
        }
    }

    /// A claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.raw.get(name)
    }

    /// Realm roles (empty when the token carries none).
    pub fn realm_roles(&self) -> &[String] {
        self.realm_access.as_ref().map_or(&[], |a| &a.roles)
    }

    /// Roles of one client (empty when the token carries none).
    pub fn client_roles(&self, client_id: &str) -> &[String] {
        self.resource_access
            .get(client_id)
            .map_or(&[], |a| &a.roles)
    }

    /// Whether the token has this realm role.
    pub fn has_realm_role(&self, role: &str) -> bool {
        self.realm_roles().iter().any(|r| r == role)
    }

    /// Whether the token has this role of `client_id`.
    pub fn has_client_role(&self, client_id: &str, role: &str) -> bool {
        self.client_roles(client_id).iter().any(|r| r == role)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or("").split_ascii_whitespace()
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// Decodes the claims into a caller type.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> crate::Result<T> {
        serde_json::from_value(Value::Object(self.raw.clone()))
            .map_err(|e| crate::Error::invalid_input(format!("claims do not fit the type: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_audience() {
        let v = serde_json::json!({
            "aud": "account", "exp": 10.0, "scope": "openid email",
            "realm_access": {"roles": ["admin"]},
            "resource_access": {"app": {"roles": ["reader"]}}
        });
        let c = Claims::from_map(v.as_object().unwrap().clone());
        assert_eq!(c.aud, vec!["account"]);
        assert_eq!(c.exp, Some(10));
        assert!(c.has_realm_role("admin") && !c.has_realm_role("x"));
        assert!(c.has_client_role("app", "reader"));
        assert!(c.client_roles("other").is_empty());
        assert!(c.has_scope("email"));
    }
}
