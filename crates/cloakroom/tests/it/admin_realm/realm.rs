//! The realm itself: create, read, update, delete; partial import and export; keys;
//! sessions, logout and revocation pushed to a client's admin URL; client types; group by
//! path; and the realm-wide helper endpoints.

use std::sync::{Arc, Mutex};

use cloakroom::generated::models::{
    ClientRepresentation, ClientTypeRepresentation, ClientTypesRepresentation, GroupRepresentation,
    ManagementPermissionReference, RealmRepresentation, RoleRepresentation, RolesRepresentation,
    UserRepresentation,
};
use cloakroom::{Client, Credentials};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{create_user, realm_with};
use crate::support::kc::{admin, builder, delete_realm, unique};

#[tokio::test]
async fn realm_create_read_update_delete() {
    let kc = admin();
    let name = unique("lifecycle");
    let created = kc
        .realms()
        .create(&RealmRepresentation {
            realm: Some(name.clone()),
            enabled: Some(true),
            display_name: Some("Lifecycle".into()),
            registration_allowed: Some(false),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created, name);
    let err = kc
        .realms()
        .create(&RealmRepresentation {
            realm: Some(name.clone()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap_err();
    assert!(
        err.is_conflict(),
        "a second realm with the same name: {err}"
    );

    let listed = kc
        .realms()
        .list()
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert!(
        listed
            .iter()
            .any(|r| r.realm.as_deref() == Some(name.as_str()))
    );

    let r = kc.realm(&name);
    let mut rep = r.get().send().await.unwrap();
    assert_eq!(rep.display_name.as_deref(), Some("Lifecycle"));
    assert!(rep.id.is_some());
    rep.display_name = Some("Lifecycle (renamed)".into());
    rep.registration_allowed = Some(true);
    rep.access_token_lifespan = Some(600);
    r.update(&rep).send().await.unwrap();
    let again = r.get().send().await.unwrap();
    assert_eq!(again.display_name.as_deref(), Some("Lifecycle (renamed)"));
    assert_eq!(again.registration_allowed, Some(true));
    assert_eq!(again.access_token_lifespan, Some(600));

    r.delete().send().await.unwrap();
    assert!(r.get().send().await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn realm_partial_import_and_export() {
    let kc = admin();
    let realm = realm_with(&kc, "partial", json!({})).await;
    let r = kc.realm(&realm);

    let mut import = RealmRepresentation {
        users: Some(vec![UserRepresentation {
            username: Some("imported-user".into()),
            enabled: Some(true),
            email: Some("imported@example.com".into()),
            first_name: Some("Imported".into()),
            last_name: Some("User".into()),
            ..Default::default()
        }]),
        clients: Some(vec![ClientRepresentation {
            client_id: Some("imported-app".into()),
            public_client: Some(true),
            redirect_uris: Some(vec!["https://app.example.com/*".into()]),
            ..Default::default()
        }]),
        groups: Some(vec![GroupRepresentation {
            name: Some("imported-group".into()),
            path: Some("/imported-group".into()),
            ..Default::default()
        }]),
        roles: Some(RolesRepresentation {
            realm: Some(vec![RoleRepresentation {
                name: Some("imported-role".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    import
        .extra
        .insert("ifResourceExists".into(), json!("SKIP"));
    let result: Value = r.partial_import(&import).send().await.unwrap();
    assert_eq!(result["added"], 4, "{result}");
    assert_eq!(result["skipped"], 0, "{result}");
    let kinds: Vec<_> = result["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["resourceType"].as_str().unwrap().to_owned())
        .collect();
    for kind in ["USER", "CLIENT", "GROUP", "REALM_ROLE"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    // The same import again skips everything.
    let again: Value = r.partial_import(&import).send().await.unwrap();
    assert_eq!(again["skipped"], 4, "{again}");
    assert_eq!(again["added"], 0, "{again}");

    let export = r
        .partial_export()
        .export_clients(true)
        .export_groups_and_roles(true)
        .send()
        .await
        .unwrap();
    assert_eq!(export.realm.as_deref(), Some(realm.as_str()));
    assert!(
        export
            .clients
            .unwrap()
            .iter()
            .any(|c| c.client_id.as_deref() == Some("imported-app"))
    );
    assert!(
        export
            .groups
            .unwrap()
            .iter()
            .any(|g| g.name.as_deref() == Some("imported-group"))
    );
    assert!(
        export
            .roles
            .unwrap()
            .realm
            .unwrap()
            .iter()
            .any(|ro| ro.name.as_deref() == Some("imported-role"))
    );
    let bare = r.partial_export().send().await.unwrap();
    assert!(
        bare.clients.is_none_or(|c| c.is_empty()),
        "no clients unless asked"
    );
    delete_realm(&kc, &realm).await;
}

/// A loopback HTTP server standing in for a client application's admin URL: it answers 200
/// to every request and records the request lines it got.
async fn app_admin_endpoint() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/app",
        listener.local_addr().unwrap().port()
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                // Read the head and the body announced by Content-Length.
                loop {
                    let Ok(n) = sock.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let first = String::from_utf8_lossy(&got)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                store.lock().unwrap().push(first);
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (url, seen)
}

/// Logs `username` in with the password grant through `admin-cli` of `realm`: one user session.
async fn log_in(realm: &str, username: &str) -> Client {
    let user = builder()
        .auth_realm(realm)
        .credentials(Credentials::password(username, "pa55-Word!"))
        .build()
        .unwrap();
    user.access_token().await.unwrap();
    user
}

async fn user_sessions(kc: &Client, realm: &str, user_id: &str) -> Vec<Value> {
    kc.raw()
        .get(format!("/admin/realms/{realm}/users/{user_id}/sessions"))
        .send_json()
        .await
        .unwrap()
}

#[tokio::test]
async fn realm_sessions_logout_and_revocation() {
    let kc = admin();
    let realm = realm_with(&kc, "sessions", json!({})).await;
    let r = kc.realm(&realm);
    let (admin_url, seen) = app_admin_endpoint().await;
    kc.raw()
        .post(format!("/admin/realms/{realm}/clients"))
        .json(&json!({"clientId": "backend-app", "publicClient": false, "secret": "s",
            "adminUrl": admin_url, "baseUrl": admin_url, "redirectUris": [format!("{admin_url}/*")]}))
        .send()
        .await
        .unwrap();

    let name = unique("erin");
    let erin = create_user(&kc, &realm, &name).await;
    log_in(&realm, &name).await;
    log_in(&realm, &name).await;
    let sessions = user_sessions(&kc, &realm, &erin).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");

    let stats = r.client_session_stats().send().await.unwrap();
    let cli = stats
        .iter()
        .find(|s| s.get("clientId").map(String::as_str) == Some("admin-cli"))
        .unwrap_or_else(|| panic!("admin-cli in {stats:?}"));
    assert_eq!(cli["active"], "2", "{cli:?}");

    let first = sessions[0]["id"].as_str().unwrap().to_owned();
    r.delete_session(&first).send().await.unwrap();
    let left = user_sessions(&kc, &realm, &erin).await;
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["id"], first.as_str());

    // Revocation: the realm's not-before moves and is pushed to the client's admin URL.
    let pushed = r.push_revocation().send().await.unwrap();
    assert_eq!(
        pushed.success_requests.as_deref(),
        Some(&[admin_url.clone()][..]),
        "{pushed:?}"
    );
    assert!(pushed.failed_requests.is_none_or(|f| f.is_empty()));
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("/app/k_push_not_before")),
        "{:?}",
        seen.lock().unwrap()
    );

    let logout = r.logout_all().send().await.unwrap();
    assert_eq!(
        logout.success_requests.as_deref(),
        Some(&[admin_url.clone()][..])
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("/app/k_logout"))
    );
    assert!(user_sessions(&kc, &realm, &erin).await.is_empty());
    let rep = r.get().send().await.unwrap();
    assert!(
        rep.not_before.unwrap() > 0,
        "logout-all sets the realm's not-before"
    );
    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn realm_keys_and_provider_listings() {
    let kc = admin();
    let realm = realm_with(&kc, "keys", json!({})).await;
    let r = kc.realm(&realm);

    let keys = r.keys().send().await.unwrap();
    let active = keys.active.unwrap();
    let kid = &active["RS256"];
    let rs256 = keys
        .keys
        .unwrap()
        .into_iter()
        .find(|k| k.kid.as_ref() == Some(kid))
        .expect("the active RS256 key is listed");
    assert_eq!(rs256.r#type.as_deref(), Some("RSA"));
    assert!(rs256.public_key.is_some() && rs256.certificate.is_some());

    let policies = r
        .client_registration_policy_providers()
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = policies.iter().filter_map(|p| p.id.as_deref()).collect();
    for want in ["trusted-hosts", "max-clients", "allowed-client-templates"] {
        assert!(ids.contains(&want), "{want} in {ids:?}");
    }

    let registrators = r.credential_registrators().send().await.unwrap();
    assert!(!registrators.is_empty(), "{registrators:?}");

    let converted = r
        .convert_client_description(
            json!({
                "client_name": "Described app",
                "redirect_uris": ["https://described.example.com/cb"],
                "grant_types": ["authorization_code"],
                "token_endpoint_auth_method": "client_secret_basic",
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(converted.name.as_deref(), Some("Described app"));
    assert_eq!(
        converted.redirect_uris.as_deref(),
        Some(&["https://described.example.com/cb".to_owned()][..])
    );
    assert_eq!(converted.protocol.as_deref(), Some("openid-connect"));
    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn realm_client_types() {
    let kc = admin();
    let realm = realm_with(&kc, "ctypes", json!({})).await;
    let r = kc.realm(&realm);
    let types = match r.client_types().send().await {
        Ok(types) => types,
        // Client types are the experimental `client-types` feature, which the test server
        // does not enable (see coverage/known-issues/realm.toml): both calls are refused.
        Err(e) if e.status() == Some(501) => {
            let put = r
                .update_client_types(&ClientTypesRepresentation::default())
                .send()
                .await
                .unwrap_err();
            assert_eq!(put.status(), Some(501), "{put}");
            delete_realm(&kc, &realm).await;
            return;
        }
        Err(e) => panic!("client types: {e}"),
    };
    let global = types.global_client_types.clone().unwrap_or_default();
    assert!(
        global.iter().any(|t| t.name.as_deref() == Some("sla")),
        "the built-in types: {types:?}"
    );
    let realm_type: ClientTypeRepresentation = serde_json::from_value(json!({
        "name": "internal-service",
        "provider": "default",
        "parent": "service-account",
        "config": {
            "standardFlowEnabled": {"applicable": true, "value": false},
        },
    }))
    .unwrap();
    r.update_client_types(&ClientTypesRepresentation {
        client_types: Some(vec![realm_type]),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    let after = r.client_types().send().await.unwrap();
    let own = after.client_types.unwrap();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].name.as_deref(), Some("internal-service"));
    assert_eq!(own[0].parent.as_deref(), Some("service-account"));
    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn realm_group_by_path_and_users_permissions() {
    let kc = admin();
    let realm = realm_with(&kc, "gbp", json!({})).await;
    let r = kc.realm(&realm);
    let parent = kc
        .raw()
        .post(format!("/admin/realms/{realm}/groups"))
        .json(&json!({"name": "sales"}))
        .send()
        .await
        .unwrap()
        .location_id()
        .unwrap();
    let child = kc
        .raw()
        .post(format!("/admin/realms/{realm}/groups/{parent}/children"))
        .json(&json!({"name": "emea west"}))
        .send()
        .await
        .unwrap()
        .location_id()
        .unwrap();
    let top = r.group_by_path("sales").send().await.unwrap();
    assert_eq!(top.id.as_deref(), Some(parent.as_str()));
    let nested = r.group_by_path("/sales/emea west").send().await.unwrap();
    assert_eq!(nested.id.as_deref(), Some(child.as_str()));
    assert_eq!(nested.path.as_deref(), Some("/sales/emea west"));
    assert!(
        r.group_by_path("sales/nope")
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );

    let before = r.users_management_permissions().send().await.unwrap();
    assert_eq!(before.enabled, Some(false), "{before:?}");
    let on = r
        .update_users_management_permissions(&ManagementPermissionReference {
            enabled: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(on.enabled, Some(true));
    let scopes = on.scope_permissions.clone().unwrap();
    for s in ["view", "manage", "map-roles", "impersonate"] {
        assert!(scopes.contains_key(s), "{s} in {scopes:?}");
    }
    assert_eq!(r.users_management_permissions().send().await.unwrap(), on);
    let off = r
        .update_users_management_permissions(&ManagementPermissionReference {
            enabled: Some(false),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(off.enabled, Some(false));
    delete_realm(&kc, &realm).await;
}
