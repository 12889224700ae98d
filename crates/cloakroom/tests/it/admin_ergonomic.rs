//! The hand-written Admin API layer against the real server: typed realm and user chores,
//! all-pages streams, race-safe ensure, safe partial updates and lossless GET → PUT round trips.

use std::collections::BTreeMap;

use cloakroom::Error;
use cloakroom::generated::models::{
    ClientRepresentation, CredentialRepresentation, IdentityProviderRepresentation,
    RealmRepresentation, RoleRepresentation, UserRepresentation,
};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

use crate::support::kc::{admin, create_realm, delete_realm, unique};

/// Keycloak 26's user profile drops attributes it does not declare unless told to keep them.
async fn keep_unmanaged_attributes(kc: &cloakroom::Client, realm: &str) {
    let profile = kc.realm(realm).user_profile();
    let mut config = profile.get().send().await.unwrap();
    config.unmanaged_attribute_policy =
        Some(cloakroom::generated::models::UnmanagedAttributePolicy::Enabled);
    profile.update(&config).send().await.unwrap();
}

/// Every value of `before` is in `after` unchanged: the paths that were lost or changed.
/// Keys the server adds on its own are not losses.
fn lost(before: &Value, after: &Value, at: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, bv) in b {
                match a.get(k) {
                    Some(av) => lost(bv, av, &format!("{at}/{k}"), out),
                    None => out.push(format!("{at}/{k} (missing)")),
                }
            }
        }
        (b, a) if b != a => out.push(format!("{at}: {b} became {a}")),
        _ => {}
    }
}

fn assert_nothing_lost(before: &Value, after: &Value, what: &str) {
    let mut out = Vec::new();
    lost(before, after, "", &mut out);
    assert!(
        out.is_empty(),
        "{what} lost or changed fields in a GET → PUT round trip: {out:?}"
    );
}

