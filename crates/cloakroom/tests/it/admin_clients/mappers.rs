//! Protocol mappers of a client, a client scope and a client template (the same scope under
//! its old name): add several, list, create one, get, update, list by protocol, delete.

use std::collections::BTreeMap;

use cloakroom::generated::models::{ClientScopeRepresentation, ProtocolMapperRepresentation};
use serde_json::json;

use super::{TestRealm, confidential, create_client};
use crate::support::kc::admin;

fn attribute_mapper(name: &str, attribute: &str, claim: &str) -> ProtocolMapperRepresentation {
    ProtocolMapperRepresentation {
        name: Some(name.into()),
        protocol: Some("openid-connect".into()),
        protocol_mapper: Some("oidc-usermodel-attribute-mapper".into()),
        config: Some(BTreeMap::from([
            ("user.attribute".into(), attribute.into()),
            ("claim.name".into(), claim.into()),
            ("jsonType.label".into(), "String".into()),
            ("access.token.claim".into(), "true".into()),
            ("id.token.claim".into(), "false".into()),
            ("userinfo.token.claim".into(), "true".into()),
        ])),
        ..Default::default()
    }
}

fn saml_mapper(name: &str) -> ProtocolMapperRepresentation {
    ProtocolMapperRepresentation {
        name: Some(name.into()),
        protocol: Some("saml".into()),
        protocol_mapper: Some("saml-user-property-mapper".into()),
        config: Some(BTreeMap::from([
            ("user.attribute".into(), "email".into()),
            ("attribute.name".into(), "email".into()),
            ("attribute.nameformat".into(), "Basic".into()),
        ])),
        ..Default::default()
    }
}

/// The whole mapper lifecycle on any handle with the protocol-mapper operations.
macro_rules! mapper_lifecycle {
    ($h:expr, $protocol:expr, $mapper:expr) => {{
        let h = $h;
        let names = |ms: &[ProtocolMapperRepresentation]| {
            let mut v: Vec<String> = ms.iter().filter_map(|m| m.name.clone()).collect();
            v.sort();
            v
        };
        let before = h.protocol_mappers().send().await.unwrap();

        // Several at once.
        h.add_protocol_mappers(&[$mapper("department"), $mapper("cost-center")])
            .send()
            .await
            .unwrap();
        let listed = h.protocol_mappers().send().await.unwrap();
        assert_eq!(listed.len(), before.len() + 2);
        let n = names(&listed);
        assert!(
            n.contains(&"department".to_owned()) && n.contains(&"cost-center".to_owned()),
            "{n:?}"
        );

        // One, with its id from Location.
        let id = h
            .create_protocol_mapper(&$mapper("employee-number"))
            .send()
            .await
            .unwrap();
        let got = h.protocol_mapper(&id).send().await.unwrap();
        assert_eq!(got.id.as_deref(), Some(id.as_str()));
        assert_eq!(got.name.as_deref(), Some("employee-number"));
        assert_eq!(got.protocol.as_deref(), Some($protocol));

        let mut changed = got.clone();
        changed
            .config
            .get_or_insert_with(Default::default)
            .insert("user.attribute".into(), "employeeId".into());
        h.update_protocol_mapper(&id, &changed)
            .send()
            .await
            .unwrap();
        let after = h.protocol_mapper(&id).send().await.unwrap();
        assert_eq!(after.config.unwrap()["user.attribute"], "employeeId");

        let by_protocol = h
            .protocol_mappers_by_protocol($protocol)
            .send()
            .await
            .unwrap();
        assert_eq!(
            names(&by_protocol),
            names(&h.protocol_mappers().send().await.unwrap())
        );
        let other = if $protocol == "saml" {
            "openid-connect"
        } else {
            "saml"
        };
        let none = h.protocol_mappers_by_protocol(other).send().await.unwrap();
        assert!(none.iter().all(|m| m.protocol.as_deref() == Some(other)));

        h.delete_protocol_mapper(&id).send().await.unwrap();
        let gone = h.protocol_mapper(&id).send().await.unwrap_err();
        assert!(gone.is_not_found(), "{gone}");
        assert_eq!(
            h.protocol_mappers().send().await.unwrap().len(),
            before.len() + 2
        );
    }};
}

fn user_attribute(name: &str) -> ProtocolMapperRepresentation {
    attribute_mapper(name, name, &name.replace('-', "_"))
}

fn scope(name: &str, protocol: &str) -> ClientScopeRepresentation {
    ClientScopeRepresentation {
        name: Some(name.into()),
        protocol: Some(protocol.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn client_protocol_mappers_lifecycle() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cl-mappers", json!({})).await;
    let id = create_client(&kc, &realm.name, confidential("hr-portal", "hr-secret")).await;
    mapper_lifecycle!(
        kc.realm(&realm.name).client(&id),
        "openid-connect",
        user_attribute
    );
    realm.finish(&kc).await;
}

#[tokio::test]
async fn client_scope_protocol_mappers_lifecycle() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cs-mappers", json!({})).await;
    let r = kc.realm(&realm.name);
    let id = r
        .client_scopes()
        .create(&scope("hr", "openid-connect"))
        .send()
        .await
        .unwrap();
    mapper_lifecycle!(r.client_scope(&id), "openid-connect", user_attribute);
    realm.finish(&kc).await;
}

#[tokio::test]
async fn client_template_protocol_mappers_lifecycle() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "ct-mappers", json!({})).await;
    let r = kc.realm(&realm.name);
    let id = r
        .client_templates()
        .create(&scope("saml-hr", "saml"))
        .send()
        .await
        .unwrap();
    mapper_lifecycle!(r.client_template(&id), "saml", saml_mapper);
    realm.finish(&kc).await;
}
