//! Client scopes (and the same resource under its old name, client templates): create, list,
//! get, update, delete; a client's default and optional client scopes.

use std::collections::BTreeMap;

use cloakroom::generated::models::ClientScopeRepresentation;
use serde_json::json;

use super::{TestRealm, confidential, create_client};
use crate::support::kc::admin;

fn scope(name: &str) -> ClientScopeRepresentation {
    ClientScopeRepresentation {
        name: Some(name.into()),
        description: Some(format!("Access to {name}")),
        protocol: Some("openid-connect".into()),
        attributes: Some(BTreeMap::from([
            ("include.in.token.scope".into(), "true".into()),
            ("display.on.consent.screen".into(), "true".into()),
            ("consent.screen.text".into(), format!("Read your {name}")),
        ])),
        ..Default::default()
    }
}

#[tokio::test]
async fn client_scope_create_list_get_update_delete() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cs-crud", json!({})).await;
    let r = kc.realm(&realm.name);

    let id = r
        .client_scopes()
        .create(&scope("invoices"))
        .send()
        .await
        .unwrap();
    let listed = r.client_scopes().list().send().await.unwrap();
    let found = listed
        .iter()
        .find(|s| s.id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert_eq!(found.name.as_deref(), Some("invoices"));
    // The built-in scopes are listed too.
    assert!(listed.iter().any(|s| s.name.as_deref() == Some("profile")));

    let h = r.client_scope(&id);
    let mut got = h.get().send().await.unwrap();
    assert_eq!(got.name.as_deref(), Some("invoices"));
    assert_eq!(got.protocol.as_deref(), Some("openid-connect"));
    assert_eq!(
        got.attributes.as_ref().unwrap()["consent.screen.text"],
        "Read your invoices"
    );

    got.description = Some("Invoices, read-only".into());
    got.attributes
        .as_mut()
        .unwrap()
        .insert("include.in.token.scope".into(), "false".into());
    h.update(&got).send().await.unwrap();
    let after = h.get().send().await.unwrap();
    assert_eq!(after.description.as_deref(), Some("Invoices, read-only"));
    assert_eq!(after.attributes.unwrap()["include.in.token.scope"], "false");

    // A second scope with the same name is a conflict.
    let dup = r
        .client_scopes()
        .create(&scope("invoices"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409), "{dup}");

    h.delete().send().await.unwrap();
    let gone = h.get().send().await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    realm.finish(&kc).await;
}

/// `client-templates` is the old name of `client-scopes`: the same objects under both paths.
#[tokio::test]
async fn client_template_create_list_get_update_delete() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "ct-crud", json!({})).await;
    let r = kc.realm(&realm.name);

    let id = r
        .client_templates()
        .create(&scope("shipments"))
        .send()
        .await
        .unwrap();
    let listed = r.client_templates().list().send().await.unwrap();
    assert!(listed.iter().any(|s| s.id.as_deref() == Some(id.as_str())));
    // The same object is a client scope.
    let as_scope = r.client_scope(&id).get().send().await.unwrap();
    assert_eq!(as_scope.name.as_deref(), Some("shipments"));

    let h = r.client_template(&id);
    let mut got = h.get().send().await.unwrap();
    assert_eq!(got.name.as_deref(), Some("shipments"));
    got.description = Some("Shipments and tracking".into());
    h.update(&got).send().await.unwrap();
    assert_eq!(
        h.get().send().await.unwrap().description.as_deref(),
        Some("Shipments and tracking")
    );
    assert_eq!(
        r.client_scope(&id)
            .get()
            .send()
            .await
            .unwrap()
            .description
            .as_deref(),
        Some("Shipments and tracking")
    );

    h.delete().send().await.unwrap();
    let gone = h.get().send().await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    let listed = r.client_scopes().list().send().await.unwrap();
    assert!(listed.iter().all(|s| s.id.as_deref() != Some(id.as_str())));
    realm.finish(&kc).await;
}

#[tokio::test]
async fn client_default_and_optional_client_scopes() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cl-scopes", json!({})).await;
    let r = kc.realm(&realm.name);
    let invoices = r
        .client_scopes()
        .create(&scope("invoices"))
        .send()
        .await
        .unwrap();
    let archive = r
        .client_scopes()
        .create(&scope("archive"))
        .send()
        .await
        .unwrap();
    let id = create_client(&kc, &realm.name, confidential("accounting", "acc-secret")).await;
    let client = r.client(&id);
    let names = |v: Vec<ClientScopeRepresentation>| {
        let mut n: Vec<String> = v.into_iter().filter_map(|s| s.name).collect();
        n.sort();
        n
    };

    // A new client gets the realm's default scopes.
    let defaults = names(client.default_client_scopes().send().await.unwrap());
    assert!(defaults.contains(&"profile".to_owned()), "{defaults:?}");
    assert!(!defaults.contains(&"invoices".to_owned()));
    let optional = names(client.optional_client_scopes().send().await.unwrap());
    assert!(
        optional.contains(&"offline_access".to_owned()),
        "{optional:?}"
    );

    client
        .add_default_client_scope(&invoices)
        .send()
        .await
        .unwrap();
    client
        .add_optional_client_scope(&archive)
        .send()
        .await
        .unwrap();
    let defaults = names(client.default_client_scopes().send().await.unwrap());
    assert!(defaults.contains(&"invoices".to_owned()), "{defaults:?}");
    assert!(!defaults.contains(&"archive".to_owned()));
    let optional = names(client.optional_client_scopes().send().await.unwrap());
    assert!(optional.contains(&"archive".to_owned()), "{optional:?}");
    let rep = client.get().send().await.unwrap();
    assert!(
        rep.default_client_scopes
            .unwrap()
            .contains(&"invoices".to_owned())
    );
    assert!(
        rep.optional_client_scopes
            .unwrap()
            .contains(&"archive".to_owned())
    );

    client
        .remove_default_client_scope(&invoices)
        .send()
        .await
        .unwrap();
    client
        .remove_optional_client_scope(&archive)
        .send()
        .await
        .unwrap();
    assert!(
        !names(client.default_client_scopes().send().await.unwrap())
            .contains(&"invoices".to_owned())
    );
    assert!(
        !names(client.optional_client_scopes().send().await.unwrap())
            .contains(&"archive".to_owned())
    );
    realm.finish(&kc).await;
}
