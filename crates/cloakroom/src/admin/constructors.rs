//! Short constructors for the models people build most often, so a new user, a confidential
//! client or an OIDC identity provider is one expression instead of a struct literal with
//! `Some(..)` and `..Default::default()` on every line. Each returns an ordinary model: change
//! any field afterwards.

use std::collections::BTreeMap;

use crate::generated::models::{
    ClientRepresentation, ClientScopeRepresentation, CredentialRepresentation,
    IdentityProviderRepresentation, ProtocolMapperRepresentation, RealmRepresentation,
    RoleRepresentation, UserRepresentation,
};
use crate::secret::Secret;

impl RealmRepresentation {
    /// An enabled realm with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            realm: Some(name.into()),
            enabled: Some(true),
            ..Default::default()
        }
    }
}

impl UserRepresentation {
    /// An enabled user with this username.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: Some(username.into()),
            enabled: Some(true),
            ..Default::default()
        }
    }

    /// With this email address (marked verified when `verified`).
    pub fn with_email(mut self, email: impl Into<String>, verified: bool) -> Self {
        self.email = Some(email.into());
        self.email_verified = Some(verified);
        self
    }

    /// With this first and last name.
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// With an initial password (set when the user is created).
    pub fn with_password(mut self, password: impl Into<Secret>, temporary: bool) -> Self {
        let credential = CredentialRepresentation::password(password, temporary);
        self.credentials
            .get_or_insert_with(Vec::new)
            .push(credential);
        self
    }

    /// With one more value of the attribute `name`.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let attributes = self.attributes.get_or_insert_with(BTreeMap::new);
        attributes
            .entry(name.into())
            .or_default()
            .push(value.into());
        self
    }
}

impl RoleRepresentation {
    /// A role with this name (realm or client role: where it is created decides).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    /// With this description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl CredentialRepresentation {
    /// A password credential; a `temporary` one must be changed at the next login.
    pub fn password(password: impl Into<Secret>, temporary: bool) -> Self {
        let password: Secret = password.into();
        Self {
            r#type: Some("password".into()),
            value: Some(password.expose_secret().to_owned()),
            temporary: Some(temporary),
            ..Default::default()
        }
    }
}

impl ClientRepresentation {
    /// A confidential OIDC client for a service: client credentials grant (a service account),
    /// no browser login. Keycloak generates the secret unless [`secret`](Self::secret) is set.
    pub fn confidential(client_id: impl Into<String>) -> Self {
        Self {
            client_id: Some(client_id.into()),
            enabled: Some(true),
            protocol: Some("openid-connect".into()),
            public_client: Some(false),
            service_accounts_enabled: Some(true),
            standard_flow_enabled: Some(false),
            direct_access_grants_enabled: Some(false),
            ..Default::default()
        }
    }

    /// A public OIDC client for a browser or native app: authorization code flow (with PKCE
    /// S256 required) to these redirect URIs, no secret.
    pub fn public<S: Into<String>>(
        client_id: impl Into<String>,
        redirect_uris: impl IntoIterator<Item = S>,
    ) -> Self {
        let attributes = BTreeMap::from([("pkce.code.challenge.method".into(), "S256".into())]);
        Self {
            client_id: Some(client_id.into()),
            enabled: Some(true),
            protocol: Some("openid-connect".into()),
            public_client: Some(true),
            standard_flow_enabled: Some(true),
            redirect_uris: Some(redirect_uris.into_iter().map(Into::into).collect()),
            attributes: Some(attributes),
            ..Default::default()
        }
    }

    /// With this client secret instead of a generated one.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into().expose_secret().to_owned());
        self
    }
}

impl ClientScopeRepresentation {
    /// An OpenID Connect client scope, included in the token.
    pub fn openid(name: impl Into<String>) -> Self {
        let attributes = BTreeMap::from([("include.in.token.scope".into(), "true".into())]);
        Self {
            name: Some(name.into()),
            protocol: Some("openid-connect".into()),
            attributes: Some(attributes),
            ..Default::default()
        }
    }

    /// With one more protocol mapper.
    pub fn with_mapper(mut self, mapper: ProtocolMapperRepresentation) -> Self {
        self.protocol_mappers
            .get_or_insert_with(Vec::new)
            .push(mapper);
        self
    }
}

