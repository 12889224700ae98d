//! Identity providers: a second realm on the same server is the OIDC (and SAML) provider of
//! the first. Lifecycle, import from discovery, mappers, export, keys, permissions and
//! certificate upload.

use std::collections::BTreeMap;

use cloakroom::generated::models::{
    IdentityProviderMapperRepresentation, IdentityProviderRepresentation,
    ManagementPermissionReference,
};
use serde_json::{Value, json};

use super::realm_with;
use crate::support::kc::{admin, delete_realm, unique};
use crate::support::server::test_server;

fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An OIDC provider pointing at `upstream`, a realm of the same server.
fn oidc_provider(alias: &str, upstream: &str) -> IdentityProviderRepresentation {
    let base = format!(
        "{}/realms/{upstream}/protocol/openid-connect",
        test_server().url
    );
    IdentityProviderRepresentation {
        alias: Some(alias.into()),
        display_name: Some("Upstream realm".into()),
        provider_id: Some("oidc".into()),
        enabled: Some(true),
        trust_email: Some(true),
        store_token: Some(false),
        first_broker_login_flow_alias: Some("first broker login".into()),
        config: Some(config(&[
            ("clientId", "downstream"),
            ("clientSecret", "broker-secret"),
            ("clientAuthMethod", "client_secret_post"),
            ("authorizationUrl", &format!("{base}/auth")),
            ("tokenUrl", &format!("{base}/token")),
            ("userInfoUrl", &format!("{base}/userinfo")),
            (
                "issuer",
                &format!("{}/realms/{upstream}", test_server().url),
            ),
            ("useJwksUrl", "true"),
            ("jwksUrl", &format!("{base}/certs")),
            ("validateSignature", "true"),
            ("defaultScope", "openid email profile"),
            ("syncMode", "IMPORT"),
        ])),
        ..Default::default()
    }
}

