//! `Debug` of the generated models never shows a secret (the generated unit test covers every
//! `[secrets]` entry of names.toml; this one uses the shapes a user really writes), while
//! serialization still sends every value.

use cloakroom::generated::models::{
    ClientRepresentation, ComponentRepresentation, CredentialRepresentation,
    IdentityProviderRepresentation, RealmRepresentation, UserRepresentation,
};
use serde_json::json;

const SECRET: &str = "Zk9-unmistakable-secret";

fn assert_hidden(what: &str, shown: String) {
    assert!(!shown.contains(SECRET), "{what} shows the secret: {shown}");
    assert!(shown.contains("[redacted]"), "{what}: {shown}");
}

#[test]
fn debug_of_models_with_secrets_shows_none() {
    let ldap: ComponentRepresentation = serde_json::from_value(json!({
        "name": "ldap", "providerId": "ldap",
        "providerType": "org.keycloak.storage.UserStorageProvider",
        "config": {"bindDn": ["cn=admin,dc=example,dc=org"], "bindCredential": [SECRET],
                   "connectionUrl": ["ldap://127.0.0.1:1389"]}
    }))
    .unwrap();
    let shown = format!("{ldap:?}");
    assert_hidden("LDAP component", shown.clone());
    assert!(
        shown.contains("ldap://127.0.0.1:1389"),
        "other keys stay: {shown}"
    );
    assert_eq!(
        serde_json::to_value(&ldap).unwrap()["config"]["bindCredential"][0],
        SECRET,
        "serialization is unchanged"
    );

    let user = UserRepresentation {
        username: Some("alice".into()),
        credentials: Some(vec![CredentialRepresentation {
            r#type: Some("password".into()),
            value: Some(SECRET.into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let client = ClientRepresentation {
        client_id: Some("svc".into()),
        secret: Some(SECRET.into()),
        attributes: Some([("client.secret.rotated".to_owned(), SECRET.to_owned())].into()),
        ..Default::default()
    };
    let idp = IdentityProviderRepresentation {
        alias: Some("github".into()),
        config: Some([("clientSecret".to_owned(), SECRET.to_owned())].into()),
        ..Default::default()
    };
    let realm = RealmRepresentation {
        realm: Some("r".into()),
        smtp_server: Some([("password".to_owned(), SECRET.to_owned())].into()),
        users: Some(vec![user.clone()]),
        clients: Some(vec![client.clone()]),
        identity_providers: Some(vec![idp.clone()]),
        ..Default::default()
    };
    for (what, shown) in [
        ("user", format!("{user:?}")),
        ("client", format!("{client:#?}")),
        ("identity provider", format!("{idp:?}")),
        ("realm", format!("{realm:?}")),
        ("realm (pretty)", format!("{realm:#?}")),
    ] {
        assert_hidden(what, shown);
    }
    assert!(serde_json::to_string(&realm).unwrap().contains(SECRET));
}
