//! Realm roles, roles by id and client roles: lifecycle, composites, holders and management
//! permissions.

use std::collections::BTreeMap;

use cloakroom::generated::models::{
    GroupRepresentation, ManagementPermissionReference, RoleRepresentation,
};

use super::role_mappings::realm_with_roles;
use super::{client_uuid, names, set, user_rep};
use crate::support::kc::{admin, create_realm, delete_realm};

fn role(name: &str, description: &str) -> RoleRepresentation {
    RoleRepresentation {
        name: Some(name.into()),
        description: Some(description.into()),
        attributes: Some(BTreeMap::from([("tier".into(), vec!["gold".into()])])),
        ..Default::default()
    }
}

fn enable() -> ManagementPermissionReference {
    ManagementPermissionReference {
        enabled: Some(true),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realm_roles_lifecycle_composites_holders_and_permissions() {
    let kc = admin();
    let realm = create_realm(&kc, "roles-realm", realm_with_roles()).await;
    let r = kc.realm(&realm);
    let api = client_uuid(&kc, &realm, "api").await;

    let created = r
        .roles()
        .create(&role("auditor", "Reads the books"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created, "auditor",
        "a realm role's Location ends with its name"
    );
    let all = r.roles().list().send().await.unwrap();
    assert!(names(&all).is_superset(&set(["auditor", "viewer", "editor", "offline_access"])));
    let found = r
        .roles()
        .list()
        .search("audi")
        .brief_representation(false)
        .first(0)
        .max(10)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&found), set(["auditor"]));
    assert_eq!(found[0].attributes.as_ref().unwrap()["tier"], ["gold"]);

    let auditor = r.role("auditor");
    let got = auditor.get().send().await.unwrap();
    assert_eq!(got.description.as_deref(), Some("Reads the books"));
    assert_eq!(got.client_role, Some(false));
    assert_eq!(got.composite, Some(false));
    let mut changed = got.clone();
    changed.description = Some("Reads and signs the books".into());
    auditor.update(&changed).send().await.unwrap();
    assert_eq!(
        auditor.get().send().await.unwrap().description.as_deref(),
        Some("Reads and signs the books")
    );

    // Composites: one realm role and one client role.
    let viewer = r.role("viewer").get().send().await.unwrap();
    let read = r.client(&api).role("read").get().send().await.unwrap();
    auditor
        .add_composites(&[viewer.clone(), read.clone()])
        .send()
        .await
        .unwrap();
    assert_eq!(auditor.get().send().await.unwrap().composite, Some(true));
    assert_eq!(
        names(&auditor.composites().send().await.unwrap()),
        set(["viewer", "read"])
    );
    assert_eq!(
        names(&auditor.composites_realm().send().await.unwrap()),
        set(["viewer"])
    );
    assert_eq!(
        names(&auditor.composites_client(&api).send().await.unwrap()),
        set(["read"])
    );
    auditor
        .remove_composites(std::slice::from_ref(&read))
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&auditor.composites().send().await.unwrap()),
        set(["viewer"])
    );
    assert!(
        auditor
            .composites_client(&api)
            .send()
            .await
            .unwrap()
            .is_empty()
    );

    // Who holds the role, directly.
    assert!(auditor.users().send().await.unwrap().is_empty());
    let uid = r
        .users()
        .create(&user_rep("olga", None))
        .send()
        .await
        .unwrap();
    r.user(&uid)
        .role_mappings_realm_add(std::slice::from_ref(&got))
        .send()
        .await
        .unwrap();
    let gid = r
        .groups()
        .create(&GroupRepresentation {
            name: Some("finance".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .unwrap();
    r.group(&gid)
        .role_mappings_realm_add(std::slice::from_ref(&got))
        .send()
        .await
        .unwrap();
    let holders = auditor
        .users()
        .first(0)
        .max(10)
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].id.as_deref(), Some(uid.as_str()));
    let holder_groups = auditor
        .groups()
        .first(0)
        .max(10)
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    assert_eq!(holder_groups.len(), 1);
    assert_eq!(holder_groups[0].id.as_deref(), Some(gid.as_str()));
    assert_eq!(holder_groups[0].path.as_deref(), Some("/finance"));

    let before = auditor.management_permissions().send().await.unwrap();
    assert_eq!(before.enabled, Some(false));
    let on = auditor
        .update_management_permissions(&enable())
        .send()
        .await
        .unwrap();
    assert_eq!(on.enabled, Some(true));
    assert!(
        on.scope_permissions
            .as_ref()
            .unwrap()
            .contains_key("map-role")
    );
    assert_eq!(
        auditor
            .management_permissions()
            .send()
            .await
            .unwrap()
            .enabled,
        Some(true)
    );

    auditor.delete().send().await.unwrap();
    assert!(auditor.get().send().await.unwrap_err().is_not_found());
    assert!(
        r.user(&uid)
            .role_mappings_realm()
            .send()
            .await
            .unwrap()
            .iter()
            .all(|r| r.name.as_deref() != Some("auditor"))
    );

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_by_id_lifecycle_composites_and_permissions() {
    let kc = admin();
    let realm = create_realm(&kc, "roles-byid", realm_with_roles()).await;
    let r = kc.realm(&realm);
    let api = client_uuid(&kc, &realm, "api").await;

    r.roles()
        .create(&role("operator", "Runs things"))
        .send()
        .await
        .unwrap();
    let id = r.role("operator").get().send().await.unwrap().id.unwrap();
    let by_id = r.role_by_id(&id);

    let got = by_id.get().send().await.unwrap();
    assert_eq!(got.name.as_deref(), Some("operator"));
    assert_eq!(got.id.as_deref(), Some(id.as_str()));
    let mut changed = got.clone();
    changed.description = Some("Runs and watches things".into());
    changed.attributes = Some(BTreeMap::from([("tier".into(), vec!["silver".into()])]));
    by_id.update(&changed).send().await.unwrap();
    let after = r.role("operator").get().send().await.unwrap();
    assert_eq!(
        after.description.as_deref(),
        Some("Runs and watches things")
    );
    assert_eq!(after.attributes.unwrap()["tier"], ["silver"]);

    let viewer = r.role("viewer").get().send().await.unwrap();
    let editor = r.role("editor").get().send().await.unwrap();
    let write = r.client(&api).role("write").get().send().await.unwrap();
    by_id
        .add_composites(&[viewer.clone(), editor.clone(), write.clone()])
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&by_id.composites().send().await.unwrap()),
        set(["viewer", "editor", "write"])
    );
    let page = by_id.composites().first(0).max(2).send().await.unwrap();
    assert_eq!(
        page.len(),
        2,
        "composites are paged when first/max are given"
    );
    let searched = by_id
        .composites()
        .search("edit")
        .first(0)
        .max(10)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&searched), set(["editor"]));
    assert_eq!(
        names(&by_id.composites_realm().send().await.unwrap()),
        set(["viewer", "editor"])
    );
    assert_eq!(
        names(&by_id.composites_client(&api).send().await.unwrap()),
        set(["write"])
    );
    by_id
        .remove_composites(&[viewer, write])
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&by_id.composites().send().await.unwrap()),
        set(["editor"])
    );

    assert_eq!(
        by_id.management_permissions().send().await.unwrap().enabled,
        Some(false)
    );
    let on = by_id
        .update_management_permissions(&enable())
        .send()
        .await
        .unwrap();
    assert_eq!(on.enabled, Some(true));
    assert!(on.resource.is_some());
    // The same switch seen by name.
    assert_eq!(
        r.role("operator")
            .management_permissions()
            .send()
            .await
            .unwrap(),
        on
    );

    by_id.delete().send().await.unwrap();
    assert!(by_id.get().send().await.unwrap_err().is_not_found());
    assert!(
        r.role("operator")
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_roles_lifecycle_composites_holders_and_permissions() {
    let kc = admin();
    let realm = create_realm(&kc, "roles-client", realm_with_roles()).await;
    let r = kc.realm(&realm);
    let api = client_uuid(&kc, &realm, "api").await;
    let roles = r.client(&api).roles();

    let created = roles
        .create(&role("admin", "Administers the API"))
        .send()
        .await
        .unwrap();
    assert_eq!(created, "admin");
    assert_eq!(
        names(&roles.list().send().await.unwrap()),
        set(["admin", "read", "write"])
    );
    let found = roles
        .list()
        .search("adm")
        .brief_representation(false)
        .first(0)
        .max(5)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&found), set(["admin"]));
    assert_eq!(found[0].attributes.as_ref().unwrap()["tier"], ["gold"]);

    let admin_role = r.client(&api).role("admin");
    let got = admin_role.get().send().await.unwrap();
    assert_eq!(got.client_role, Some(true));
    assert_eq!(got.container_id.as_deref(), Some(api.as_str()));
    let mut changed = got.clone();
    changed.description = Some("Administers everything in the API".into());
    admin_role.update(&changed).send().await.unwrap();
    assert_eq!(
        admin_role
            .get()
            .send()
            .await
            .unwrap()
            .description
            .as_deref(),
        Some("Administers everything in the API")
    );

    let write = r.client(&api).role("write").get().send().await.unwrap();
    let viewer = r.role("viewer").get().send().await.unwrap();
    admin_role
        .add_composites(&[write.clone(), viewer.clone()])
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&admin_role.composites().send().await.unwrap()),
        set(["write", "viewer"])
    );
    assert_eq!(
        names(&admin_role.composites_realm().send().await.unwrap()),
        set(["viewer"])
    );
    assert_eq!(
        names(&admin_role.composites_client(&api).send().await.unwrap()),
        set(["write"])
    );
    admin_role
        .remove_composites(std::slice::from_ref(&viewer))
        .send()
        .await
        .unwrap();
    assert!(
        admin_role
            .composites_realm()
            .send()
            .await
            .unwrap()
            .is_empty()
    );

    let uid = r
        .users()
        .create(&user_rep("pete", None))
        .send()
        .await
        .unwrap();
    r.user(&uid)
        .role_mappings_client_add(&api, std::slice::from_ref(&got))
        .send()
        .await
        .unwrap();
    let gid = r
        .groups()
        .create(&GroupRepresentation {
            name: Some("api-admins".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .unwrap();
    r.group(&gid)
        .role_mappings_client_add(&api, std::slice::from_ref(&got))
        .send()
        .await
        .unwrap();
    let holders = admin_role
        .users()
        .first(0)
        .max(10)
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].username.as_deref(), Some("pete"));
    let holder_groups = admin_role
        .groups()
        .first(0)
        .max(10)
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert_eq!(holder_groups.len(), 1);
    assert_eq!(holder_groups[0].name.as_deref(), Some("api-admins"));

    assert_eq!(
        admin_role
            .management_permissions()
            .send()
            .await
            .unwrap()
            .enabled,
        Some(false)
    );
    let on = admin_role
        .update_management_permissions(&enable())
        .send()
        .await
        .unwrap();
    assert_eq!(on.enabled, Some(true));
    assert!(on.scope_permissions.unwrap().contains_key("map-role"));
    assert_eq!(
        admin_role
            .management_permissions()
            .send()
            .await
            .unwrap()
            .enabled,
        Some(true)
    );

    admin_role.delete().send().await.unwrap();
    assert!(admin_role.get().send().await.unwrap_err().is_not_found());
    assert_eq!(
        names(&roles.list().send().await.unwrap()),
        set(["read", "write"])
    );

    delete_realm(&kc, &realm).await;
}
