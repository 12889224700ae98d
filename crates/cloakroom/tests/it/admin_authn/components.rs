//! Components: a key provider's lifecycle, and an LDAP user storage provider's sub-components
//! (created without contacting any LDAP server).

use std::collections::BTreeMap;

use cloakroom::generated::models::ComponentRepresentation;
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};

const KEY_PROVIDER: &str = "org.keycloak.keys.KeyProvider";
const USER_STORAGE: &str = "org.keycloak.storage.UserStorageProvider";
const LDAP_MAPPER: &str = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper";

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
        .collect()
}

#[tokio::test]
async fn key_provider_component_lifecycle() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-comp", json!({})).await;
    let r = kc.realm(&realm);
    let realm_id = r.get().send().await.unwrap().id.unwrap();

    let id = r
        .components()
        .create(&ComponentRepresentation {
            name: Some("rsa-extra".into()),
            provider_id: Some("rsa-generated".into()),
            provider_type: Some(KEY_PROVIDER.into()),
            parent_id: Some(realm_id.clone()),
            config: Some(config(&[
                ("priority", "150"),
                ("keySize", "2048"),
                ("algorithm", "RS256"),
            ])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();

    let listed = r
        .components()
        .list()
        .parent(&realm_id)
        .r#type(KEY_PROVIDER)
        .name("rsa-extra")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id.as_deref(), Some(id.as_str()));
    let all_keys = r
        .components()
        .list()
        .r#type(KEY_PROVIDER)
        .send()
        .await
        .unwrap();
    assert!(
        all_keys.len() > 1,
        "the realm's default key providers are listed too"
    );
    let by_provider = r
        .components()
        .list()
        .provider_id("rsa-generated")
        .send()
        .await
        .unwrap();
    assert!(
        by_provider
            .iter()
            .any(|c| c.id.as_deref() == Some(id.as_str()))
    );

    let component = r.component(&id);
    let mut rep = component.get().send().await.unwrap();
    assert_eq!(rep.provider_id.as_deref(), Some("rsa-generated"));
    assert_eq!(rep.parent_id.as_deref(), Some(realm_id.as_str()));
    assert_eq!(rep.config.as_ref().unwrap()["priority"], ["150"]);
    rep.config
        .as_mut()
        .unwrap()
        .insert("priority".into(), vec!["175".into()]);
    component.update(&rep).send().await.unwrap();
    assert_eq!(
        component.get().send().await.unwrap().config.unwrap()["priority"],
        ["175"]
    );

    component.delete().send().await.unwrap();
    assert!(component.get().send().await.unwrap_err().is_not_found());

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn ldap_provider_sub_components() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-ldap", json!({})).await;
    let r = kc.realm(&realm);
    let realm_id = r.get().send().await.unwrap().id.unwrap();

    // Creating the provider does not connect to the (absent) server.
    let ldap_id = r
        .components()
        .create(&ComponentRepresentation {
            name: Some("corp-ldap".into()),
            provider_id: Some("ldap".into()),
            provider_type: Some(USER_STORAGE.into()),
            parent_id: Some(realm_id),
            config: Some(config(&[
                ("enabled", "false"),
                ("vendor", "other"),
                ("connectionUrl", "ldap://127.0.0.1:1"),
                ("usersDn", "ou=people,dc=example,dc=org"),
                ("bindDn", "cn=admin,dc=example,dc=org"),
                ("bindCredential", "secret"),
                ("authType", "simple"),
                ("usernameLDAPAttribute", "uid"),
                ("rdnLDAPAttribute", "uid"),
                ("uuidLDAPAttribute", "entryUUID"),
                ("userObjectClasses", "inetOrgPerson, organizationalPerson"),
                ("editMode", "READ_ONLY"),
                ("searchScope", "1"),
            ])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();

    // The mapper types an LDAP provider can have.
    let types = r
        .component(&ldap_id)
        .sub_component_types()
        .r#type(LDAP_MAPPER)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = types.iter().filter_map(|t| t.id.as_deref()).collect();
    assert!(ids.contains(&"user-attribute-ldap-mapper"), "{ids:?}");
    assert!(ids.contains(&"group-ldap-mapper"), "{ids:?}");
    let attr = types
        .iter()
        .find(|t| t.id.as_deref() == Some("user-attribute-ldap-mapper"))
        .unwrap();
    assert!(attr.properties.as_ref().is_some_and(|p| !p.is_empty()));

    // The default mappers are its children; add one more.
    let children = r.components().list().parent(&ldap_id).send().await.unwrap();
    assert!(
        children
            .iter()
            .any(|c| c.name.as_deref() == Some("username")),
        "{children:?}"
    );
    let mapper_id = r
        .components()
        .create(&ComponentRepresentation {
            name: Some("phone".into()),
            provider_id: Some("user-attribute-ldap-mapper".into()),
            provider_type: Some(LDAP_MAPPER.into()),
            parent_id: Some(ldap_id.clone()),
            config: Some(config(&[
                ("user.model.attribute", "phone"),
                ("ldap.attribute", "telephoneNumber"),
                ("read.only", "true"),
                ("always.read.value.from.ldap", "false"),
                ("is.mandatory.in.ldap", "false"),
            ])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let children = r
        .components()
        .list()
        .parent(&ldap_id)
        .r#type(LDAP_MAPPER)
        .send()
        .await
        .unwrap();
    assert!(
        children
            .iter()
            .any(|c| c.id.as_deref() == Some(mapper_id.as_str()))
    );

    r.component(&ldap_id).delete().send().await.unwrap();
    assert!(
        r.component(&mapper_id)
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );

    delete_realm(&kc, &realm).await;
}
