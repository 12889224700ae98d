//! UMA 2.0 on the real server: a resource server with resources, scopes and policies created
//! through the Admin API; RPTs granted and denied; the permission-ticket flow and the
//! protection API with a PAT.

use cloakroom::ClientAuth;
use cloakroom::oidc::PasswordGrant;
use cloakroom::uma::{
    PermissionRequest, PermissionTicket, Resource, TicketPermission, UmaPolicy, is_access_denied,
};
use serde_json::json;

use crate::oidc_util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uma_rpt_decisions_tickets_and_protection_api() {
    let admin = admin();
    let mut rs = confidential("rs", "rs-secret");
    rs["authorizationServicesEnabled"] = json!(true);
    let realm = create_realm(
        &admin,
        "uma",
        json!({
            "userManagedAccessAllowed": true,
            "clients": [rs, public("app")],
            "users": [user("alice", "alice-pw"), user("bob", "bob-pw")],
        }),
    )
    .await;
    let _cleanup = cleanup(&realm);

    // Authorization services through the Admin API: scopes, a resource, a user policy and a
    // scope permission.
    let rs_uuid = client_uuid(&admin, &realm, "rs").await;
    let authz = format!("/admin/realms/{realm}/clients/{rs_uuid}/authz/resource-server");
    let read = post_id(&admin, format!("{authz}/scope"), json!({"name": "read"})).await;
    let _write = post_id(&admin, format!("{authz}/scope"), json!({"name": "write"})).await;
    let doc = post_id(
        &admin,
        format!("{authz}/resource"),
        json!({"name": "doc", "scopes": [{"name": "read"}, {"name": "write"}]}),
    )
    .await;
    let alice_id = user_id(&admin, &realm, "alice").await;
    let only_alice = post_id(
        &admin,
        format!("{authz}/policy/user"),
        json!({"name": "only-alice", "logic": "POSITIVE", "users": [alice_id]}),
    )
    .await;
    post_id(
        &admin,
        format!("{authz}/permission/scope"),
        json!({
            "name": "doc-read",
            "decisionStrategy": "UNANIMOUS",
            "resources": [doc],
            "scopes": [read],
            "policies": [only_alice],
        }),
    )
    .await;

    let kc = builder().build().unwrap();
    let uma = kc.uma(&realm);
    let conf = uma.configuration().await.unwrap();
    assert!(conf.contains_key("permission_endpoint"), "{conf:?}");
    let app = kc.oidc(&realm).client("app", ClientAuth::Public);
    let alice = app
        .password(PasswordGrant::new("alice", "alice-pw"))
        .await
        .unwrap()
        .access_token;
    let bob = app
        .password(PasswordGrant::new("bob", "bob-pw"))
        .await
        .unwrap()
        .access_token;
    let ask = PermissionRequest::new("rs").permission("doc#read");

    // Alice gets an RPT carrying the permission; it verifies offline with `rs` as audience.
    let rpt = uma.rpt(&alice, &ask).await.unwrap();
    let claims = kc
        .oidc(&realm)
        .verifier()
        .audience("rs")
        .build()
        .unwrap()
        .verify(rpt.access_token.expose_secret())
        .await
        .unwrap();
    let perms = &claims.raw()["authorization"]["permissions"];
    assert!(
        perms
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["rsname"] == "doc"
                && p["scopes"].as_array().unwrap().contains(&json!("read"))),
        "{perms}"
    );
    // Bob is denied with a typed error.
    let e = uma.rpt(&bob, &ask).await.unwrap_err();
    assert!(is_access_denied(&e), "{e}");
    assert_eq!(e.status(), Some(403));

    // Decisions and permission lists.
    assert!(uma.decision(&alice, &ask).await.unwrap());
    assert!(!uma.decision(&bob, &ask).await.unwrap());
    let write = PermissionRequest::new("rs").permission("doc#write");
    assert!(
        !uma.decision(&alice, &write).await.unwrap(),
        "no policy grants write"
    );
    let list = uma.permissions(&alice, &ask).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].rsname.as_deref(), Some("doc"));
    assert_eq!(list[0].scopes, ["read"]);
    assert!(uma.permissions(&bob, &ask).await.unwrap().is_empty());

    // The resource server's PAT and the protection API.
    let rs_client = kc
        .oidc(&realm)
        .client("rs", ClientAuth::SecretBasic("rs-secret".into()));
    let pat = uma.pat(&rs_client).await.unwrap();
    let protection = uma.protection(pat);
    assert_eq!(
        protection.list_resources(Some("doc")).await.unwrap(),
        std::slice::from_ref(&doc)
    );
    let got = protection.get_resource(&doc).await.unwrap();
    assert_eq!(got.name, "doc");
    assert!(got.resource_scopes.contains(&"read".to_owned()));

    let mut photo = Resource::new("photo", ["read", "write"]);
    photo.uris = vec!["/photos/1".into()];
    let created = protection.create_resource(&photo).await.unwrap();
    let photo_id = created.id.clone().unwrap();
    let mut changed = created.clone();
    changed.display_name = Some("Holiday photo".into());
    protection
        .update_resource(&photo_id, &changed)
        .await
        .unwrap();
    assert_eq!(
        protection
            .get_resource(&photo_id)
            .await
            .unwrap()
            .display_name
            .as_deref(),
        Some("Holiday photo")
    );
    protection.delete_resource(&photo_id).await.unwrap();
    let e = protection.get_resource(&photo_id).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // Permission tickets: the resource server asks for a ticket, the client trades it.
    let ticket = protection
        .create_ticket(&[TicketPermission::new(doc.clone(), ["read"])])
        .await
        .unwrap();
    let from_ticket = uma
        .rpt(&alice, &PermissionRequest::from_ticket(ticket.clone()))
        .await
        .unwrap();
    assert!(!from_ticket.access_token.is_empty());
    let e = uma
        .rpt(&bob, &PermissionRequest::from_ticket(ticket))
        .await
        .unwrap_err();
    assert!(is_access_denied(&e), "{e}");

    // An RPT upgrade keeps earlier permissions.
    let upgraded = uma
        .rpt(
            &alice,
            &PermissionRequest::new("rs")
                .permission("doc#read")
                .rpt(rpt.access_token.clone()),
        )
        .await
        .unwrap();
    assert!(!upgraded.access_token.is_empty());

    // User-managed access: a resource owned by alice, shared with bob first by a granted
    // permission ticket, then by a UMA policy alice manages. The resource is created through
    // the Admin API: Keycloak 26.7.3's protection API ignores `owner` when the caller uses a
    // PAT and makes the resource server the owner.
    let album_id = post_id(
        &admin,
        format!("{authz}/resource"),
        json!({"name": "album", "owner": "alice", "ownerManagedAccess": true,
               "scopes": [{"name": "read"}]}),
    )
    .await;
    let album = protection.get_resource(&album_id).await.unwrap();
    let owner = album.owner.clone().unwrap();
    assert!(
        owner == json!(alice_id) || owner["id"] == json!(alice_id),
        "{owner}"
    );
    assert!(album.owner_managed_access);
    let ask_album = PermissionRequest::new("rs").permission(format!("{album_id}#read"));
    assert!(!uma.decision(&bob, &ask_album).await.unwrap());
    // Since 26.5 the resource server may share a user's resource; 26.4 lets only the owner
    // (403 "permissions for [...] can be only created by the owner").
    let share = PermissionTicket::share(&album_id, "bob", "read", true);
    let ticket = if crate::support::served::at_least(26, 5) {
        protection.create_permission_ticket(&share).await.unwrap()
    } else {
        let refused = protection
            .create_permission_ticket(&share)
            .await
            .unwrap_err();
        assert_eq!(refused.status(), Some(403), "{refused:?}");
        let alice_at_rs = rs_client
            .password(PasswordGrant::new("alice", "alice-pw"))
            .await
            .unwrap()
            .access_token;
        uma.protection(alice_at_rs)
            .create_permission_ticket(&share)
            .await
            .unwrap()
    };
    assert_eq!(ticket.granted, Some(true), "{ticket:?}");
    let tickets = protection.list_tickets(Some(&album_id)).await.unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].resource.as_deref(), Some(album_id.as_str()));
    assert!(
        uma.decision(&bob, &ask_album).await.unwrap(),
        "shared with bob"
    );
    protection
        .delete_permission_ticket(tickets[0].id.as_deref().unwrap())
        .await
        .unwrap();
    assert!(
        !uma.decision(&bob, &ask_album).await.unwrap(),
        "share revoked"
    );

    // UMA policies: alice, as resource owner, manages a policy on her resource with a token
    // issued to the resource server.
    let alice_at_rs = rs_client
        .password(PasswordGrant::new("alice", "alice-pw"))
        .await
        .unwrap()
        .access_token;
    let owner_api = uma.protection(alice_at_rs);
    let mut wanted = UmaPolicy::for_users("bob-may-read", ["read"], ["bob"]);
    wanted.description = Some("share".into());
    let policy = owner_api.create_policy(&album_id, &wanted).await.unwrap();
    let policy_id = policy.id.clone().unwrap();
    assert_eq!(policy.users, ["bob"], "{policy:?}");
    assert!(
        uma.decision(&bob, &ask_album).await.unwrap(),
        "UMA policy grants bob"
    );
    let listed = owner_api.list_policies(Some(&album_id)).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|p| p.id.as_deref() == Some(policy_id.as_str())),
        "{listed:?}"
    );
    let mut changed = policy.clone();
    changed.description = Some("still shared".into());
    owner_api.update_policy(&policy_id, &changed).await.unwrap();
    owner_api.delete_policy(&policy_id).await.unwrap();
    assert!(
        !uma.decision(&bob, &ask_album).await.unwrap(),
        "policy removed"
    );

    delete_realm(&admin, &realm).await;
}
