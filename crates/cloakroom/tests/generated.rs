//! The generated Admin API without a server: models keep what they do not know, and request
//! builders produce the path, query and body Keycloak expects.

use cloakroom::Client;
use cloakroom::generated::models::{
    Confirmation, CredentialRepresentation, DecisionStrategy, Model, RealmRepresentation,
    UserRepresentation,
};
use cloakroom::generated::{
    AdminEventsHandle, LocalizationHandle, OPERATIONS, OrganizationHandle, RealmHandle, UserHandle,
    UsersHandle,
};
use cloakroom::request::{Body, Method};
use serde_json::{Value, json};

fn client() -> Client {
    Client::builder("http://127.0.0.1:9")
        .build()
        .expect("client")
}

fn json_body(body: &Body) -> Value {
    match body {
        Body::Json(bytes) => serde_json::from_slice(bytes).expect("JSON body"),
        other => panic!("expected a JSON body, got {other:?}"),
    }
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    let input = json!({
        "username": "bob",
        "attributes": {"team": ["a", "b"]},
        "fieldFromANewerKeycloak": {"nested": true}
    });
    let user: UserRepresentation = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(user.username.as_deref(), Some("bob"));
    assert_eq!(
        user.extra["fieldFromANewerKeycloak"],
        json!({"nested": true})
    );
    assert_eq!(serde_json::to_value(&user).unwrap(), input);
}

#[test]
fn get_modify_put_keeps_what_this_version_does_not_know() {
    let fetched = json!({"realm": "acme", "registrationAllowed": false, "futureSetting": 7});
    let mut realm: RealmRepresentation = serde_json::from_value(fetched).unwrap();
    realm.registration_allowed = Some(true);
    assert_eq!(
        serde_json::to_value(&realm).unwrap(),
        json!({"realm": "acme", "registrationAllowed": true, "futureSetting": 7})
    );
}

#[test]
fn unset_fields_are_not_sent() {
    let user = UserRepresentation {
        username: Some("bob".into()),
        enabled: Some(true),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&user).unwrap(),
        json!({"username": "bob", "enabled": true})
    );
    assert_eq!(
        serde_json::to_value(UserRepresentation::default()).unwrap(),
        json!({})
    );
}

#[test]
fn explicit_null_goes_through_extra() {
    let mut user = UserRepresentation {
        username: Some("bob".into()),
        email: Some("bob@example.com".into()),
        ..Default::default()
    };
    user.set_null("email");
    user.set_null("notAFieldYet");
    assert_eq!(user.email, None);
    assert_eq!(
        serde_json::to_value(&user).unwrap(),
        json!({"username": "bob", "email": null, "notAFieldYet": null})
    );
    assert!(!user.clear_field("notAFieldYet"));
}

#[test]
fn spec_names_that_are_not_camel_case_are_kept() {
    let c: Confirmation = serde_json::from_value(json!({"x5t#S256": "thumb", "jkt": "k"})).unwrap();
    assert_eq!(c.x5t_s256.as_deref(), Some("thumb"));
    assert!(c.extra.is_empty());
    let cred = CredentialRepresentation {
        r#type: Some("password".into()),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&cred).unwrap(),
        json!({"type": "password"})
    );
    let user: UserRepresentation = serde_json::from_value(json!({"self": "x"})).unwrap();
    assert_eq!(user.self_.as_deref(), Some("x"));
}

#[test]
fn enums_keep_unknown_values() {
    let known: DecisionStrategy = serde_json::from_value(json!("UNANIMOUS")).unwrap();
    assert_eq!(known, DecisionStrategy::Unanimous);
    let new: DecisionStrategy = serde_json::from_value(json!("MAJORITY")).unwrap();
    assert_eq!(new, DecisionStrategy::Unknown("MAJORITY".into()));
    assert_eq!(serde_json::to_value(&new).unwrap(), json!("MAJORITY"));
    assert_eq!("AFFIRMATIVE".parse(), Ok(DecisionStrategy::Affirmative));
    assert_eq!(DecisionStrategy::Consensus.to_string(), "CONSENSUS");
}

