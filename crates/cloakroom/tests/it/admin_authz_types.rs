//! The per-type authorization endpoints Keycloak serves but does not document (typed from
//! spec/cloakroom-supplement.json): role-, client-, client-scope-, user-, group-, time-, regex-
//! and aggregate-based policies, scope and resource permissions, and a policy's scopes,
//! resources, associated and dependent policies. Each python-keycloak chore is one typed call.

use cloakroom::Client;
use cloakroom::generated::models::{
    AggregatePolicyRepresentation, ClientBasedPolicyRepresentation,
    ClientScopePolicyRepresentation, GroupPolicyRepresentation, PolicyClientScopeDefinition,
    PolicyGroupDefinition, PolicyRoleDefinition, RegexPolicyRepresentation,
    ResourcePermissionRepresentation, ResourceRepresentation, RolePolicyRepresentation,
    ScopePermissionRepresentation, ScopeRepresentation, TimePolicyRepresentation,
    UserPolicyRepresentation,
};
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm, user};

/// Creates with `create_*`, reads back with `get_*`, changes the description with `update_*`
/// and reads it again; evaluates to the created id.
macro_rules! round_trip {
    ($h:expr, $create:ident, $get:ident, $update:ident, $rep:expr) => {{
        let rep = $rep;
        let created = $h.$create(&rep).send().await.unwrap();
        let id = created.id.clone().expect("the created policy has an id");
        let mut read = $h.$get(&id).send().await.unwrap();
        assert_eq!(read.name, rep.name);
        assert_eq!(
            read.extra,
            serde_json::Map::new(),
            "typed model misses fields"
        );
        read.description = Some("changed".into());
        $h.$update(&id, &read).send().await.unwrap();
        let again = $h.$get(&id).send().await.unwrap();
        assert_eq!(again.description.as_deref(), Some("changed"));
        id
    }};
}

async fn id_of_client(kc: &Client, realm: &str, client_id: &str) -> String {
    let c = kc.realm(realm).clients().find_by_client_id(client_id).await;
    c.unwrap().unwrap().id.unwrap()
}

