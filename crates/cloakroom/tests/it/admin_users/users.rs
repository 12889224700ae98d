//! Users: lifecycle and search, credentials, emails, sessions and consents, federated
//! identities, impersonation.

use std::collections::BTreeMap;
use std::time::Duration;

use cloakroom::ClientAuth;
use cloakroom::generated::models::{
    CredentialRepresentation, FederatedIdentityRepresentation, UnmanagedAttributePolicy,
    UserRepresentation,
};
use cloakroom::oidc::PasswordGrant;
use serde_json::json;

use super::{client_uuid, set, user_rep};
use crate::support::kc::{admin, builder, create_realm, delete_realm};
use crate::support::smtp::{Mail, SmtpSink};

/// A public client that allows the password grant.
fn direct_grant_client(client_id: &str) -> serde_json::Value {
    json!({
        "clientId": client_id,
        "publicClient": true,
        "directAccessGrantsEnabled": true,
        "standardFlowEnabled": false,
        "optionalClientScopes": ["offline_access"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_search_count_update_and_delete() {
    let kc = admin();
    let realm = create_realm(&kc, "users-crud", json!({})).await;
    let r = kc.realm(&realm);

    // Attributes outside the user profile are kept only when the realm allows unmanaged ones.
    let mut profile = r.user_profile().get().send().await.unwrap();
    profile.unmanaged_attribute_policy = Some(UnmanagedAttributePolicy::Enabled);
    r.user_profile().update(&profile).send().await.unwrap();

    let users = r.users();
    let mut alice = user_rep("alice", Some("alice-pw-1"));
    alice.attributes = Some(BTreeMap::from([("dept".into(), vec!["eng".into()])]));
    let alice_id = users.create(&alice).send().await.unwrap();
    let mut bob = user_rep("bob", None);
    bob.email_verified = Some(false);
    bob.attributes = Some(BTreeMap::from([("dept".into(), vec!["sales".into()])]));
    let bob_id = users.create(&bob).send().await.unwrap();
    assert_ne!(alice_id, bob_id);

    let found = users
        .list()
        .username("alice")
        .exact(true)
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_deref(), Some(alice_id.as_str()));
    assert_eq!(found[0].email.as_deref(), Some("alice@example.com"));

    let by_email = users.list().email("bob@example.com").send().await.unwrap();
    assert_eq!(by_email.len(), 1);
    assert_eq!(by_email[0].id.as_deref(), Some(bob_id.as_str()));

    let verified = users.list().email_verified(true).send().await.unwrap();
    assert_eq!(
        verified
            .iter()
            .map(|u| u.username.clone().unwrap())
            .collect::<Vec<_>>(),
        ["alice"]
    );

    let by_attr = users.list().q("dept:sales").send().await.unwrap();
    assert_eq!(by_attr.len(), 1);
    assert_eq!(by_attr[0].username.as_deref(), Some("bob"));

    let by_names = users
        .list()
        .first_name("alice")
        .last_name("Tester")
        .enabled(true)
        .send()
        .await
        .unwrap();
    assert_eq!(by_names.len(), 1);

    let brief = users
        .list()
        .search("*example.com")
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert_eq!(brief.len(), 2);
    // Since 26.5 brief answers leave out attributes (26.4 still sends them).
    if crate::support::served::at_least(26, 5) {
        assert!(
            brief.iter().all(|u| u.attributes.is_none()),
            "brief answers leave out attributes"
        );
    }

    let page = users.list().first(1).max(1).send().await.unwrap();
    assert_eq!(page.len(), 1);

    assert_eq!(users.count().send().await.unwrap(), 2);
    assert_eq!(users.count().search("bob").send().await.unwrap(), 1);
    assert_eq!(users.count().email_verified(true).send().await.unwrap(), 1);
    assert_eq!(users.count().q("dept:eng").send().await.unwrap(), 1);

    let user = r.user(&alice_id);
    let got = user.get().user_profile_metadata(true).send().await.unwrap();
    assert_eq!(got.username.as_deref(), Some("alice"));
    assert_eq!(got.attributes.as_ref().unwrap()["dept"], ["eng"]);
    let metadata = got
        .user_profile_metadata
        .clone()
        .expect("profile metadata asked for");
    assert!(
        metadata
            .attributes
            .unwrap()
            .iter()
            .any(|a| a.name.as_deref() == Some("email"))
    );

    let mut changed = got.clone();
    changed.user_profile_metadata = None;
    changed.first_name = Some("Alicia".into());
    changed.attributes = Some(BTreeMap::from([("dept".into(), vec!["ops".into()])]));
    changed.required_actions = Some(vec!["UPDATE_PASSWORD".into()]);
    user.update(&changed).send().await.unwrap();
    let after = user.get().send().await.unwrap();
    assert_eq!(after.first_name.as_deref(), Some("Alicia"));
    assert_eq!(after.attributes.as_ref().unwrap()["dept"], ["ops"]);
    assert_eq!(after.required_actions.unwrap(), ["UPDATE_PASSWORD"]);
    assert!(
        after.user_profile_metadata.is_none(),
        "metadata only when asked for"
    );

    r.user(&bob_id).delete().send().await.unwrap();
    let gone = r.user(&bob_id).get().send().await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
    assert_eq!(users.count().send().await.unwrap(), 1);

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_credentials_labelled_reordered_reset_disabled_and_deleted() {
    let kc = admin();
    let realm = create_realm(&kc, "users-creds", json!({})).await;
    let r = kc.realm(&realm);

    let mut erin = user_rep("erin", Some("erin-pw-1"));
    erin.credentials
        .as_mut()
        .unwrap()
        .push(CredentialRepresentation {
            r#type: Some("otp".into()),
            user_label: Some("old phone".into()),
            secret_data: Some(json!({"value": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}).to_string()),
            credential_data: Some(
                json!({"subType": "totp", "digits": 6, "counter": 0, "period": 30,
                   "algorithm": "HmacSHA1"})
                .to_string(),
            ),
            ..Default::default()
        });
    let id = r.users().create(&erin).send().await.unwrap();
    let user = r.user(&id);

    let creds = user.credentials().send().await.unwrap();
    let types: Vec<_> = creds.iter().map(|c| c.r#type.clone().unwrap()).collect();
    assert_eq!(types, ["password", "otp"], "password first, then the OTP");
    let password_id = creds[0].id.clone().unwrap();
    let otp_id = creds[1].id.clone().unwrap();
    assert!(
        creds.iter().all(|c| c.secret_data.is_none()),
        "secrets are never answered"
    );
    assert_eq!(creds[1].user_label.as_deref(), Some("old phone"));

    user.set_credential_label(&otp_id, "Work phone")
        .send()
        .await
        .unwrap();
    let creds = user.credentials().send().await.unwrap();
    assert_eq!(creds[1].user_label.as_deref(), Some("Work phone"));

    user.move_credential_to_first(&otp_id).send().await.unwrap();
    let order: Vec<_> = user
        .credentials()
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.unwrap())
        .collect();
    assert_eq!(order, [otp_id.clone(), password_id.clone()]);

    user.move_credential_after(&otp_id, &password_id)
        .send()
        .await
        .unwrap();
    let order: Vec<_> = user
        .credentials()
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.unwrap())
        .collect();
    assert_eq!(order, [password_id.clone(), otp_id.clone()]);

    // No user storage provider: nothing is configured there.
    let storage = user
        .configured_user_storage_credential_types()
        .send()
        .await
        .unwrap();
    assert!(storage.is_empty(), "{storage:?}");

    // disable-credential-types acts through user storage providers (LDAP, ...): a local
    // user's credentials are not touched.
    assert_eq!(user.get().send().await.unwrap().totp, Some(true));
    user.disable_credential_types(&["otp".to_owned()])
        .send()
        .await
        .unwrap();
    assert_eq!(user.credentials().send().await.unwrap().len(), 2);

    user.delete_credential(&otp_id).send().await.unwrap();
    let creds = user.credentials().send().await.unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].id.as_deref(), Some(password_id.as_str()));
    assert_eq!(user.get().send().await.unwrap().totp, Some(false));

    // A new password: the password grant takes it and refuses the old one.
    user.reset_password(&CredentialRepresentation {
        r#type: Some("password".into()),
        value: Some("erin-pw-2".into()),
        temporary: Some(false),
        ..Default::default()
    })
    .send()
    .await
    .unwrap();
    let oidc_http = builder().build().unwrap();
    let cli = oidc_http
        .oidc(&realm)
        .client("admin-cli", ClientAuth::Public);
    cli.password(PasswordGrant::new("erin", "erin-pw-2"))
        .await
        .unwrap();
    let old = cli.password(PasswordGrant::new("erin", "erin-pw-1")).await;
    assert!(old.is_err(), "the old password still works");

    delete_realm(&kc, &realm).await;
}

/// The `Subject` header of a mail.
fn subject(mail: &Mail) -> String {
    mail.data
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_else(|| panic!("no subject in {}", mail.data))
        .to_owned()
}

/// A mail's text with quoted-printable soft line breaks undone.
fn body(mail: &Mail) -> String {
    mail.data.replace("=\n", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_action_and_verification_emails_are_sent() {
    let kc = admin();
    let sink = SmtpSink::start().await;
    let realm = create_realm(
        &kc,
        "users-mail",
        json!({"smtpServer": sink.realm_config()}),
    )
    .await;
    let r = kc.realm(&realm);
    let id = r
        .users()
        .create(&user_rep("frank", None))
        .send()
        .await
        .unwrap();
    let user = r.user(&id);

    user.execute_actions_email(&["UPDATE_PASSWORD".to_owned(), "CONFIGURE_TOTP".to_owned()])
        .lifespan(900)
        .send()
        .await
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1, "execute-actions mail");
    assert!(
        mails[0].to.iter().any(|t| t.contains("frank@example.com")),
        "{:?}",
        mails[0].to
    );
    assert_eq!(subject(&mails[0]), "Update Your Account");
    assert!(
        body(&mails[0]).contains("action-token"),
        "a link with an action token"
    );

    let base = crate::support::server::test_server().url.clone();
    user.send_verify_email()
        .client_id("account")
        .redirect_uri(format!("{base}/realms/{realm}/account/"))
        .lifespan(600)
        .send()
        .await
        .unwrap();
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2, "verify-email mail");
    assert!(mails[1].to.iter().any(|t| t.contains("frank@example.com")));
    assert_eq!(subject(&mails[1]), "Verify email");
    assert!(body(&mails[1]).contains("action-token"));

    // The deprecated form of execute-actions-email with UPDATE_PASSWORD: still sends.
    #[allow(deprecated)]
    let reset = user.reset_password_email();
    reset.send().await.unwrap();
    let mails = sink.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 3, "reset-password mail");
    assert!(mails[2].to.iter().any(|t| t.contains("frank@example.com")));
    assert_eq!(subject(&mails[2]), "Update Your Account");

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_sessions_offline_sessions_consents_and_logout() {
    let kc = admin();
    let realm = create_realm(
        &kc,
        "users-sessions",
        json!({
            "clients": [
                direct_grant_client("app"),
                {
                    "clientId": "portal",
                    "publicClient": true,
                    "consentRequired": true,
                    "redirectUris": ["https://portal.example.com/*"],
                },
            ],
            "users": [{
                "username": "carol",
                "enabled": true,
                "email": "carol@example.com",
                "emailVerified": true,
                "firstName": "Carol",
                "lastName": "Tester",
                "credentials": [{"type": "password", "value": "carol-pw", "temporary": false}],
                // Imported users get no default roles: offline tokens need this one.
                "realmRoles": ["offline_access"],
                "clientConsents": [{
                    "clientId": "portal",
                    "grantedClientScopes": ["profile", "email"],
                }],
            }],
        }),
    )
    .await;
    let r = kc.realm(&realm);
    let id = r
        .users()
        .list()
        .username("carol")
        .exact(true)
        .send()
        .await
        .unwrap()[0]
        .id
        .clone()
        .unwrap();
    let user = r.user(&id);
    let app_uuid = client_uuid(&kc, &realm, "app").await;

    assert!(user.sessions().send().await.unwrap().is_empty());
    let oidc_http = builder().build().unwrap();
    let app = oidc_http.oidc(&realm).client("app", ClientAuth::Public);
    app.password(PasswordGrant::new("carol", "carol-pw"))
        .await
        .unwrap();

    let sessions = user.sessions().send().await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].user_id.as_deref(), Some(id.as_str()));
    assert_eq!(sessions[0].username.as_deref(), Some("carol"));
    assert!(
        sessions[0]
            .clients
            .as_ref()
            .unwrap()
            .values()
            .any(|c| c == "app")
    );

    assert!(
        user.offline_sessions(&app_uuid)
            .send()
            .await
            .unwrap()
            .is_empty()
    );
    app.password(PasswordGrant::new("carol", "carol-pw").scope("offline_access"))
        .await
        .unwrap();
    let offline = user.offline_sessions(&app_uuid).send().await.unwrap();
    assert_eq!(
        offline.len(),
        1,
        "the offline_access grant made an offline session"
    );
    assert!(offline[0].clients.as_ref().unwrap().contains_key(&app_uuid));

    let consents = user.consents().send().await.unwrap();
    let consent_clients: std::collections::BTreeSet<String> = consents
        .iter()
        .map(|c| c["clientId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(consent_clients, set(["app", "portal"]));
    let portal = consents.iter().find(|c| c["clientId"] == "portal").unwrap();
    let scopes: Vec<&str> = portal["grantedClientScopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"profile") && scopes.contains(&"email"),
        "{scopes:?}"
    );
    let app_consent = consents.iter().find(|c| c["clientId"] == "app").unwrap();
    assert!(
        app_consent["additionalGrants"]
            .to_string()
            .contains("Offline Token"),
        "{app_consent:?}"
    );

    user.revoke_consent("portal").send().await.unwrap();
    user.revoke_consent("app").send().await.unwrap();
    assert!(user.consents().send().await.unwrap().is_empty());
    assert!(
        user.offline_sessions(&app_uuid)
            .send()
            .await
            .unwrap()
            .is_empty(),
        "revoking the app's grant ends its offline session"
    );

    user.logout().send().await.unwrap();
    assert!(user.sessions().send().await.unwrap().is_empty());

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_impersonation_starts_a_session() {
    let kc = admin();
    let realm = create_realm(&kc, "users-imp", json!({})).await;
    let r = kc.realm(&realm);
    let id = r
        .users()
        .create(&user_rep("gina", Some("gina-pw")))
        .send()
        .await
        .unwrap();
    let user = r.user(&id);

    let answer = user.impersonate().send().await.unwrap();
    assert_eq!(answer["sameRealm"], json!(false), "{answer:?}");
    let redirect = answer["redirect"].as_str().expect("a redirect");
    assert!(
        redirect.contains(&format!("/realms/{realm}/account")),
        "{redirect}"
    );

    let sessions = user.sessions().send().await.unwrap();
    assert_eq!(
        sessions.len(),
        1,
        "impersonation opens a session for the user"
    );
    assert_eq!(sessions[0].username.as_deref(), Some("gina"));

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_federated_identities_link_find_and_unlink() {
    let kc = admin();
    let realm = create_realm(
        &kc,
        "users-fed",
        json!({
            "identityProviders": [{
                "alias": "corp",
                "providerId": "oidc",
                "enabled": true,
                "config": {
                    "clientId": "cloakroom",
                    "clientSecret": "s3cret",
                    "clientAuthMethod": "client_secret_post",
                    "authorizationUrl": "https://idp.example.com/auth",
                    "tokenUrl": "https://idp.example.com/token",
                },
            }],
        }),
    )
    .await;
    let r = kc.realm(&realm);
    let id = r
        .users()
        .create(&user_rep("dave", None))
        .send()
        .await
        .unwrap();
    let user = r.user(&id);
    assert!(user.federated_identities().send().await.unwrap().is_empty());

    user.add_federated_identity(
        "corp",
        &FederatedIdentityRepresentation {
            identity_provider: Some("corp".into()),
            user_id: Some("ext-4711".into()),
            user_name: Some("dave@corp".into()),
            ..Default::default()
        },
    )
    .send()
    .await
    .unwrap();
    let links = user.federated_identities().send().await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].identity_provider.as_deref(), Some("corp"));
    assert_eq!(links[0].user_id.as_deref(), Some("ext-4711"));
    assert_eq!(links[0].user_name.as_deref(), Some("dave@corp"));

    let found: Vec<UserRepresentation> = r
        .users()
        .list()
        .idp_alias("corp")
        .idp_user_id("ext-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(r.users().count().idp_alias("corp").send().await.unwrap(), 1);

    user.remove_federated_identity("corp").send().await.unwrap();
    assert!(user.federated_identities().send().await.unwrap().is_empty());

    delete_realm(&kc, &realm).await;
}