#[test]
fn list_builds_path_template_and_query() {
    let req = UsersHandle::new(client(), "acme")
        .list()
        .search("bob")
        .max(5)
        .brief_representation(false)
        .max(50)
        .to_request()
        .unwrap();
    assert_eq!(req.method(), Method::Get);
    assert_eq!(req.path(), "/admin/realms/acme/users");
    assert_eq!(req.template(), "/admin/realms/{realm}/users");
    let q: Vec<(&str, &str)> = req
        .query_pairs()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        q,
        [
            ("search", "bob"),
            ("briefRepresentation", "false"),
            ("max", "50")
        ]
    );
}

#[test]
fn array_query_parameters_repeat() {
    let req = AdminEventsHandle::new(client(), "acme")
        .list()
        .operation_types(["CREATE", "UPDATE"])
        .to_request()
        .unwrap();
    assert_eq!(
        req.query_pairs(),
        [
            ("operationTypes".to_owned(), "CREATE".to_owned()),
            ("operationTypes".to_owned(), "UPDATE".to_owned())
        ]
    );
}

#[test]
fn path_parameters_are_encoded_and_checked() {
    let req = UserHandle::new(client(), "my realm", "a/b?c")
        .get()
        .to_request()
        .unwrap();
    assert_eq!(req.path(), "/admin/realms/my%20realm/users/a%2Fb%3Fc");
    let err = UserHandle::new(client(), "acme", "")
        .get()
        .to_request()
        .unwrap_err();
    assert!(err.to_string().contains("user_id"), "{err}");
    // A group path keeps its slashes; each segment is encoded on its own.
    let req = RealmHandle::new(client(), "acme")
        .group_by_path("eng/plat form")
        .to_request()
        .unwrap();
    assert_eq!(
        req.path(),
        "/admin/realms/acme/group-by-path/eng/plat%20form"
    );
    // Keycloak's own spelling of a group path starts with `/`: no `//` in the URL.
    let req = RealmHandle::new(client(), "acme")
        .group_by_path("/eng/plat form")
        .to_request()
        .unwrap();
    assert_eq!(
        req.path(),
        "/admin/realms/acme/group-by-path/eng/plat%20form"
    );
}

#[test]
fn bodies_are_json_text_or_form() {
    let cred = CredentialRepresentation {
        r#type: Some("password".into()),
        value: Some("s3cret".into()),
        temporary: Some(false),
        ..Default::default()
    };
    let builder = UserHandle::new(client(), "acme", "u1").reset_password(&cred);
    assert!(
        !format!("{builder:?}").contains("s3cret"),
        "Debug shows no body"
    );
    let req = builder.to_request().unwrap();
    assert_eq!(req.method(), Method::Put);
    assert_eq!(
        json_body(req.body()),
        json!({"type": "password", "value": "s3cret", "temporary": false})
    );

    let req = LocalizationHandle::new(client(), "acme")
        .set_text("en", "greeting", "Hello")
        .to_request()
        .unwrap();
    assert!(matches!(req.body(), Body::Text(t) if t == "Hello"));

    let req = OrganizationHandle::new(client(), "acme", "org1")
        .invite_user("ann@example.com")
        .first_name("Ann")
        .to_request()
        .unwrap();
    match req.body() {
        Body::Form(fields) => assert_eq!(
            fields,
            &[
                ("email".to_owned(), "ann@example.com".to_owned()),
                ("firstName".to_owned(), "Ann".to_owned())
            ]
        ),
        other => panic!("expected a form, got {other:?}"),
    }
}

#[test]
fn catalog_lists_each_operation_once() {
    let mut seen = std::collections::BTreeSet::new();
    for op in OPERATIONS {
        assert!(
            seen.insert((op.method, op.path)),
            "{} {} twice",
            op.method,
            op.path
        );
        // `/admin/serverinfo` and `/admin/{realm}/console/whoami` come from the supplement.
        assert!(op.path.starts_with("/admin/"), "{}", op.path);
    }
    assert!(OPERATIONS.iter().any(|op| op.method == "GET"
        && op.path == "/admin/realms/{realm}/users"
        && op.handle == "Users"
        && op.name == "list"));
    assert!(OPERATIONS.iter().any(|op| op.deprecated));
}