#[tokio::test]
async fn identity_provider_lifecycle_with_another_realm_as_provider() {
    let kc = admin();
    let upstream = realm_with(&kc, "idpup", json!({})).await;
    kc.raw()
        .post(format!("/admin/realms/{upstream}/clients"))
        .json(
            &json!({"clientId": "downstream", "secret": "broker-secret", "publicClient": false,
            "redirectUris": ["*"]}),
        )
        .send()
        .await
        .unwrap();
    let realm = realm_with(&kc, "idpdown", json!({})).await;
    let r = kc.realm(&realm);

    // The provider type and what Keycloak reads from the upstream's discovery document.
    let oidc_type = r
        .identity_providers()
        .provider_type("oidc")
        .send()
        .await
        .unwrap();
    assert_eq!(oidc_type["id"], "oidc", "{oidc_type}");
    let discovery = format!(
        "{}/realms/{upstream}/.well-known/openid-configuration",
        test_server().url
    );
    let imported = r
        .identity_providers()
        .import_config(&BTreeMap::from([
            ("providerId".to_owned(), Value::from("oidc")),
            ("fromUrl".to_owned(), Value::from(discovery)),
        ]))
        .send()
        .await
        .unwrap();
    let issuer = format!("{}/realms/{upstream}", test_server().url);
    assert_eq!(imported.get("issuer"), Some(&issuer), "{imported:?}");
    assert!(imported["tokenUrl"].ends_with("/protocol/openid-connect/token"));
    assert!(imported["jwksUrl"].ends_with("/protocol/openid-connect/certs"));

    let alias = unique("upstream");
    let created = r
        .identity_providers()
        .create(&oidc_provider(&alias, &upstream))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created, alias,
        "the Location of a new provider ends with its alias"
    );
    let listed = r
        .identity_providers()
        .list()
        .search(alias.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].alias.as_deref(), Some(alias.as_str()));
    let all = r
        .identity_providers()
        .list()
        .realm_only(true)
        .send()
        .await
        .unwrap();
    assert!(
        all.iter()
            .any(|p| p.alias.as_deref() == Some(alias.as_str()))
    );

    let p = r.identity_provider(&alias);
    let mut got = p.get().send().await.unwrap();
    assert_eq!(got.provider_id.as_deref(), Some("oidc"));
    assert_eq!(got.config.as_ref().unwrap()["issuer"], issuer);
    got.display_name = Some("Upstream (renamed)".into());
    got.hide_on_login = Some(true);
    p.update(&got).send().await.unwrap();
    let again = p.get().send().await.unwrap();
    assert_eq!(again.display_name.as_deref(), Some("Upstream (renamed)"));
    assert_eq!(again.hide_on_login, Some(true));

    // The keys come from the upstream realm's JWKS endpoint.
    assert!(
        p.reload_keys().send().await.unwrap(),
        "the OIDC provider reloads its JWKS"
    );

    // Mappers.
    let types = p.mapper_types().send().await.unwrap();
    assert!(
        types.contains_key("oidc-user-attribute-idp-mapper"),
        "{:?}",
        types.keys()
    );
    assert!(types["hardcoded-attribute-idp-mapper"].properties.is_some());
    let mapper_id = p
        .create_mapper(&IdentityProviderMapperRepresentation {
            name: Some("department".into()),
            identity_provider_alias: Some(alias.clone()),
            identity_provider_mapper: Some("oidc-user-attribute-idp-mapper".into()),
            config: Some(config(&[
                ("claim", "department"),
                ("user.attribute", "department"),
                ("syncMode", "INHERIT"),
            ])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let mappers = p.mappers().send().await.unwrap();
    assert_eq!(mappers.len(), 1);
    assert_eq!(mappers[0].id.as_deref(), Some(mapper_id.as_str()));
    let m = p.mapper(&mapper_id);
    let mut mapper = m.send().await.unwrap();
    assert_eq!(mapper.config.as_ref().unwrap()["claim"], "department");
    mapper
        .config
        .as_mut()
        .unwrap()
        .insert("claim".into(), "dept".into());
    p.update_mapper(&mapper_id, &mapper).send().await.unwrap();
    assert_eq!(
        p.mapper(&mapper_id).send().await.unwrap().config.unwrap()["claim"],
        "dept"
    );
    p.delete_mapper(&mapper_id).send().await.unwrap();
    assert!(p.mappers().send().await.unwrap().is_empty());
    assert!(
        p.mapper(&mapper_id)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );

    p.delete().send().await.unwrap();
    assert!(p.get().send().await.unwrap_err().is_not_found());
    delete_realm(&kc, &realm).await;
    delete_realm(&kc, &upstream).await;
}

#[tokio::test]
async fn saml_identity_provider_exports_its_metadata() {
    let kc = admin();
    let upstream = realm_with(&kc, "samlup", json!({})).await;
    let realm = realm_with(&kc, "samldown", json!({})).await;
    let r = kc.realm(&realm);
    let alias = unique("saml");
    let sso = format!("{}/realms/{upstream}/protocol/saml", test_server().url);
    r.identity_providers()
        .create(&IdentityProviderRepresentation {
            alias: Some(alias.clone()),
            provider_id: Some("saml".into()),
            enabled: Some(true),
            config: Some(config(&[
                ("singleSignOnServiceUrl", &sso),
                ("singleLogoutServiceUrl", &sso),
                (
                    "idpEntityId",
                    &format!("{}/realms/{upstream}", test_server().url),
                ),
                ("entityId", "urn:cloakroom:sp"),
                (
                    "nameIDPolicyFormat",
                    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                ),
                ("postBindingResponse", "true"),
                ("postBindingAuthnRequest", "true"),
                ("wantAuthnRequestsSigned", "false"),
            ])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();

    let xml = r.identity_provider(&alias).export().send().await.unwrap();
    assert!(xml.contains("EntityDescriptor"), "{xml}");
    assert!(
        xml.contains("urn:cloakroom:sp"),
        "the SP entity id is exported: {xml}"
    );
    assert!(xml.contains(&format!("/broker/{alias}/endpoint")), "{xml}");
    delete_realm(&kc, &realm).await;
    delete_realm(&kc, &upstream).await;
}

#[tokio::test]
async fn identity_provider_management_permissions() {
    let kc = admin();
    let upstream = unique("permup");
    let realm = realm_with(&kc, "idpperm", json!({})).await;
    let r = kc.realm(&realm);
    let alias = unique("guarded");
    r.identity_providers()
        .create(&oidc_provider(&alias, &upstream))
        .send()
        .await
        .unwrap();
    let p = r.identity_provider(&alias);
    let before = p.management_permissions().send().await.unwrap();
    assert_eq!(before.enabled, Some(false), "{before:?}");
    let on = p
        .update_management_permissions(&ManagementPermissionReference {
            enabled: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(on.enabled, Some(true));
    assert!(on.resource.is_some(), "{on:?}");
    assert!(
        on.scope_permissions
            .as_ref()
            .unwrap()
            .contains_key("token-exchange"),
        "{on:?}"
    );
    let now = p.management_permissions().send().await.unwrap();
    assert_eq!(now, on);
    let off = p
        .update_management_permissions(&ManagementPermissionReference {
            enabled: Some(false),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(off.enabled, Some(false));
    delete_realm(&kc, &realm).await;
}

/// PEM of the realm's active RS256 certificate (any X.509 certificate would do).
async fn realm_certificate_pem(kc: &cloakroom::Client, realm: &str) -> String {
    let keys = kc.realm(realm).keys().send().await.unwrap();
    let cert = keys
        .keys
        .unwrap()
        .into_iter()
        .find(|k| k.algorithm.as_deref() == Some("RS256") && k.certificate.is_some())
        .and_then(|k| k.certificate)
        .expect("an RS256 certificate");
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in cert.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[tokio::test]
async fn identity_provider_certificate_upload() {
    let kc = admin();
    let realm = realm_with(&kc, "idpcert", json!({})).await;
    let pem = realm_certificate_pem(&kc, &realm).await;
    let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let uploaded = kc
        .realm(&realm)
        .identity_providers()
        .upload_certificate("Certificate PEM", pem.into_bytes())
        .send()
        .await;
    let Some(cert) = crate::support::served::served_or_refused(
        cloakroom::request::Method::Post,
        "/admin/realms/{realm}/identity-provider/upload-certificate",
        uploaded,
    ) else {
        delete_realm(&kc, &realm).await;
        return;
    };
    assert_eq!(
        cert.certificate.as_deref(),
        Some(der_b64.as_str()),
        "{cert:?}"
    );
    delete_realm(&kc, &realm).await;
}
