//! The user profile: configuration, metadata and unmanaged attributes.

use std::collections::BTreeMap;

use cloakroom::generated::models::{
    UPAttribute, UPAttributePermissions, UnmanagedAttributePolicy, UserRepresentation,
};
use serde_json::json;

use super::user_rep;
use crate::support::kc::{admin, create_realm, delete_realm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_profile_config_metadata_and_unmanaged_attributes() {
    let kc = admin();
    let realm = create_realm(&kc, "users-profile", json!({})).await;
    let r = kc.realm(&realm);
    let profile = r.user_profile();

    let mut config = profile.get().send().await.unwrap();
    let attrs = config.attributes.clone().unwrap();
    for name in ["username", "email", "firstName", "lastName"] {
        assert!(
            attrs.iter().any(|a| a.name.as_deref() == Some(name)),
            "{name}"
        );
    }
    assert!(
        config.unmanaged_attribute_policy.is_none(),
        "unmanaged attributes are off by default"
    );

    config.attributes.as_mut().unwrap().push(UPAttribute {
        name: Some("department".into()),
        display_name: Some("Department".into()),
        permissions: Some(UPAttributePermissions {
            view: Some(vec!["admin".into(), "user".into()]),
            edit: Some(vec!["admin".into()]),
            ..Default::default()
        }),
        validations: Some(BTreeMap::from([(
            "length".into(),
            BTreeMap::from([("max".into(), json!(64))]),
        )])),
        multivalued: Some(false),
        ..Default::default()
    });
    config.unmanaged_attribute_policy = Some(UnmanagedAttributePolicy::AdminEdit);
    let saved = profile.update(&config).send().await.unwrap();
    let department = saved
        .attributes
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.name.as_deref() == Some("department"))
        .expect("the update answers the new configuration");
    assert_eq!(department.display_name.as_deref(), Some("Department"));
    assert_eq!(
        saved.unmanaged_attribute_policy,
        Some(UnmanagedAttributePolicy::AdminEdit)
    );

    let again = profile.get().send().await.unwrap();
    assert_eq!(
        again.unmanaged_attribute_policy,
        Some(UnmanagedAttributePolicy::AdminEdit)
    );
    assert!(
        again
            .attributes
            .unwrap()
            .iter()
            .any(|a| a.name.as_deref() == Some("department"))
    );

    let metadata = profile.metadata().send().await.unwrap();
    let meta = metadata
        .attributes
        .unwrap()
        .into_iter()
        .find(|a| a.name.as_deref() == Some("department"))
        .expect("department in the metadata");
    assert_eq!(meta.display_name.as_deref(), Some("Department"));
    assert_eq!(meta.read_only, Some(false));
    assert!(meta.validators.unwrap().contains_key("length"));

    // One managed attribute (department) and one the profile does not declare (nickname).
    let user = UserRepresentation {
        attributes: Some(BTreeMap::from([
            ("department".into(), vec!["Research".into()]),
            ("nickname".into(), vec!["Hal".into()]),
        ])),
        ..user_rep("hal", None)
    };
    let id = r.users().create(&user).send().await.unwrap();
    let unmanaged = r.user(&id).unmanaged_attributes().send().await.unwrap();
    assert_eq!(
        unmanaged,
        BTreeMap::from([("nickname".to_owned(), vec!["Hal".to_owned()])])
    );
    let got = r.user(&id).get().send().await.unwrap();
    assert_eq!(got.attributes.unwrap()["department"], ["Research"]);

    delete_realm(&kc, &realm).await;
}
