//! User federation against a real OpenLDAP (`slapd`, started by `cargo xtask test` and seeded
//! with alice, bob, carol and the groups admins {alice, bob}, devs {carol}): the LDAP component,
//! connection tests, full and changed-users sync, group-mapper sync, an LDAP user's login, and
//! unlink / remove-imported, all through typed calls (the endpoints come from the supplement).

use std::process::{Command, Stdio};
use std::time::Instant;

use cloakroom::generated::models::{
    ComponentRepresentation, SynchronizationResult, TestLdapConnectionRepresentation,
};
use cloakroom::{Client, Credentials};
use serde_json::json;

use crate::support::kc::{admin, builder, create_realm, delete_realm};

const SEEDED: [&str; 3] = ["alice", "bob", "carol"];

/// The directory `cargo xtask test` started (`CLOAKROOM_TEST_LDAP_*`).
struct Ldap {
    url: String,
    bind_dn: String,
    bind_password: String,
    users_dn: String,
    groups_dn: String,
    user_password: String,
}

fn ldap() -> Ldap {
    let var = |name: &str| {
        std::env::var(format!("CLOAKROOM_TEST_LDAP_{name}")).unwrap_or_else(|_| {
            panic!(
                "CLOAKROOM_TEST_LDAP_{name} is not set: run the LDAP tests through `cargo xtask test`, \
                 which starts slapd"
            )
        })
    };
    Ldap {
        url: var("URL"),
        bind_dn: var("BIND_DN"),
        bind_password: var("BIND_PASSWORD"),
        users_dn: var("USERS_DN"),
        groups_dn: var("GROUPS_DN"),
        user_password: var("USER_PASSWORD"),
    }
}

fn config(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
        .collect()
}

/// Creates the LDAP provider in `realm` (read-only, importing) and returns its id.
async fn create_ldap_component(kc: &Client, realm: &str, l: &Ldap) -> String {
    let realm_id = kc.realm(realm).get().send().await.unwrap().id.unwrap();
    let rep = ComponentRepresentation {
        name: Some("openldap".into()),
        provider_id: Some("ldap".into()),
        provider_type: Some("org.keycloak.storage.UserStorageProvider".into()),
        parent_id: Some(realm_id),
        config: Some(config(&[
            ("enabled", "true"),
            ("priority", "0"),
            ("editMode", "READ_ONLY"),
            ("vendor", "other"),
            ("connectionUrl", &l.url),
            ("usersDn", &l.users_dn),
            ("authType", "simple"),
            ("bindDn", &l.bind_dn),
            ("bindCredential", &l.bind_password),
            ("usernameLDAPAttribute", "uid"),
            ("rdnLDAPAttribute", "uid"),
            ("uuidLDAPAttribute", "entryUUID"),
            ("userObjectClasses", "inetOrgPerson, organizationalPerson"),
            ("searchScope", "1"),
            ("pagination", "false"),
            ("importEnabled", "true"),
            ("syncRegistrations", "false"),
            ("batchSizeForSync", "1000"),
            ("fullSyncPeriod", "-1"),
            ("changedSyncPeriod", "-1"),
            ("cachePolicy", "DEFAULT"),
            ("useTruststoreSpi", "never"),
            ("connectionPooling", "false"),
            ("trustEmail", "true"),
        ])),
        ..Default::default()
    };
    kc.realm(realm)
        .components()
        .create(&rep)
        .send()
        .await
        .unwrap()
}

fn connection(l: &Ldap, action: &str, password: &str) -> TestLdapConnectionRepresentation {
    TestLdapConnectionRepresentation {
        action: Some(action.into()),
        connection_url: Some(l.url.clone()),
        bind_dn: Some(l.bind_dn.clone()),
        bind_credential: Some(password.into()),
        use_truststore_spi: Some("never".into()),
        auth_type: Some("simple".into()),
        ..Default::default()
    }
}

