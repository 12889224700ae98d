//! Groups: the tree, search, moves, management permissions, members, default groups and
//! role mappings.

use std::collections::BTreeMap;

use cloakroom::generated::models::{GroupRepresentation, ManagementPermissionReference};
use serde_json::json;

use super::role_mappings::realm_with_roles;
use super::{client_uuid, names, set, user_rep};
use crate::support::kc::{admin, create_realm, delete_realm};

fn group(name: &str) -> GroupRepresentation {
    GroupRepresentation {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn group_names(groups: &[GroupRepresentation]) -> std::collections::BTreeSet<String> {
    groups.iter().filter_map(|g| g.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_tree_search_update_move_and_delete() {
    let kc = admin();
    let realm = create_realm(&kc, "groups-tree", json!({})).await;
    let r = kc.realm(&realm);
    let groups = r.groups();

    let eng = groups
        .create(&GroupRepresentation {
            attributes: Some(BTreeMap::from([("cost-center".into(), vec!["42".into()])])),
            description: Some("Engineering".into()),
            ..group("engineering")
        })
        .send()
        .await
        .unwrap()
        .expect("a new group answers its id");
    let sales = groups
        .create(&group("sales"))
        .send()
        .await
        .unwrap()
        .unwrap();
    let backend = r
        .group(&eng)
        .create_child(&group("backend"))
        .send()
        .await
        .unwrap()
        .unwrap();
    let frontend = r
        .group(&eng)
        .create_child(&group("frontend"))
        .send()
        .await
        .unwrap()
        .unwrap();

    let got = r.group(&eng).get().send().await.unwrap();
    assert_eq!(got.path.as_deref(), Some("/engineering"));
    assert_eq!(got.description.as_deref(), Some("Engineering"));
    assert_eq!(got.attributes.as_ref().unwrap()["cost-center"], ["42"]);
    assert_eq!(got.sub_group_count, Some(2));
    let child = r.group(&backend).get().send().await.unwrap();
    assert_eq!(child.path.as_deref(), Some("/engineering/backend"));
    assert_eq!(child.parent_id.as_deref(), Some(eng.as_str()));

    let children = r.group(&eng).children().send().await.unwrap();
    assert_eq!(group_names(&children), set(["backend", "frontend"]));
    let page = r
        .group(&eng)
        .children()
        .first(0)
        .max(1)
        .brief_representation(true)
        .sub_groups_count(true)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let exact = r
        .group(&eng)
        .children()
        .search("back")
        .exact(false)
        .send()
        .await
        .unwrap();
    assert_eq!(group_names(&exact), set(["backend"]));

    let top = groups.list().send().await.unwrap();
    assert_eq!(group_names(&top), set(["engineering", "sales"]));
    let found = groups
        .list()
        .search("front")
        .populate_hierarchy(true)
        .sub_groups_count(true)
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    assert_eq!(
        group_names(&found),
        set(["engineering"]),
        "matches come with their parents"
    );
    let subs = found[0].sub_groups.as_ref().unwrap();
    assert_eq!(group_names(subs), set(["frontend"]));
    let by_attr = groups.list().q("cost-center:42").send().await.unwrap();
    assert_eq!(group_names(&by_attr), set(["engineering"]));
    let exact = groups
        .list()
        .search("sales")
        .exact(true)
        .first(0)
        .max(10)
        .send()
        .await
        .unwrap();
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0].id.as_deref(), Some(sales.as_str()));

    assert_eq!(groups.count().send().await.unwrap()["count"], 4);
    assert_eq!(groups.count().top(true).send().await.unwrap()["count"], 2);
    assert_eq!(
        groups.count().search("end").send().await.unwrap()["count"],
        2
    );

    let mut changed = got.clone();
    changed.description = Some("Engineering and operations".into());
    changed.attributes = Some(BTreeMap::from([("cost-center".into(), vec!["43".into()])]));
    r.group(&eng).update(&changed).send().await.unwrap();
    let after = r.group(&eng).get().send().await.unwrap();
    assert_eq!(
        after.description.as_deref(),
        Some("Engineering and operations")
    );
    assert_eq!(after.attributes.unwrap()["cost-center"], ["43"]);

    // Posting an existing group moves it: to the top level, then under another group.
    let moved = groups
        .create(&GroupRepresentation {
            id: Some(frontend.clone()),
            ..group("frontend")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(moved, None, "a move creates nothing");
    assert_eq!(
        r.group(&frontend)
            .get()
            .send()
            .await
            .unwrap()
            .path
            .as_deref(),
        Some("/frontend")
    );
    let moved = r
        .group(&sales)
        .create_child(&GroupRepresentation {
            id: Some(frontend.clone()),
            ..group("frontend")
        })
        .send()
        .await
        .unwrap();
    assert_eq!(moved, None);
    assert_eq!(
        r.group(&frontend)
            .get()
            .send()
            .await
            .unwrap()
            .path
            .as_deref(),
        Some("/sales/frontend")
    );

    r.group(&eng).delete().send().await.unwrap();
    assert!(r.group(&eng).get().send().await.unwrap_err().is_not_found());
    assert!(
        r.group(&backend)
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found(),
        "children go too"
    );
    assert_eq!(groups.count().send().await.unwrap()["count"], 2);

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_management_permissions() {
    let kc = admin();
    let realm = create_realm(&kc, "groups-perm", json!({})).await;
    let r = kc.realm(&realm);
    let id = r
        .groups()
        .create(&group("auditors"))
        .send()
        .await
        .unwrap()
        .unwrap();
    let g = r.group(&id);

    let before = g.management_permissions().send().await.unwrap();
    assert_eq!(before.enabled, Some(false));
    let on = g
        .update_management_permissions(&ManagementPermissionReference {
            enabled: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(on.enabled, Some(true));
    assert!(on.resource.is_some());
    let scopes = on.scope_permissions.clone().unwrap();
    for scope in [
        "view",
        "manage",
        "view-members",
        "manage-members",
        "manage-membership",
    ] {
        assert!(scopes.contains_key(scope), "{scope} in {scopes:?}");
    }
    assert_eq!(g.management_permissions().send().await.unwrap(), on);

    let off = g
        .update_management_permissions(&ManagementPermissionReference {
            enabled: Some(false),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(off.enabled, Some(false));

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_members_user_groups_and_default_groups() {
    let kc = admin();
    let realm = create_realm(&kc, "groups-members", json!({})).await;
    let r = kc.realm(&realm);
    let staff = r
        .groups()
        .create(&group("staff"))
        .send()
        .await
        .unwrap()
        .unwrap();
    let admins = r
        .group(&staff)
        .create_child(&group("admins"))
        .send()
        .await
        .unwrap()
        .unwrap();
    let newcomers = r
        .groups()
        .create(&group("newcomers"))
        .send()
        .await
        .unwrap()
        .unwrap();

    let jane = r
        .users()
        .create(&user_rep("jane", None))
        .send()
        .await
        .unwrap();
    let kim = r
        .users()
        .create(&user_rep("kim", None))
        .send()
        .await
        .unwrap();
    let user = r.user(&jane);

    user.join_group(&staff).send().await.unwrap();
    user.join_group(&admins).send().await.unwrap();
    r.user(&kim).join_group(&staff).send().await.unwrap();

    let mine = user.groups().send().await.unwrap();
    assert_eq!(group_names(&mine), set(["staff", "admins"]));
    let paths: Vec<_> = user
        .groups()
        .brief_representation(false)
        .search("adm")
        .first(0)
        .max(10)
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.path.unwrap())
        .collect();
    assert_eq!(paths, ["/staff/admins"]);
    assert_eq!(user.groups_count().send().await.unwrap()["count"], 2);
    assert_eq!(
        user.groups_count().search("adm").send().await.unwrap()["count"],
        1
    );

    let members = r.group(&staff).members().send().await.unwrap();
    let usernames: std::collections::BTreeSet<_> =
        members.iter().filter_map(|u| u.username.clone()).collect();
    assert_eq!(usernames, set(["jane", "kim"]));
    let page = r
        .group(&staff)
        .members()
        .first(0)
        .max(1)
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 1);

    user.leave_group(&admins).send().await.unwrap();
    assert_eq!(
        group_names(&user.groups().send().await.unwrap()),
        set(["staff"])
    );
    assert!(r.group(&admins).members().send().await.unwrap().is_empty());

    // Default groups: every new user joins them.
    let defaults = r.default_groups();
    assert!(defaults.list().send().await.unwrap().is_empty());
    defaults.add(&newcomers).send().await.unwrap();
    let listed = defaults.list().send().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id.as_deref(), Some(newcomers.as_str()));
    assert_eq!(listed[0].path.as_deref(), Some("/newcomers"));
    let leo = r
        .users()
        .create(&user_rep("leo", None))
        .send()
        .await
        .unwrap();
    assert_eq!(
        group_names(&r.user(&leo).groups().send().await.unwrap()),
        set(["newcomers"])
    );
    defaults.remove(&newcomers).send().await.unwrap();
    assert!(defaults.list().send().await.unwrap().is_empty());
    let mia = r
        .users()
        .create(&user_rep("mia", None))
        .send()
        .await
        .unwrap();
    assert!(r.user(&mia).groups().send().await.unwrap().is_empty());

    delete_realm(&kc, &realm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_realm_and_client_role_mappings() {
    let kc = admin();
    let realm = create_realm(&kc, "groups-rm", realm_with_roles()).await;
    let r = kc.realm(&realm);
    let api = client_uuid(&kc, &realm, "api").await;
    let id = r
        .groups()
        .create(&group("writers"))
        .send()
        .await
        .unwrap()
        .unwrap();
    let g = r.group(&id);

    // Realm roles.
    assert!(g.role_mappings_realm().send().await.unwrap().is_empty());
    let available = g.role_mappings_realm_available().send().await.unwrap();
    let editor = available
        .iter()
        .find(|r| r.name.as_deref() == Some("editor"))
        .unwrap()
        .clone();
    g.role_mappings_realm_add(std::slice::from_ref(&editor))
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&g.role_mappings_realm().send().await.unwrap()),
        set(["editor"])
    );
    let effective = g
        .role_mappings_realm_composite()
        .brief_representation(false)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&effective), set(["editor", "viewer"]));
    assert!(!names(&g.role_mappings_realm_available().send().await.unwrap()).contains("editor"));

    // Client roles.
    let available = g.role_mappings_client_available(&api).send().await.unwrap();
    assert_eq!(names(&available), set(["read", "write"]));
    let write = available
        .iter()
        .find(|r| r.name.as_deref() == Some("write"))
        .unwrap()
        .clone();
    g.role_mappings_client_add(&api, std::slice::from_ref(&write))
        .send()
        .await
        .unwrap();
    assert_eq!(
        names(&g.role_mappings_client(&api).send().await.unwrap()),
        set(["write"])
    );
    let effective = g
        .role_mappings_client_composite(&api)
        .brief_representation(true)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&effective), set(["read", "write"]));

    let all = g.role_mappings().send().await.unwrap();
    assert_eq!(names(all.realm_mappings.as_ref().unwrap()), set(["editor"]));
    let api_mappings = &all.client_mappings.as_ref().unwrap()["api"];
    assert_eq!(api_mappings.id.as_deref(), Some(api.as_str()));
    assert_eq!(
        names(api_mappings.mappings.as_ref().unwrap()),
        set(["write"])
    );

    // Members get the group's roles.
    let uid = r
        .users()
        .create(&user_rep("nora", None))
        .send()
        .await
        .unwrap();
    r.user(&uid).join_group(&id).send().await.unwrap();
    let user_effective = names(
        &r.user(&uid)
            .role_mappings_client_composite(&api)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(user_effective, set(["read", "write"]));

    g.role_mappings_client_remove(&api, std::slice::from_ref(&write))
        .send()
        .await
        .unwrap();
    assert!(
        g.role_mappings_client(&api)
            .send()
            .await
            .unwrap()
            .is_empty()
    );
    g.role_mappings_realm_remove(std::slice::from_ref(&editor))
        .send()
        .await
        .unwrap();
    assert!(g.role_mappings_realm().send().await.unwrap().is_empty());
    let all = g.role_mappings().send().await.unwrap();
    assert!(all.realm_mappings.unwrap_or_default().is_empty());

    delete_realm(&kc, &realm).await;
}