#[tokio::test]
async fn typed_policies_and_permissions_per_type() {
    let kc = admin();
    let realm = create_realm(
        &kc,
        "authztypes",
        json!({
            "roles": {"realm": [{"name": "reader"}]},
            "groups": [{"name": "staff"}],
            "users": [user("polly", "polly-pw-1")],
            "clients": [
                {"clientId": "rs", "publicClient": false, "secret": "rs-secret",
                 "serviceAccountsEnabled": true, "authorizationServicesEnabled": true},
                {"clientId": "other", "publicClient": true}
            ],
        }),
    )
    .await;
    let r = kc.realm(&realm);
    let rs = r.client(id_of_client(&kc, &realm, "rs").await);
    let policies = rs.authz_policies();

    let role_id = r.role("reader").get().send().await.unwrap().id.unwrap();
    // python-keycloak's `create_client_authz_role_based_policy`: one typed call.
    let role_policy = round_trip!(
        policies,
        create_role,
        get_role,
        update_role,
        RolePolicyRepresentation {
            name: Some("readers".into()),
            roles: Some(vec![PolicyRoleDefinition {
                id: Some(role_id.clone()),
                required: Some(true),
                ..Default::default()
            }]),
            ..Default::default()
        }
    );
    let read_back = policies.get_role(&role_policy).send().await.unwrap();
    assert_eq!(
        read_back.roles.unwrap()[0].id.as_deref(),
        Some(role_id.as_str())
    );

    // `create_client_authz_client_policy`.
    let other = id_of_client(&kc, &realm, "other").await;
    round_trip!(
        policies,
        create_client,
        get_client,
        update_client,
        ClientBasedPolicyRepresentation {
            name: Some("from-other".into()),
            clients: Some(vec![other.clone()]),
            ..Default::default()
        }
    );
    let profile = r
        .client_scopes()
        .find_by_name("profile")
        .await
        .unwrap()
        .unwrap();
    round_trip!(
        policies,
        create_client_scope,
        get_client_scope,
        update_client_scope,
        ClientScopePolicyRepresentation {
            name: Some("with-profile".into()),
            client_scopes: Some(vec![PolicyClientScopeDefinition {
                id: profile.id.clone(),
                required: Some(false),
                ..Default::default()
            }]),
            ..Default::default()
        }
    );
    let polly = r.users().find_by_username("polly").await.unwrap().unwrap();
    round_trip!(
        policies,
        create_user,
        get_user,
        update_user,
        UserPolicyRepresentation {
            name: Some("just-polly".into()),
            users: Some(vec![polly.id.clone().unwrap()]),
            ..Default::default()
        }
    );
    let staff = r.find_group_by_path("/staff").await.unwrap().unwrap();
    round_trip!(
        policies,
        create_group,
        get_group,
        update_group,
        GroupPolicyRepresentation {
            name: Some("staff-only".into()),
            groups: Some(vec![PolicyGroupDefinition {
                id: staff.id.clone(),
                extend_children: Some(false),
                ..Default::default()
            }]),
            ..Default::default()
        }
    );
    round_trip!(
        policies,
        create_time,
        get_time,
        update_time,
        TimePolicyRepresentation {
            name: Some("until-2099".into()),
            not_on_or_after: Some("2099-01-01 00:00:00".into()),
            ..Default::default()
        }
    );
    round_trip!(
        policies,
        create_regex,
        get_regex,
        update_regex,
        RegexPolicyRepresentation {
            name: Some("any-subject".into()),
            target_claim: Some("sub".into()),
            pattern: Some(".*".into()),
            ..Default::default()
        }
    );
    let aggregate = round_trip!(
        policies,
        create_aggregate,
        get_aggregate,
        update_aggregate,
        AggregatePolicyRepresentation {
            name: Some("all-of".into()),
            policies: Some(vec![role_policy.clone()]),
            ..Default::default()
        }
    );
    let associated = policies
        .associated_policies(&aggregate)
        .send()
        .await
        .unwrap();
    assert_eq!(associated.len(), 1);
    assert_eq!(associated[0].id.as_deref(), Some(role_policy.as_str()));

    permissions_per_type(&rs, &role_policy).await;

    // The generic policy endpoints by id.
    let generic = policies.get(&role_policy).send().await.unwrap();
    assert_eq!(generic.r#type.as_deref(), Some("role"));
    let dependents = policies
        .dependent_policies(&role_policy)
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = dependents.into_iter().filter_map(|p| p.name).collect();
    names.sort();
    assert_eq!(names, ["all-of", "read-docs", "the-resources"]);
    let mut generic = policies.get(&aggregate).send().await.unwrap();
    generic.description = Some("generic update".into());
    policies.update(&aggregate, &generic).send().await.unwrap();
    let after = policies.get_aggregate(&aggregate).send().await.unwrap();
    assert_eq!(after.description.as_deref(), Some("generic update"));
    policies.delete(&aggregate).send().await.unwrap();
    let gone = policies.get(&aggregate).send().await.expect_err("deleted");
    assert!(gone.is_not_found(), "{gone}");
    delete_realm(&kc, &realm).await;
}

/// Scope and resource permissions; a permission's scopes and resources.
async fn permissions_per_type(rs: &cloakroom::generated::ClientHandle, role_policy: &str) {
    let scope = rs
        .authz_scopes()
        .create(&ScopeRepresentation {
            name: Some("read".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let resource = rs
        .authz_resources()
        .create(&ResourceRepresentation {
            name: Some("docs".into()),
            scopes: Some(vec![scope.clone()]),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let permissions = rs.authz_permissions();
    let scope_permission = permissions
        .create_scope(&ScopePermissionRepresentation {
            name: Some("read-docs".into()),
            scopes: Some(vec![scope.id.clone().unwrap()]),
            resources: Some(vec![resource.id.clone().unwrap()]),
            policies: Some(vec![role_policy.to_owned()]),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let id = scope_permission.id.clone().unwrap();
    // python-keycloak's `update_client_authz_scope_permission`: one typed call.
    let mut change = permissions.get_scope(&id).send().await.unwrap();
    change.decision_strategy = Some("AFFIRMATIVE".into());
    change.description = Some("readers may read".into());
    permissions.update_scope(&id, &change).send().await.unwrap();
    let read = permissions.get_scope(&id).send().await.unwrap();
    assert_eq!(read.description.as_deref(), Some("readers may read"));
    assert_eq!(
        read.decision_strategy.map(|d| d.to_string()).as_deref(),
        Some("AFFIRMATIVE")
    );
    let policies = rs.authz_policies();
    let scopes = policies.scopes(&id).send().await.unwrap();
    assert_eq!(scopes[0].name.as_deref(), Some("read"));
    let resources = policies.resources(&id).send().await.unwrap();
    assert_eq!(resources[0].name.as_deref(), Some("docs"));

    round_trip!(
        permissions,
        create_resource,
        get_resource,
        update_resource,
        ResourcePermissionRepresentation {
            name: Some("the-resources".into()),
            resources: Some(vec![resource.id.clone().unwrap()]),
            policies: Some(vec![role_policy.to_owned()]),
            ..Default::default()
        }
    );
}
