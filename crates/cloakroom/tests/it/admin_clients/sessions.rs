//! A client's user sessions and offline sessions after real logins.

use cloakroom::ClientAuth;
use cloakroom::oidc::PasswordGrant;
use futures_util::TryStreamExt;
use serde_json::json;

use super::{TestRealm, confidential, create_client};
use crate::support::kc::{admin, builder, user};

#[tokio::test]
async fn client_user_and_offline_sessions() {
    let kc = admin();
    // Users imported with a realm get no default roles: bob needs offline_access explicitly.
    let mut bob = user("bob", "bob-pw");
    bob["realmRoles"] = json!(["offline_access"]);
    let realm = TestRealm::new(
        &kc,
        "cl-sessions",
        json!({"users": [user("alice", "alice-pw"), user("carol", "carol-pw"), bob]}),
    )
    .await;
    let id = create_client(&kc, &realm.name, confidential("field-app", "field-secret")).await;
    let client = kc.realm(&realm.name).client(&id);

    // No sessions yet.
    assert_eq!(client.session_count().send().await.unwrap()["count"], 0);
    assert_eq!(
        client.offline_session_count().send().await.unwrap()["count"],
        0
    );
    assert!(client.user_sessions().send().await.unwrap().is_empty());
    assert!(client.offline_sessions().send().await.unwrap().is_empty());

    // alice and carol log in online; bob asks for an offline token, which Keycloak 26 keeps
    // as an offline session only.
    let anon = builder().build().unwrap();
    let app = anon
        .oidc(&realm.name)
        .client("field-app", ClientAuth::SecretBasic("field-secret".into()));
    for (u, p) in [("alice", "alice-pw"), ("carol", "carol-pw")] {
        app.password(PasswordGrant::new(u, p).scope("openid"))
            .await
            .unwrap();
    }
    let offline = app
        .password(PasswordGrant::new("bob", "bob-pw").scope("openid offline_access"))
        .await
        .unwrap();
    assert!(offline.refresh_token.is_some());

    assert_eq!(client.session_count().send().await.unwrap()["count"], 2);
    let sessions = client.user_sessions().send().await.unwrap();
    let mut users: Vec<String> = sessions.iter().filter_map(|s| s.username.clone()).collect();
    users.sort();
    assert_eq!(users, ["alice", "carol"]);
    for s in &sessions {
        assert!(s.id.is_some() && s.user_id.is_some() && s.start.unwrap() > 0);
        assert_eq!(
            s.clients.as_ref().unwrap().get(&id).map(String::as_str),
            Some("field-app")
        );
    }
    let page = client.user_sessions().first(1).max(1).send().await.unwrap();
    assert_eq!(page.len(), 1);
    let streamed: Vec<_> = client
        .user_sessions()
        .stream_pages(1)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 2);

    assert_eq!(
        client.offline_session_count().send().await.unwrap()["count"],
        1
    );
    let offline_sessions = client.offline_sessions().send().await.unwrap();
    assert_eq!(offline_sessions.len(), 1);
    assert_eq!(offline_sessions[0].username.as_deref(), Some("bob"));
    assert!(offline_sessions[0].last_access.unwrap() > 0);
    let none = client
        .offline_sessions()
        .first(1)
        .max(10)
        .send()
        .await
        .unwrap();
    assert!(none.is_empty());
    realm.finish(&kc).await;
}
