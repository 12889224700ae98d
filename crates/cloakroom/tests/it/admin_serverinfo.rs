//! Served admin endpoints that Keycloak's OpenAPI document leaves out (typed from
//! spec/cloakroom-supplement.json): server info, cache clearing and the console's whoami.

use cloakroom::generated::AdminConsoleHandle;
use cloakroom::generated::models::ClientRepresentation;
use cloakroom::{ClientAuth, Credentials};
use serde_json::json;

use crate::support::kc::{admin, builder, create_realm, delete_realm, user};

#[tokio::test]
async fn server_info_names_the_version_and_features() {
    let kc = admin();
    // python-keycloak's `get_server_info()`: one typed call.
    let info = kc.server_info().get().send().await.unwrap();

    let system = info.system_info.as_ref().expect("systemInfo");
    // The version the harness started (26.7.3, or an older one of the matrix).
    let started = crate::support::server::test_server()
        .version
        .unwrap_or_else(|| "26.7.3".into());
    assert_eq!(system.version.as_deref(), Some(started.as_str()));
    assert!(system.uptime_millis.unwrap_or_default() > 0);
    let profile = info.profile_info.as_ref().expect("profileInfo");
    let disabled = profile.disabled_features.clone().unwrap_or_default();
    assert!(disabled.iter().any(|f| f == "SCRIPTS"), "{disabled:?}");
    let features = info.features.clone().unwrap_or_default();
    let passkeys = features
        .iter()
        .find(|f| f.name.as_deref() == Some("PASSKEYS"))
        .expect("the PASSKEYS feature is listed");
    assert_eq!(passkeys.enabled, Some(true));
    assert!(
        features
            .iter()
            .filter(|f| f.enabled == Some(false))
            .all(|f| disabled.contains(f.name.as_ref().unwrap()))
    );

    let themes = info.themes.as_ref().expect("themes");
    assert!(
        themes["login"]
            .iter()
            .any(|t| t.name.as_deref() == Some("keycloak.v2"))
    );
    let providers = info.providers.as_ref().expect("providers");
    assert!(
        providers["authenticator"]
            .providers
            .as_ref()
            .unwrap()
            .contains_key("auth-cookie")
    );
    let policies = info.password_policies.clone().unwrap_or_default();
    assert!(policies.iter().any(|p| p.id.as_deref() == Some("length")));
    let mappers = info
        .protocol_mapper_types
        .as_ref()
        .expect("protocolMapperTypes");
    assert!(
        mappers["openid-connect"]
            .iter()
            .any(|m| m.id.as_deref() == Some("oidc-usermodel-attribute-mapper"))
    );
    let storage =
        &info.component_types.as_ref().unwrap()["org.keycloak.storage.UserStorageProvider"];
    assert!(storage.iter().any(|c| c.id.as_deref() == Some("ldap")));
    // Everything the typed model names is known: no field of the answer is left in `extra`.
    assert_eq!(info.extra, serde_json::Map::new());
    assert_eq!(system.extra, serde_json::Map::new());
}

#[tokio::test]
async fn caches_are_cleared() {
    let kc = admin();
    let realm = create_realm(&kc, "caches", json!({})).await;
    let r = kc.realm(&realm);
    r.clear_realm_cache().send().await.unwrap();
    r.clear_user_cache().send().await.unwrap();
    r.clear_keys_cache().send().await.unwrap();
    r.clear_crl_cache().send().await.unwrap();
    // The realm still answers after its caches were dropped.
    assert_eq!(
        r.get().send().await.unwrap().realm.as_deref(),
        Some(realm.as_str())
    );
    delete_realm(&kc, &realm).await;
}

/// whoami answers only tokens issued to the realm's `security-admin-console` client; the test
/// lets that client use the password grant in a throw-away realm.
#[tokio::test]
async fn console_whoami_names_the_admin_and_their_roles() {
    let kc = admin();
    let mut console_user = user("console", "console-pw-4Rt");
    console_user["firstName"] = json!("Con");
    console_user["lastName"] = json!("Sole");
    console_user["clientRoles"] = json!({"realm-management": ["realm-admin"]});
    let realm = create_realm(&kc, "whoami", json!({ "users": [console_user] })).await;
    let clients = kc.realm(&realm).clients();
    let console = clients
        .find_by_client_id("security-admin-console")
        .await
        .unwrap()
        .unwrap();
    let patch = ClientRepresentation {
        direct_access_grants_enabled: Some(true),
        ..Default::default()
    };
    kc.realm(&realm)
        .client(console.id.unwrap())
        .update(&patch)
        .send()
        .await
        .unwrap();

    let as_console = builder()
        .auth_realm(&realm)
        .credentials(Credentials::Password {
            client_id: "security-admin-console".into(),
            auth: ClientAuth::Public,
            username: "console".into(),
            password: "console-pw-4Rt".into(),
            otp: None,
        })
        .build()
        .unwrap();
    let me = AdminConsoleHandle::new(as_console, &realm)
        .whoami()
        .current_realm(&realm)
        .send()
        .await
        .unwrap();
    assert_eq!(me.realm.as_deref(), Some(realm.as_str()));
    assert_eq!(me.display_name.as_deref(), Some("Con Sole"));
    assert_eq!(me.create_realm, Some(false));
    let roles = &me.realm_access.as_ref().expect("realm_access")[&realm];
    assert!(roles.iter().any(|r| r == "manage-users"), "{roles:?}");
    assert_eq!(me.extra, serde_json::Map::new());

    // The admin-cli token of the bootstrap admin is refused, as the server says.
    let e = kc
        .realm("master")
        .admin_console()
        .whoami()
        .send()
        .await
        .expect_err("admin-cli tokens are refused");
    assert_eq!(e.status(), Some(403), "{e}");
    delete_realm(&kc, &realm).await;
}
