//! Workflows: create, list, get, update, scheduled steps of a user, activate / deactivate for a
//! user, migrate scheduled steps, delete.

use cloakroom::generated::models::{
    StepExecutionStatus, UserRepresentation, WorkflowRepresentation, WorkflowStepRepresentation,
};
use cloakroom::request::Method;
use serde_json::json;

use crate::support::kc::{admin, create_realm, delete_realm};
use crate::support::served::served_or_refused;

const MIGRATE: &str = "/admin/realms/{realm}/workflows/migrate";

fn step(uses: &str, after: Option<&str>) -> WorkflowStepRepresentation {
    WorkflowStepRepresentation {
        uses: Some(uses.into()),
        after: after.map(Into::into),
        ..Default::default()
    }
}

/// Whether the server has its workflows feature on (named in server info as `WORKFLOWS`).
async fn workflows_enabled(kc: &cloakroom::Client) -> bool {
    let info = kc.server_info().get().send().await.unwrap();
    info.features
        .unwrap_or_default()
        .iter()
        .any(|f| f.name.as_deref() == Some("WORKFLOWS") && f.enabled == Some(true))
}

/// The status of each step of `workflow` scheduled for the user, or `None` when the workflow
/// has nothing scheduled for them.
async fn scheduled(
    r: &cloakroom::generated::RealmHandle,
    user: &str,
    workflow: &str,
) -> Option<Vec<Option<StepExecutionStatus>>> {
    let list = r.workflows().scheduled(user).send().await.unwrap();
    list.into_iter()
        .find(|w| w.id.as_deref() == Some(workflow))
        .map(|w| {
            w.steps
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.status)
                .collect()
        })
}

/// Waits (up to 10 s) until the user's scheduled steps of `workflow` are `want`: Keycloak runs
/// due steps right after the transaction that scheduled them, not within it.
async fn settles(
    r: &cloakroom::generated::RealmHandle,
    user: &str,
    workflow: &str,
    want: &Option<Vec<Option<StepExecutionStatus>>>,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut now = scheduled(r, user, workflow).await;
    while &now != want && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        now = scheduled(r, user, workflow).await;
    }
    assert_eq!(&now, want);
}

#[tokio::test]
async fn workflow_lifecycle_for_a_user() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-wf", json!({})).await;
    let r = kc.realm(&realm);

    // On user creation: mark the user at once, disable them after 30 days.
    let mut mark = step("set-user-attribute", None);
    mark.extra
        .insert("with".into(), json!({"onboarding": "started"}));
    let made = r
        .workflows()
        .create(&WorkflowRepresentation {
            name: Some("onboarding".into()),
            on: Some("USER_CREATED".into()),
            steps: Some(vec![mark, step("disable-user", Some("30d"))]),
            ..Default::default()
        })
        .send()
        .await;
    // Workflows are an experimental feature before 26.7 (off in the harness): the server
    // answers 404 then, which is what is asserted.
    if !workflows_enabled(&kc).await {
        let e = made.unwrap_err();
        assert_eq!(e.status(), Some(404), "{e:?}");
        delete_realm(&kc, &realm).await;
        return;
    }
    let id = made.unwrap();
    let other = r
        .workflows()
        .create(&WorkflowRepresentation {
            name: Some("offboarding".into()),
            steps: Some(vec![step("disable-user", Some("1d"))]),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();

    let listed = r
        .workflows()
        .list()
        .search("onboarding")
        .exact(true)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(r.workflows().list().send().await.unwrap().len(), 2);

    let workflow = r.workflow(&id);
    let rep = workflow.get().send().await.unwrap();
    assert_eq!(rep.name.as_deref(), Some("onboarding"));
    assert_eq!(rep.on.as_deref(), Some("USER_CREATED"));
    let steps = rep.steps.clone().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].uses.as_deref(), Some("disable-user"));
    assert_eq!(steps[1].after.as_deref(), Some("30d"));
    let without_id = workflow.get().include_id(false).send().await.unwrap();
    assert!(without_id.id.is_none() && without_id.steps.unwrap()[0].id.is_none());

    // Update the workflow's settings (not its steps).
    let mut changed = rep.clone();
    changed.name = Some("onboarding v2".into());
    workflow.update(&changed).send().await.unwrap();
    assert_eq!(
        workflow.get().send().await.unwrap().name.as_deref(),
        Some("onboarding v2")
    );

    // A new user runs the first step at once; the second is pending.
    let user = r
        .users()
        .create(&UserRepresentation {
            username: Some("newcomer".into()),
            enabled: Some(true),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    use StepExecutionStatus::{Completed, Pending};
    let done = Some(vec![Some(Completed), Some(Pending)]);
    // The immediate step runs just after the user's creation is committed.
    settles(&r, &user, &id, &done).await;

    // Deactivate for this user: nothing scheduled any more. Activate again, first step in 60 s.
    // (Like creation, (de)activation takes effect just after its transaction commits.)
    workflow.deactivate("USERS", &user).send().await.unwrap();
    settles(&r, &user, &id, &None).await;
    workflow
        .activate("USERS", &user)
        .not_before("60")
        .send()
        .await
        .unwrap();
    settles(&r, &user, &id, &Some(vec![Some(Pending), Some(Pending)])).await;

    // Migrate the user from the first step to the second: the first counts as done. (The
    // update above gave the steps new ids: read them now.)
    let steps = workflow.get().send().await.unwrap().steps.unwrap();
    let (first_step, second_step) = (steps[0].id.clone().unwrap(), steps[1].id.clone().unwrap());
    let migrated = r
        .workflows()
        .migrate()
        .from(&first_step)
        .to(&second_step)
        .send()
        .await;
    // Migration arrived in 26.7.3: older servers' clients refuse it before sending.
    if served_or_refused(Method::Post, MIGRATE, migrated).is_some() {
        settles(&r, &user, &id, &done).await;
    }

    workflow.delete().send().await.unwrap();
    // Keycloak answers 400 "Not a valid workflow resource", not 404, for an unknown id.
    let err = workflow.get().send().await.unwrap_err();
    assert!(err.is_bad_request() || err.is_not_found(), "{err}");
    let left = r.workflows().list().send().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id.as_deref(), Some(other.as_str()));
    r.workflow(&other).delete().send().await.unwrap();
    assert!(r.workflows().list().send().await.unwrap().is_empty());

    delete_realm(&kc, &realm).await;
}
