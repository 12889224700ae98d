//! Typed token claims with Keycloak's role helpers.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

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
/// in [`raw`](Self::raw) (decoded on first use: verification reads only the typed ones).
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
    raw: RawClaims,
}

/// Every claim as a JSON object, decoded from the payload the first time it is asked for.
#[derive(Clone, Default)]
struct RawClaims {
    payload: Option<Vec<u8>>,
    map: OnceLock<Map<String, Value>>,
}

impl RawClaims {
    fn get(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| {
            self.payload
                .as_deref()
                // Already parsed once as a JSON object when the claims were made.
                .and_then(|p| serde_json::from_slice(p).ok())
                .unwrap_or_default()
        })
    }
}

impl PartialEq for RawClaims {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for RawClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// `aud`: one string or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
}

/// The claims [`Claims`] types, read straight from the payload (strings borrowed where the JSON
/// has no escapes); everything else is skipped without being built.
#[derive(Deserialize)]
struct Registered<'a> {
    #[serde(borrow)]
    iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sub: Option<Cow<'a, str>>,
    #[serde(borrow)]
    aud: Option<Audience<'a>>,
    #[serde(borrow)]
    azp: Option<Cow<'a, str>>,
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    #[serde(borrow)]
    jti: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    scope: Option<Cow<'a, str>>,
    #[serde(borrow)]
    nonce: Option<Cow<'a, str>>,
    #[serde(borrow)]
    preferred_username: Option<Cow<'a, str>>,
    #[serde(borrow)]
    email: Option<Cow<'a, str>>,
    realm_access: Option<Access>,
    resource_access: Option<BTreeMap<String, Access>>,
}

fn text(v: Option<Cow<'_, str>>) -> Option<String> {
    v.map(Cow::into_owned)
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
            raw: RawClaims {
                payload: None,
                map: OnceLock::from(raw),
            },
        }
    }

    /// Claims from a JWT payload (the JSON bytes): the typed claims are read without building
    /// the whole object, which [`raw`](Self::raw) decodes later if asked. Fails unless the payload
    /// is one JSON object with no repeated registered claim.
    pub(crate) fn from_payload(payload: Vec<u8>) -> Result<Self, serde_json::Error> {
        use serde::de::Error as _;
        let first = payload.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(serde_json::Error::custom("not a JSON object"));
        }
        // A string claim of another JSON type (a number `sub`, say) reads as absent, as in
        // `from_map`: retry on the slow path instead of rejecting the token.
        let r: Registered<'_> = match serde_json::from_slice(&payload) {
            Ok(r) => r,
            Err(e) if e.is_data() => {
                let map: Map<String, Value> = serde_json::from_slice(&payload)?;
                return Ok(Self::from_map(map));
            }
            Err(e) => return Err(e),
        };
        let aud = match r.aud {
            Some(Audience::One(a)) => vec![a.into_owned()],
            Some(Audience::Many(items)) => items.into_iter().map(Cow::into_owned).collect(),
            _ => Vec::new(),
        };
        Ok(Claims {
            iss: text(r.iss),
            sub: text(r.sub),
            aud,
            azp: text(r.azp),
            exp: num(r.exp.as_ref()),
            nbf: num(r.nbf.as_ref()),
            iat: num(r.iat.as_ref()),
            jti: text(r.jti),
            typ: text(r.typ),
            sid: text(r.sid),
            scope: text(r.scope),
            nonce: text(r.nonce),
            preferred_username: text(r.preferred_username),
            email: text(r.email),
            realm_access: r.realm_access,
            resource_access: r.resource_access.unwrap_or_default(),
            raw: RawClaims {
                payload: Some(payload),
                map: OnceLock::new(),
            },
        })
    }

    /// Every claim, as sent.
    pub fn raw(&self) -> &Map<String, Value> {
        self.raw.get()
    }

    /// Every claim, as sent, by value.
    pub fn into_raw(self) -> Map<String, Value> {
        self.raw.get();
        self.raw.map.into_inner().unwrap_or_default()
    }

    /// A claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.raw.get().get(name)
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
        if let Some(p) = &self.raw.payload {
            return serde_json::from_slice(p).map_err(|e| {
                crate::Error::invalid_input(format!("claims do not fit the type: {e}"))
            });
        }
        serde_json::from_value(Value::Object(self.raw.get().clone()))
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

    #[test]
    fn payload_fast_path_equals_the_map_path() {
        let payloads = [
            r#"{"iss":"https://kc/realms/a","sub":"u1","aud":"account","exp":1700000000,"iat":1.7e9,
                "realm_access":{"roles":["r1","r\u00e9"]},"resource_access":{"app":{"roles":["x"]}},
                "scope":"openid email","preferred_username":"b\"ob","custom":{"deep":[1,2,{"a":null}]}}"#,
            r#"{"aud":["a","b"],"azp":"a","nonce":"n","typ":"ID","sid":"s","jti":"j","email":"e@x"}"#,
            // Wrong types read as absent, as the map path does.
            r#"{"sub":42,"aud":7,"exp":"soon","realm_access":"no","resource_access":[1]}"#,
            // A repeated claim: the last one counts.
            r#"{"sub":"first","sub":"second"}"#,
            "  {}  ",
        ];
        for p in payloads {
            let map: Map<String, Value> = serde_json::from_str(p).unwrap();
            let slow = Claims::from_map(map.clone());
            let fast = Claims::from_payload(p.as_bytes().to_vec()).unwrap();
            assert_eq!(fast, slow, "{p}");
            assert_eq!(fast.raw(), &map, "{p}");
            assert_eq!(fast.clone().into_raw(), map, "{p}");
        }
        assert_eq!(
            Claims::from_payload(br#"{"sub":"second"}"#.to_vec())
                .unwrap()
                .sub
                .as_deref(),
            Some("second")
        );
        for bad in ["[1,2]", "\"s\"", "{", "", "{\"a\":1} x", "null"] {
            assert!(
                Claims::from_payload(bad.as_bytes().to_vec()).is_err(),
                "{bad}"
            );
        }
    }
}