/// Adds one user to the directory with `ldapadd` (from ldap-utils, next to slapd).
fn ldap_add_user(l: &Ldap, uid: &str) {
    let ldif = format!(
        "dn: uid={uid},{}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} New\nsn: New\n\
         mail: {uid}@cloakroom.test\nuserPassword: {}\n",
        l.users_dn, l.user_password
    );
    let mut child = Command::new("ldapadd")
        .args(["-x", "-H", &l.url, "-D", &l.bind_dn, "-w", &l.bind_password])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ldapadd (apt-get install -y ldap-utils)");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), ldif.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ldapadd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn counts(r: &SynchronizationResult) -> (i32, i32, i32, i32) {
    (
        r.added.unwrap_or_default(),
        r.updated.unwrap_or_default(),
        r.removed.unwrap_or_default(),
        r.failed.unwrap_or_default(),
    )
}

/// The ids of the seeded users as Keycloak knows them, with their federation link.
async fn seeded_users(kc: &Client, realm: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for name in SEEDED {
        let u = kc
            .realm(realm)
            .users()
            .find_by_username(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name} is not in Keycloak"));
        out.push((u.id.unwrap(), u.federation_link));
    }
    out
}

#[tokio::test]
async fn ldap_federation_end_to_end() {
    let kc = admin();
    let l = ldap();
    let realm = create_realm(&kc, "ldap", json!({})).await;
    let storage = kc.realm(&realm).user_storage();

    let t = Instant::now();
    let id = create_ldap_component(&kc, &realm, &l).await;
    eprintln!("timing: create LDAP component {:?}", t.elapsed());
    let name = storage.name(&id).send().await.unwrap();
    assert_eq!(name.get("name").map(String::as_str), Some("openldap"));

    // Connection tests: the right password binds, a wrong one is a typed 400 naming the failure.
    let r = kc.realm(&realm);
    let t = Instant::now();
    r.test_ldap_connection(&connection(&l, "testAuthentication", &l.bind_password))
        .send()
        .await
        .unwrap();
    eprintln!("timing: testLDAPConnection {:?}", t.elapsed());
    let err = r
        .test_ldap_connection(&connection(&l, "testAuthentication", "wrong-password"))
        .send()
        .await
        .expect_err("a wrong bind password must fail");
    assert_eq!(err.status(), Some(400), "{err}");
    let message = err.as_api().and_then(|a| a.message());
    assert_eq!(message, Some("AuthenticationFailure"), "{err}");
    let caps = r
        .ldap_server_capabilities(&connection(&l, "queryServerCapabilities", &l.bind_password))
        .send()
        .await
        .unwrap();
    assert!(!caps.is_empty(), "slapd announces its capabilities");

    // Full sync imports exactly the seeded users.
    let t = Instant::now();
    let full = storage
        .sync(&id)
        .action("triggerFullSync")
        .send()
        .await
        .unwrap();
    eprintln!("timing: full sync of 3 users {:?}", t.elapsed());
    assert_eq!(counts(&full), (3, 0, 0, 0), "{full:?}");
    for (_, link) in seeded_users(&kc, &realm).await {
        assert_eq!(link.as_deref(), Some(id.as_str()));
    }

    // A user added in LDAP arrives with the changed-users sync (timestamps have 1 s resolution).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    ldap_add_user(&l, "dave");
    let t = Instant::now();
    let changed = storage
        .sync(&id)
        .action("triggerChangedUsersSync")
        .send()
        .await
        .unwrap();
    eprintln!("timing: changed-users sync {:?}", t.elapsed());
    assert_eq!(counts(&changed).0, 1, "{changed:?}");
    let dave = r.users().find_by_username("dave").await.unwrap();
    assert_eq!(dave.and_then(|u| u.federation_link), Some(id.clone()));

    group_mapper_sync(&kc, &realm, &id, &l).await;
    ldap_user_logs_in(&realm, &l).await;

    // remove-imported-users deletes the imported copies; unlink-users keeps them, unlinked.
    let before = seeded_users(&kc, &realm).await;
    storage.remove_imported_users(&id).send().await.unwrap();
    for (uid, _) in &before {
        let e = r.user(uid).get().send().await.expect_err("removed");
        assert!(e.is_not_found(), "{e}");
    }
    let again = storage
        .sync(&id)
        .action("triggerFullSync")
        .send()
        .await
        .unwrap();
    assert_eq!(counts(&again).0, 4, "re-imported: {again:?}");
    let t = Instant::now();
    storage.unlink_users(&id).send().await.unwrap();
    eprintln!("timing: unlink-users {:?}", t.elapsed());
    for (uid, link) in seeded_users(&kc, &realm).await {
        assert_eq!(link, None, "user {uid} is unlinked");
    }
    delete_realm(&kc, &realm).await;
}

