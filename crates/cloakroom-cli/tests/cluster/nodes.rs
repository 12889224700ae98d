//! Two nodes, one data set: tokens, cache invalidation and the token stampede across nodes.

use std::time::Duration;

use cloakroom::{Client, Credentials};
use serde_json::{Value, json};

use crate::{admin, cluster, unique};

async fn create_realm(kc: &Client, body: Value) {
    kc.raw()
        .post("/admin/realms")
        .json(&body)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs the cluster: cargo xtask test --cluster"]
async fn a_token_from_node_a_is_accepted_by_node_b() {
    let c = cluster();
    let (a, b) = (&c.nodes[0].server.url, &c.nodes[1].server.url);
    let via_a = admin(a);
    let token = via_a.access_token().await.unwrap();
    let via_b = Client::builder(b)
        .credentials(Credentials::token(token.clone()))
        .build()
        .unwrap();
    let realm: Value = via_b
        .raw()
        .get("/admin/realms/master")
        .send_json()
        .await
        .unwrap();
    assert_eq!(realm["realm"], "master");
    // Node B verified the token alone: it made no token request of its own.
    assert_eq!(via_b.token_stats().token_requests, 0);
}

#[tokio::test]
#[ignore = "needs the cluster: cargo xtask test --cluster"]
async fn b_admin_write_through_a_is_read_back_through_b_at_once() {
    let c = cluster();
    let (via_a, via_b) = (admin(&c.nodes[0].server.url), admin(&c.nodes[1].server.url));
    let realm = unique("inval");
    create_realm(
        &via_a,
        json!({"realm": realm, "enabled": true, "displayName": "one"}),
    )
    .await;
    // Read through B first, so that B's realm cache holds the old value.
    let r: Value = via_b
        .raw()
        .get(format!("/admin/realms/{realm}"))
        .send_json()
        .await
        .unwrap();
    assert_eq!(r["displayName"], "one");
    for round in 0..20 {
        let name = format!("two-{round}");
        via_a
            .raw()
            .put(format!("/admin/realms/{realm}"))
            .json(&json!({"displayName": name}))
            .send()
            .await
            .unwrap();
        let r: Value = via_b
            .raw()
            .get(format!("/admin/realms/{realm}"))
            .send_json()
            .await
            .unwrap();
        assert_eq!(
            r["displayName"],
            name.as_str(),
            "round {round}: B served a stale realm"
        );
    }
    // A user created through A is found through B at once.
    via_a
        .raw()
        .post(format!("/admin/realms/{realm}/users"))
        .json(&json!({"username": "ada", "enabled": true}))
        .send()
        .await
        .unwrap();
    let found: Vec<Value> = via_b
        .raw()
        .get(format!("/admin/realms/{realm}/users"))
        .query("username", "ada")
        .query("exact", "true")
        .send_json()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the cluster: cargo xtask test --cluster"]
async fn c_hundred_concurrent_calls_through_haproxy_make_one_token_request() {
    let c = cluster();
    let realm = unique("stampede");
    let lb = &c.url;
    create_realm(
        &admin(lb),
        json!({
            "realm": realm, "enabled": true, "accessTokenLifespan": 5,
            "eventsEnabled": true, "enabledEventTypes": ["LOGIN", "REFRESH_TOKEN"],
            "users": [{
                "username": "alice", "enabled": true, "email": "alice@example.test",
                "firstName": "A", "lastName": "L",
                "credentials": [{"type": "password", "value": "alice-pw", "temporary": false}],
                "clientRoles": {"realm-management": ["view-users"]},
            }],
        }),
    )
    .await;
    let alice = Client::builder(lb)
        .auth_realm(&realm)
        .credentials(Credentials::password("alice", "alice-pw"))
        .refresh_skew(Duration::ZERO)
        .build()
        .unwrap();
    let count = |kc: Client, realm: String| async move {
        kc.raw()
            .get(format!("/admin/realms/{realm}/users/count"))
            .realm(&realm)
            .send_json::<u64>()
            .await
    };
    assert_eq!(count(alice.clone(), realm.clone()).await.unwrap(), 1);
    assert_eq!(alice.token_stats().token_requests, 1);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let calls = (0..100).map(|_| tokio::spawn(count(alice.clone(), realm.clone())));
    for r in futures_util::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap(), 1);
    }
    let stats = alice.token_stats();
    assert_eq!((stats.token_requests, stats.refreshes), (2, 1), "{stats:?}");
    // The calls went to both nodes (round robin), and the cluster's event log agrees.
    let admin = admin(lb);
    let events = |kind: &'static str| {
        let (admin, realm) = (admin.clone(), realm.clone());
        async move {
            admin
                .raw()
                .get(format!("/admin/realms/{realm}/events"))
                .query("type", kind)
                .send_json::<Vec<Value>>()
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(events("LOGIN").await, 1);
    assert_eq!(events("REFRESH_TOKEN").await, 1);
    let log = std::fs::read_to_string(&c.haproxy.log).unwrap();
    let counted = format!("/admin/realms/{realm}/users/count");
    for node in ["keycloak/node0", "keycloak/node1"] {
        let n = log
            .lines()
            .filter(|l| l.contains(&counted) && l.contains(node))
            .count();
        assert!(n >= 20, "{node} served only {n} of the 101 calls");
    }
}
