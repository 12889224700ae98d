//! Scope mappings (which roles may go into tokens) of a client, a client scope and a client
//! template: realm roles and another client's roles, available, effective (composite), added
//! and removed.

use cloakroom::generated::models::{
    ClientRepresentation, ClientScopeRepresentation, RoleRepresentation,
};
use serde_json::json;

use super::{TestRealm, create_client, names};
use crate::support::kc::admin;

/// A realm with realm roles `reader` (a composite holding `auditor`) and `writer`, and a client
/// `catalog` with roles `catalog-view` and `catalog-edit`.
fn realm_json() -> serde_json::Value {
    json!({
        "roles": {
            "realm": [
                {"name": "auditor"},
                {"name": "writer"},
                {"name": "reader", "composite": true, "composites": {"realm": ["auditor"]}},
            ],
            "client": {"catalog": [{"name": "catalog-view"}, {"name": "catalog-edit"}]},
        },
        "clients": [{"clientId": "catalog", "publicClient": false, "secret": "catalog-secret"}],
    })
}

async fn role_reps(
    kc: &cloakroom::Client,
    realm: &str,
    catalog: &str,
) -> (RoleRepresentation, RoleRepresentation) {
    let r = kc.realm(realm);
    let reader = r.roles().list().search("reader").send().await.unwrap();
    let view = r
        .client(catalog)
        .roles()
        .list()
        .search("catalog-view")
        .send()
        .await
        .unwrap();
    (reader[0].clone(), view[0].clone())
}

macro_rules! scope_mapping_lifecycle {
    ($h:expr, $realm:expr, $catalog:expr, $reader:expr, $view:expr) => {{
        let h = $h;
        let catalog: &str = $catalog;
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

        // Nothing mapped yet.
        assert!(h.scope_mappings_realm().send().await.unwrap().is_empty());
        assert!(
            h.scope_mappings_client(catalog)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        let available = names(&h.scope_mappings_realm_available().send().await.unwrap());
        assert!(
            available.contains(&"reader".to_owned()) && available.contains(&"writer".to_owned()),
            "{available:?}"
        );
        let available = names(
            &h.scope_mappings_client_available(catalog)
                .send()
                .await
                .unwrap(),
        );
        assert_eq!(available, s(&["catalog-edit", "catalog-view"]));

        // Realm role: mapped, no longer available, effective with its composite.
        h.scope_mappings_realm_add(std::slice::from_ref(&$reader))
            .send()
            .await
            .unwrap();
        assert_eq!(
            names(&h.scope_mappings_realm().send().await.unwrap()),
            s(&["reader"])
        );
        let available = names(&h.scope_mappings_realm_available().send().await.unwrap());
        assert!(!available.contains(&"reader".to_owned()), "{available:?}");
        let effective = names(&h.scope_mappings_realm_composite().send().await.unwrap());
        assert!(
            effective.contains(&"reader".to_owned()) && effective.contains(&"auditor".to_owned()),
            "{effective:?}"
        );
        assert!(!effective.contains(&"writer".to_owned()), "{effective:?}");
        let brief = h
            .scope_mappings_realm_composite()
            .brief_representation(false)
            .send()
            .await
            .unwrap();
        let reader_full = brief
            .iter()
            .find(|r| r.name.as_deref() == Some("reader"))
            .unwrap();
        assert_eq!(reader_full.composite, Some(true));

        // Client role of `catalog`.
        h.scope_mappings_client_add(catalog, std::slice::from_ref(&$view))
            .send()
            .await
            .unwrap();
        assert_eq!(
            names(&h.scope_mappings_client(catalog).send().await.unwrap()),
            s(&["catalog-view"])
        );
        assert_eq!(
            names(
                &h.scope_mappings_client_available(catalog)
                    .send()
                    .await
                    .unwrap()
            ),
            s(&["catalog-edit"])
        );
        let effective = h
            .scope_mappings_client_composite(catalog)
            .brief_representation(true)
            .send()
            .await
            .unwrap();
        assert_eq!(names(&effective), s(&["catalog-view"]));
        assert_eq!(effective[0].id, $view.id);

        // Both kinds at once, from the deprecated all-mappings view.
        #[allow(deprecated)]
        let all = h.scope_mappings().send().await.unwrap();
        assert_eq!(names(&all.realm_mappings.unwrap()), s(&["reader"]));
        let by_client = all.client_mappings.unwrap();
        let catalog_mappings = &by_client["catalog"];
        assert_eq!(catalog_mappings.id.as_deref(), Some(catalog));
        assert_eq!(
            names(catalog_mappings.mappings.as_ref().unwrap()),
            s(&["catalog-view"])
        );

        // Removed again.
        h.scope_mappings_realm_remove(std::slice::from_ref(&$reader))
            .send()
            .await
            .unwrap();
        h.scope_mappings_client_remove(catalog, std::slice::from_ref(&$view))
            .send()
            .await
            .unwrap();
        assert!(h.scope_mappings_realm().send().await.unwrap().is_empty());
        assert!(
            h.scope_mappings_client(catalog)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            h.scope_mappings_realm_composite()
                .send()
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            h.scope_mappings_client_composite(catalog)
                .send()
                .await
                .unwrap()
                .is_empty()
        );
    }};
}

async fn catalog_id(kc: &cloakroom::Client, realm: &str) -> String {
    let found = kc
        .realm(realm)
        .clients()
        .list()
        .client_id("catalog")
        .send()
        .await
        .unwrap();
    found[0].id.clone().unwrap()
}

#[tokio::test]
async fn client_scope_mappings_lifecycle() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cl-scopemap", realm_json()).await;
    let catalog = catalog_id(&kc, &realm.name).await;
    let (reader, view) = role_reps(&kc, &realm.name, &catalog).await;
    let shop = create_client(
        &kc,
        &realm.name,
        ClientRepresentation {
            client_id: Some("shop".into()),
            full_scope_allowed: Some(false),
            ..Default::default()
        },
    )
    .await;
    scope_mapping_lifecycle!(
        kc.realm(&realm.name).client(&shop),
        &realm.name,
        &catalog,
        reader,
        view
    );
    realm.finish(&kc).await;
}

#[tokio::test]
async fn client_scope_scope_mappings_lifecycle() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "cs-scopemap", realm_json()).await;
    let catalog = catalog_id(&kc, &realm.name).await;
    let (reader, view) = role_reps(&kc, &realm.name, &catalog).await;
    let r = kc.realm(&realm.name);
    let id = r
        .client_scopes()
        .create(&ClientScopeRepresentation {
            name: Some("catalog-access".into()),
            protocol: Some("openid-connect".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    scope_mapping_lifecycle!(r.client_scope(&id), &realm.name, &catalog, reader, view);
    realm.finish(&kc).await;
}

#[tokio::test]
async fn client_template_scope_mappings_lifecycle() {
    let kc = admin();
    let realm = TestRealm::new(&kc, "ct-scopemap", realm_json()).await;
    let catalog = catalog_id(&kc, &realm.name).await;
    let (reader, view) = role_reps(&kc, &realm.name, &catalog).await;
    let r = kc.realm(&realm.name);
    let id = r
        .client_templates()
        .create(&ClientScopeRepresentation {
            name: Some("catalog-template".into()),
            protocol: Some("openid-connect".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    scope_mapping_lifecycle!(r.client_template(&id), &realm.name, &catalog, reader, view);
    realm.finish(&kc).await;
}