impl ProtocolMapperRepresentation {
    fn oidc(name: String, mapper: &str, config: &[(&str, String)]) -> Self {
        let mut map: BTreeMap<String, String> = config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        for k in [
            "access.token.claim",
            "id.token.claim",
            "userinfo.token.claim",
        ] {
            map.insert(k.into(), "true".into());
        }
        Self {
            name: Some(name),
            protocol: Some("openid-connect".into()),
            protocol_mapper: Some(mapper.into()),
            config: Some(map),
            ..Default::default()
        }
    }

    /// Puts the user attribute `attribute` into the claim `claim` (a string) of the access
    /// token, ID token and userinfo.
    pub fn user_attribute(
        name: impl Into<String>,
        attribute: impl Into<String>,
        claim: impl Into<String>,
    ) -> Self {
        let config = [
            ("user.attribute", attribute.into()),
            ("claim.name", claim.into()),
            ("jsonType.label", "String".to_owned()),
        ];
        Self::oidc(name.into(), "oidc-usermodel-attribute-mapper", &config)
    }

    /// Adds the client `client_id` to the access token's audience (`aud`), so that client may
    /// introspect the token and verifiers for it accept it.
    pub fn audience(name: impl Into<String>, client_id: impl Into<String>) -> Self {
        let config = [("included.client.audience", client_id.into())];
        let mut mapper = Self::oidc(name.into(), "oidc-audience-mapper", &config);
        if let Some(config) = mapper.config.as_mut() {
            config.remove("userinfo.token.claim");
        }
        mapper
    }

    /// Puts the fixed string `value` into the claim `claim`.
    pub fn hardcoded_claim(
        name: impl Into<String>,
        claim: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        let config = [
            ("claim.name", claim.into()),
            ("claim.value", value.into()),
            ("jsonType.label", "String".to_owned()),
        ];
        Self::oidc(name.into(), "oidc-hardcoded-claim-mapper", &config)
    }
}

impl IdentityProviderRepresentation {
    /// An OpenID Connect identity provider that is another Keycloak realm (or any provider
    /// with Keycloak's endpoint layout) at `issuer` (`https://sso.example.com/realms/corp`):
    /// authorization code flow with PKCE, the secret sent in the request body, signatures
    /// checked against the issuer's JWKS.
    pub fn keycloak_oidc(
        alias: impl Into<String>,
        issuer: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        let issuer = issuer.trim_end_matches('/');
        let endpoint = |name: &str| format!("{issuer}/protocol/openid-connect/{name}");
        let client_secret: Secret = client_secret.into();
        let config = BTreeMap::from([
            ("issuer".to_owned(), issuer.to_owned()),
            ("authorizationUrl".into(), endpoint("auth")),
            ("tokenUrl".into(), endpoint("token")),
            ("userInfoUrl".into(), endpoint("userinfo")),
            ("logoutUrl".into(), endpoint("logout")),
            ("jwksUrl".into(), endpoint("certs")),
            ("useJwksUrl".into(), "true".into()),
            ("validateSignature".into(), "true".into()),
            ("pkceEnabled".into(), "true".into()),
            ("pkceMethod".into(), "S256".into()),
            ("clientAuthMethod".into(), "client_secret_post".into()),
            ("clientId".into(), client_id.into()),
            (
                "clientSecret".into(),
                client_secret.expose_secret().to_owned(),
            ),
            ("syncMode".into(), "IMPORT".into()),
        ]);
        Self {
            alias: Some(alias.into()),
            provider_id: Some("oidc".into()),
            enabled: Some(true),
            config: Some(config),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_constructor_sets_what_it_says() {
        let u = UserRepresentation::new("ada")
            .with_email("ada@example.com", true)
            .with_name("Ada", "Lovelace")
            .with_password("pw", true)
            .with_attribute("team", "sre")
            .with_attribute("team", "ops");
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["username"], "ada");
        assert_eq!(v["enabled"], true);
        assert_eq!(v["emailVerified"], true);
        assert_eq!(v["credentials"][0]["type"], "password");
        assert_eq!(v["credentials"][0]["value"], "pw");
        assert_eq!(v["credentials"][0]["temporary"], true);
        assert_eq!(v["attributes"]["team"], serde_json::json!(["sre", "ops"]));
    }

    #[test]
    fn idp_endpoints_follow_the_issuer() {
        let idp = IdentityProviderRepresentation::keycloak_oidc(
            "corp",
            "https://sso.example.com/realms/corp/",
            "app",
            "s",
        );
        let config = idp.config.unwrap();
        assert_eq!(
            config["tokenUrl"],
            "https://sso.example.com/realms/corp/protocol/openid-connect/token"
        );
        assert_eq!(config["issuer"], "https://sso.example.com/realms/corp");
    }
}