/// A group-ldap-mapper brings the LDAP groups with their members.
async fn group_mapper_sync(kc: &Client, realm: &str, ldap_id: &str, l: &Ldap) {
    let mapper = ComponentRepresentation {
        name: Some("groups".into()),
        provider_id: Some("group-ldap-mapper".into()),
        provider_type: Some("org.keycloak.storage.ldap.mappers.LDAPStorageMapper".into()),
        parent_id: Some(ldap_id.to_owned()),
        config: Some(config(&[
            ("groups.dn", &l.groups_dn),
            ("group.name.ldap.attribute", "cn"),
            ("group.object.classes", "groupOfNames"),
            ("preserve.group.inheritance", "false"),
            ("membership.ldap.attribute", "member"),
            ("membership.attribute.type", "DN"),
            ("membership.user.ldap.attribute", "uid"),
            ("mode", "READ_ONLY"),
            (
                "user.roles.retrieve.strategy",
                "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE",
            ),
            ("memberof.ldap.attribute", "memberOf"),
            ("drop.non.existing.groups.during.sync", "false"),
            ("ignore.missing.groups", "false"),
        ])),
        ..Default::default()
    };
    let r = kc.realm(realm);
    let mapper_id = r.components().create(&mapper).send().await.unwrap();
    let t = Instant::now();
    let res = kc
        .realm(realm)
        .user_storage()
        .sync_mapper(ldap_id, &mapper_id)
        .direction("fedToKeycloak")
        .send()
        .await
        .unwrap();
    eprintln!("timing: group mapper sync {:?}", t.elapsed());
    assert_eq!(counts(&res).0, 2, "{res:?}");
    let groups = r.groups().list().send().await.unwrap();
    let mut names: Vec<String> = groups.iter().filter_map(|g| g.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["admins", "devs"]);
    let admins = groups
        .iter()
        .find(|g| g.name.as_deref() == Some("admins"))
        .and_then(|g| g.id.clone())
        .unwrap();
    let members = r.group(&admins).members().send().await.unwrap();
    let mut members: Vec<String> = members.into_iter().filter_map(|u| u.username).collect();
    members.sort();
    assert_eq!(members, ["alice", "bob"]);
}

/// alice logs in with her LDAP password through the password grant (admin-cli of the realm).
async fn ldap_user_logs_in(realm: &str, l: &Ldap) {
    let t = Instant::now();
    let alice = builder()
        .auth_realm(realm)
        .credentials(Credentials::password("alice", l.user_password.clone()))
        .build()
        .unwrap();
    let token = alice.access_token().await.unwrap();
    assert!(!token.is_empty());
    eprintln!("timing: LDAP user password grant {:?}", t.elapsed());
    let wrong = builder()
        .auth_realm(realm)
        .credentials(Credentials::password("alice", "not-her-password"))
        .build()
        .unwrap();
    let e = wrong.access_token().await.expect_err("wrong password");
    assert!(e.as_auth().is_some(), "{e}");
}