fn user(name: &str) -> UserRepresentation {
    UserRepresentation {
        username: Some(name.into()),
        enabled: Some(true),
        email: Some(format!("{name}@example.com")),
        first_name: Some(name.into()),
        last_name: Some("Test".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn realms_and_users_through_the_typed_layer() {
    let kc = admin();
    let name = unique("typed");
    let created = kc
        .realms()
        .create(&RealmRepresentation {
            realm: Some(name.clone()),
            enabled: Some(true),
            display_name: Some("Typed realm".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created, name, "a realm's id in Location is its name");
    let realms = kc
        .realms()
        .list()
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert!(
        realms
            .iter()
            .any(|r| r.realm.as_deref() == Some(name.as_str()))
    );
    let realm = kc.realm(&name);
    assert_eq!(
        realm.get().send().await.unwrap().display_name.as_deref(),
        Some("Typed realm")
    );

    let users = realm.users();
    let mut ada = user("ada");
    ada.credentials = Some(vec![CredentialRepresentation {
        r#type: Some("password".into()),
        value: Some("ada-pw".into()),
        temporary: Some(false),
        ..Default::default()
    }]);
    let id = users.create(&ada).send().await.unwrap();
    users.create(&user("grace")).send().await.unwrap();
    let got = realm.user(&id).get().send().await.unwrap();
    assert_eq!(got.id.as_deref(), Some(id.as_str()));
    assert_eq!(got.email.as_deref(), Some("ada@example.com"));
    assert_eq!(users.count().send().await.unwrap(), 2);
    let found = users.list().search("grac").send().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        users.find_by_username("ADA").await.unwrap().unwrap().id,
        Some(id.clone())
    );
    assert!(
        users.find_by_username("ad").await.unwrap().is_none(),
        "exact, not prefix"
    );
    assert_eq!(
        users
            .find_by_email("grace@example.com")
            .await
            .unwrap()
            .unwrap()
            .username
            .as_deref(),
        Some("grace")
    );
    realm.user(&id).delete().send().await.unwrap();
    let err = realm.user(&id).get().send().await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(users.count().send().await.unwrap(), 1);

    realm.delete().send().await.unwrap();
    assert!(
        kc.realm(&name)
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_fetch_every_page_where_a_plain_list_stops_at_100() {
    let kc = admin();
    let realm = create_realm(&kc, "pages", json!({})).await;
    let users = kc.realm(&realm).users();
    // 250 users through a partial import: one request instead of 250.
    let batch: Vec<Value> = (0..250)
        .map(|i| json!({"username": format!("user{i:03}"), "enabled": true}))
        .collect();
    kc.realm(&realm)
        .partial_import(&RealmRepresentation {
            extra: [
                ("users".to_string(), Value::Array(batch)),
                ("ifResourceExists".to_string(), json!("FAIL")),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(users.count().send().await.unwrap(), 250);
    let first_page = users.list().send().await.unwrap();
    assert_eq!(first_page.len(), 100, "Keycloak's default page is 100");
    let all: Vec<UserRepresentation> = users
        .list()
        .brief_representation(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 250);
    let mut names: Vec<_> = all.iter().filter_map(|u| u.username.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 250, "no user seen twice");
    let small: Vec<UserRepresentation> = users.list().stream_pages(7).try_collect().await.unwrap();
    assert_eq!(small.len(), 250);
    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ensure_is_race_safe() {
    let kc = admin();
    let realm = create_realm(&kc, "ensure", json!({})).await;
    let r = kc.realm(&realm);

    // Eight callers ensure the same user at once: one creates, all get the same id.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let users = r.users();
            tokio::spawn(async move { users.ensure(&user("racer")).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap().unwrap());
    }
    assert_eq!(
        results.iter().filter(|e| e.created).count(),
        1,
        "{results:?}"
    );
    assert!(results.windows(2).all(|w| w[0].id == w[1].id));
    assert_eq!(r.users().count().send().await.unwrap(), 1);

    // A conflict on something other than the natural key stays an error.
    let mut other = user("someone-else");
    other.email = Some("racer@example.com".into());
    let err = r.users().ensure(&other).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");

    // Clients by clientId.
    let client = ClientRepresentation {
        client_id: Some("web".into()),
        public_client: Some(true),
        ..Default::default()
    };
    let a = r.clients().ensure(&client).await.unwrap();
    let b = r.clients().ensure(&client).await.unwrap();
    assert!(a.created && !b.created && a.id == b.id);
    assert_eq!(
        r.clients()
            .find_by_client_id("web")
            .await
            .unwrap()
            .unwrap()
            .id,
        Some(a.id.clone())
    );
    assert!(r.clients().find_by_client_id("we").await.unwrap().is_none());

    // Roles and client roles by name.
    let role = RoleRepresentation {
        name: Some("auditor".into()),
        ..Default::default()
    };
    assert!(r.roles().ensure(&role).await.unwrap().created);
    assert!(!r.roles().ensure(&role).await.unwrap().created);
    assert!(r.roles().find("auditor").await.unwrap().is_some());
    assert!(r.roles().find("nobody").await.unwrap().is_none());
    let croles = r.client(&a.id).roles();
    assert!(croles.ensure(&role).await.unwrap().created);
    assert!(!croles.ensure(&role).await.unwrap().created);
    assert!(croles.find("auditor").await.unwrap().is_some());

    // Group paths, four callers at once.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.ensure_group_path("/eng/platform/sre").await })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let sre = r
        .find_group_by_path("/eng/platform/sre")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sre.id, Some(ids[0].clone()));
    assert_eq!(sre.path.as_deref(), Some("/eng/platform/sre"));
    assert_eq!(
        r.groups().count().top(true).send().await.unwrap()["count"],
        1,
        "one top-level group"
    );
    assert_eq!(
        r.groups().count().send().await.unwrap()["count"],
        3,
        "three groups in all"
    );
    assert!(
        r.find_group_by_path("/eng/nothing")
            .await
            .unwrap()
            .is_none()
    );

    // Realms by name.
    let again = kc
        .realms()
        .ensure(&RealmRepresentation {
            realm: Some(realm.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!again.created);
    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_and_merge_keep_what_they_do_not_touch() {
    let kc = admin();
    let realm = create_realm(&kc, "patch", json!({})).await;
    let r = kc.realm(&realm);
    let mut u = user("pat");
    u.attributes = Some(BTreeMap::from([(
        "team".to_string(),
        vec!["sre".to_string()],
    )]));
    keep_unmanaged_attributes(&kc, &realm).await;
    let id = r.users().create(&u).send().await.unwrap();
    let pat = r.user(&id);

    let written = pat
        .patch(|u| u.first_name = Some("Patricia".into()))
        .await
        .unwrap();
    assert_eq!(written.first_name.as_deref(), Some("Patricia"));
    let now = pat.get().send().await.unwrap();
    assert_eq!(now.first_name.as_deref(), Some("Patricia"));
    assert_eq!(
        now.last_name.as_deref(),
        Some("Test"),
        "untouched fields survive"
    );
    assert_eq!(now.email.as_deref(), Some("pat@example.com"));
    assert_eq!(
        now.attributes.as_ref().unwrap()["team"],
        vec!["sre".to_string()]
    );

    pat.merge(&json!({"lastName": "Merged", "attributes": {"team": ["dba"], "site": ["lyon"]}}))
        .await
        .unwrap();
    let now = pat.get().send().await.unwrap();
    assert_eq!(now.last_name.as_deref(), Some("Merged"));
    assert_eq!(now.first_name.as_deref(), Some("Patricia"));
    let attrs = now.attributes.unwrap();
    assert_eq!(attrs["team"], vec!["dba".to_string()]);
    assert_eq!(attrs["site"], vec!["lyon".to_string()]);

    // A merge that does not fit the model writes nothing.
    let err = pat.merge(&json!({"enabled": "maybe"})).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert_eq!(pat.get().send().await.unwrap().enabled, Some(true));

    // Someone else changes the user between our read and our write: nothing is written.
    let other = admin().realm(&realm).user(&id);
    let err = pat
        .patch(|u| {
            u.first_name = Some("Lost update".into());
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    other
                        .patch(|o| o.email = Some("changed@example.com".into()))
                        .await
                        .unwrap()
                })
            });
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConcurrentChange(_)) && err.is_conflict(),
        "{err:?}"
    );
    let now = pat.get().send().await.unwrap();
    assert_eq!(now.first_name.as_deref(), Some("Patricia"));
    assert_eq!(now.email.as_deref(), Some("changed@example.com"));
    delete_realm(&kc, &realm).await;
}

/// Fields the server itself changes on every write.
fn strip_volatile(v: &mut Value) {
    if let Value::Object(m) = v {
        for k in ["notBefore", "createdTimestamp"] {
            m.remove(k);
        }
        for (_, child) in m.iter_mut() {
            strip_volatile(child);
        }
    }
    if let Value::Array(items) = v {
        items.iter_mut().for_each(strip_volatile);
    }
}

async fn raw_json(kc: &cloakroom::Client, path: &str) -> Value {
    let mut v: Value = kc.raw().get(path).send_json().await.unwrap();
    strip_volatile(&mut v);
    v
}

/// GET → typed model → PUT → GET gives back the same JSON: no field is lost, including ones
/// the spec does not know (they ride in `extra`).
#[tokio::test]
async fn get_put_round_trips_lose_no_field() {
    let kc = admin();
    let realm = create_realm(
        &kc,
        "roundtrip",
        json!({
            "displayName": "Round trip",
            "attributes": {"custom.attr": "kept"},
            "smtpServer": {"host": "127.0.0.1", "port": "2525", "from": "kc@example.com"},
            "internationalizationEnabled": true,
            "supportedLocales": ["en", "fr"],
            "defaultLocale": "en",
        }),
    )
    .await;
    let r = kc.realm(&realm);

    // Realm
    let before = raw_json(&kc, &format!("/admin/realms/{realm}")).await;
    let typed = r.get().send().await.unwrap();
    r.update(&typed).send().await.unwrap();
    let after = raw_json(&kc, &format!("/admin/realms/{realm}")).await;
    assert_nothing_lost(&before, &after, "the realm");

    // Client with protocol mappers, attributes and a secret
    let cid = r
        .clients()
        .create(
            &serde_json::from_value(json!({
                "clientId": "rt-client",
                "publicClient": false,
                "serviceAccountsEnabled": true,
                "redirectUris": ["https://app.example.com/*"],
                "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
                "protocolMappers": [{"name": "team", "protocol": "openid-connect",
                    "protocolMapper": "oidc-usermodel-attribute-mapper",
                    "config": {"user.attribute": "team", "claim.name": "team", "access.token.claim": "true"}}],
            }))
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let path = format!("/admin/realms/{realm}/clients/{cid}");
    let before = raw_json(&kc, &path).await;
    let typed = r.client(&cid).get().send().await.unwrap();
    r.client(&cid).update(&typed).send().await.unwrap();
    assert_nothing_lost(&before, &raw_json(&kc, &path).await, "the client");

    // User with attributes and required actions
    keep_unmanaged_attributes(&kc, &realm).await;
    let mut u = user("roundtrip");
    u.attributes = Some(BTreeMap::from([(
        "team".into(),
        vec!["a".into(), "b".into()],
    )]));
    u.required_actions = Some(vec!["UPDATE_PASSWORD".into()]);
    let uid = r.users().create(&u).send().await.unwrap();
    let path = format!("/admin/realms/{realm}/users/{uid}");
    let before = raw_json(&kc, &path).await;
    let typed = r.user(&uid).get().send().await.unwrap();
    r.user(&uid).update(&typed).send().await.unwrap();
    assert_nothing_lost(&before, &raw_json(&kc, &path).await, "the user");

    // Identity provider with config
    let idp = IdentityProviderRepresentation {
        alias: Some("upstream".into()),
        provider_id: Some("oidc".into()),
        enabled: Some(true),
        config: Some(BTreeMap::from([
            ("clientId".to_string(), "cloakroom".to_string()),
            ("clientSecret".to_string(), "upstream-secret".to_string()),
            (
                "authorizationUrl".to_string(),
                "https://idp.example.com/auth".to_string(),
            ),
            (
                "tokenUrl".to_string(),
                "https://idp.example.com/token".to_string(),
            ),
            ("syncMode".to_string(), "IMPORT".to_string()),
        ])),
        ..Default::default()
    };
    r.identity_providers().create(&idp).send().await.unwrap();
    let path = format!("/admin/realms/{realm}/identity-provider/instances/upstream");
    let before = raw_json(&kc, &path).await;
    let typed = r.identity_provider("upstream").get().send().await.unwrap();
    r.identity_provider("upstream")
        .update(&typed)
        .send()
        .await
        .unwrap();
    assert_nothing_lost(
        &before,
        &raw_json(&kc, &path).await,
        "the identity provider",
    );

    // A field this version does not know survives a typed round trip too.
    let mut typed = r.user(&uid).get().send().await.unwrap();
    typed
        .extra
        .insert("someFutureField".into(), json!({"x": 1}));
    let back: UserRepresentation =
        serde_json::from_value(serde_json::to_value(&typed).unwrap()).unwrap();
    assert_eq!(back.extra["someFutureField"], json!({"x": 1}));
    delete_realm(&kc, &realm).await;
}
