//! Authentication flows, executions, authenticator configs and the provider listings.

use std::collections::BTreeMap;

use cloakroom::generated::models::{
    AuthenticationExecutionRepresentation, AuthenticationFlowRepresentation,
    AuthenticatorConfigRepresentation,
};
use serde_json::{Value, json};

use crate::support::kc::{admin, create_realm, delete_realm};

/// The `id` fields of a provider listing.
fn ids(list: &[BTreeMap<String, Value>]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn provider_listings_describe_the_built_in_authenticators() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-prov", json!({})).await;
    let auth = kc.realm(&realm).authentication();

    let authenticators = auth.authenticator_providers().send().await.unwrap();
    let authenticators = ids(&authenticators);
    assert!(
        authenticators.contains(&"auth-username-password-form".to_owned()),
        "{authenticators:?}"
    );
    assert!(authenticators.contains(&"auth-cookie".to_owned()));

    let client_auth = ids(&auth.client_authenticator_providers().send().await.unwrap());
    assert!(
        client_auth.contains(&"client-secret".to_owned()),
        "{client_auth:?}"
    );
    assert!(client_auth.contains(&"client-jwt".to_owned()));

    let forms = ids(&auth.form_providers().send().await.unwrap());
    assert!(
        forms.contains(&"registration-page-form".to_owned()),
        "{forms:?}"
    );

    let form_actions = ids(&auth.form_action_providers().send().await.unwrap());
    assert!(
        form_actions.contains(&"registration-user-creation".to_owned()),
        "{form_actions:?}"
    );

    let per_client = auth.per_client_config_description().send().await.unwrap();
    assert!(
        per_client.contains_key("client-secret"),
        "{:?}",
        per_client.keys()
    );

    let redirector = auth
        .config_description("identity-provider-redirector")
        .send()
        .await
        .unwrap();
    assert_eq!(
        redirector.provider_id.as_deref(),
        Some("identity-provider-redirector")
    );
    let props = redirector.properties.unwrap_or_default();
    assert!(
        props
            .iter()
            .any(|p| p.name.as_deref() == Some("defaultProvider")),
        "{props:?}"
    );

    delete_realm(&kc, &realm).await;
}

#[tokio::test]
async fn flow_lifecycle_with_executions_subflows_and_configs() {
    let kc = admin();
    let realm = create_realm(&kc, "authn-flow", json!({})).await;
    let r = kc.realm(&realm);

    // Built-in flows are listed.
    let flows = r.auth_flows().list().send().await.unwrap();
    let browser = flows
        .iter()
        .find(|f| f.alias.as_deref() == Some("browser"))
        .expect("browser flow");
    assert_eq!(browser.built_in, Some(true));
    assert_eq!(browser.top_level, Some(true));

    // A new top-level flow.
    let alias = "custom browser";
    let flow_id = r
        .auth_flows()
        .create(&AuthenticationFlowRepresentation {
            alias: Some(alias.into()),
            description: Some("made by a test".into()),
            provider_id: Some("basic-flow".into()),
            top_level: Some(true),
            built_in: Some(false),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let flow = r.auth_flow(&flow_id).get().send().await.unwrap();
    assert_eq!(flow.id.as_deref(), Some(flow_id.as_str()));
    assert_eq!(flow.alias.as_deref(), Some(alias));
    assert_eq!(flow.built_in, Some(false));

    // Update: the description changes.
    let mut changed = flow.clone();
    changed.description = Some("changed by a test".into());
    r.auth_flow(&flow_id).update(&changed).send().await.unwrap();
    assert_eq!(
        r.auth_flow(&flow_id)
            .get()
            .send()
            .await
            .unwrap()
            .description
            .as_deref(),
        Some("changed by a test")
    );

    // Executions added by alias (the flow's alias has a space: path encoding matters).
    let by_alias = r.auth_flow_by_alias(alias);
    let cookie_id = by_alias
        .add_execution(&BTreeMap::from([("provider".into(), json!("auth-cookie"))]))
        .send()
        .await
        .unwrap();
    let redirector_id = by_alias
        .add_execution(&BTreeMap::from([(
            "provider".into(),
            json!("identity-provider-redirector"),
        )]))
        .send()
        .await
        .unwrap();
    let subflow_id = by_alias
        .add_subflow(&BTreeMap::from([
            ("alias".into(), json!("custom forms")),
            ("type".into(), json!("basic-flow")),
            ("provider".into(), json!("registration-page-form")),
            ("description".into(), json!("a sub-flow")),
        ]))
        .send()
        .await
        .unwrap();
    let sub = r.auth_flow(&subflow_id).get().send().await.unwrap();
    assert_eq!(sub.alias.as_deref(), Some("custom forms"));
    assert_eq!(sub.top_level, Some(false));

    let execs = by_alias.executions().send().await.unwrap();
    let order: Vec<_> = execs.iter().map(|e| e.id.clone().unwrap()).collect();
    assert_eq!(order.len(), 3, "{execs:?}");
    assert_eq!(order[0], cookie_id);
    assert_eq!(order[1], redirector_id);
    assert_eq!(execs[2].authentication_flow, Some(true));
    assert_eq!(execs[2].flow_id.as_deref(), Some(subflow_id.as_str()));

    // One execution by id.
    let cookie = r.auth_execution(&cookie_id).get().send().await.unwrap();
    assert_eq!(cookie.id.as_deref(), Some(cookie_id.as_str()));
    assert_eq!(cookie.authenticator.as_deref(), Some("auth-cookie"));
    assert_eq!(cookie.parent_flow.as_deref(), Some(flow_id.as_str()));

    // Requirement change through the flow's execution list.
    let mut info = execs[0].clone();
    info.requirement = Some("ALTERNATIVE".into());
    by_alias.update_execution(&info).send().await.unwrap();
    let execs = by_alias.executions().send().await.unwrap();
    assert_eq!(execs[0].requirement.as_deref(), Some("ALTERNATIVE"));

    // Priorities: the redirector moves up, then back down.
    r.auth_execution(&redirector_id)
        .raise_priority()
        .send()
        .await
        .unwrap();
    let execs = by_alias.executions().send().await.unwrap();
    assert_eq!(execs[0].id.as_deref(), Some(redirector_id.as_str()));
    assert_eq!(execs[1].id.as_deref(), Some(cookie_id.as_str()));
    r.auth_execution(&redirector_id)
        .lower_priority()
        .send()
        .await
        .unwrap();
    let execs = by_alias.executions().send().await.unwrap();
    assert_eq!(execs[0].id.as_deref(), Some(cookie_id.as_str()));
    assert_eq!(execs[1].id.as_deref(), Some(redirector_id.as_str()));

    // A config on the redirector execution, then get / update / delete it.
    let config_id = r
        .auth_execution(&redirector_id)
        .create_config(&AuthenticatorConfigRepresentation {
            alias: Some("redirect-to-corp".into()),
            config: Some(BTreeMap::from([(
                "defaultProvider".into(),
                "corp-idp".into(),
            )])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let execs = by_alias.executions().send().await.unwrap();
    assert_eq!(
        execs[1].authentication_config.as_deref(),
        Some(config_id.as_str())
    );
    let cfg_handle = r.authenticator_config(&config_id);
    let mut cfg = cfg_handle.get().send().await.unwrap();
    assert_eq!(cfg.alias.as_deref(), Some("redirect-to-corp"));
    assert_eq!(
        cfg.config
            .as_ref()
            .and_then(|c| c.get("defaultProvider"))
            .map(String::as_str),
        Some("corp-idp")
    );
    cfg.config
        .get_or_insert_with(BTreeMap::new)
        .insert("defaultProvider".into(), "other-idp".into());
    cfg_handle.update(&cfg).send().await.unwrap();
    let cfg = cfg_handle.get().send().await.unwrap();
    assert_eq!(
        cfg.config
            .as_ref()
            .and_then(|c| c.get("defaultProvider"))
            .map(String::as_str),
        Some("other-idp")
    );
    // The deprecated ways to the same config: by execution, and creating one without execution.
    #[allow(deprecated)]
    let by_execution = r
        .auth_execution(&redirector_id)
        .config(&config_id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_execution.id.as_deref(), Some(config_id.as_str()));
    #[allow(deprecated)]
    let loose_id = r
        .authentication()
        .create_config(&AuthenticatorConfigRepresentation {
            alias: Some("loose".into()),
            config: Some(BTreeMap::from([("defaultProvider".into(), "x".into())])),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.authenticator_config(&loose_id)
            .get()
            .send()
            .await
            .unwrap()
            .alias
            .as_deref(),
        Some("loose")
    );
    r.authenticator_config(&loose_id)
        .delete()
        .send()
        .await
        .unwrap();

    cfg_handle.delete().send().await.unwrap();
    assert!(cfg_handle.get().send().await.unwrap_err().is_not_found());

    // An execution created by parent flow id instead of alias.
    let otp_id = r
        .authentication()
        .create_execution(&AuthenticationExecutionRepresentation {
            parent_flow: Some(flow_id.clone()),
            authenticator: Some("auth-otp-form".into()),
            requirement: Some("DISABLED".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let otp = r.auth_execution(&otp_id).get().send().await.unwrap();
    assert_eq!(otp.authenticator.as_deref(), Some("auth-otp-form"));
    assert_eq!(otp.parent_flow.as_deref(), Some(flow_id.as_str()));
    r.auth_execution(&otp_id).delete().send().await.unwrap();
    assert!(
        r.auth_execution(&otp_id)
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(by_alias.executions().send().await.unwrap().len(), 3);

    // Copy the flow: the copy has its own id and the same executions.
    by_alias
        .copy(&BTreeMap::from([(
            "newName".into(),
            "custom browser copy".into(),
        )]))
        .send()
        .await
        .unwrap();
    let flows = r.auth_flows().list().send().await.unwrap();
    let copy = flows
        .iter()
        .find(|f| f.alias.as_deref() == Some("custom browser copy"))
        .expect("the copy is listed");
    let copy_id = copy.id.clone().unwrap();
    assert_ne!(copy_id, flow_id);
    let copied = r
        .auth_flow_by_alias("custom browser copy")
        .executions()
        .send()
        .await
        .unwrap();
    assert_eq!(copied.len(), 3);

    // Delete both.
    r.auth_flow(&copy_id).delete().send().await.unwrap();
    r.auth_flow(&flow_id).delete().send().await.unwrap();
    assert!(
        r.auth_flow(&flow_id)
            .get()
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
    let flows = r.auth_flows().list().send().await.unwrap();
    assert!(
        !flows
            .iter()
            .any(|f| f.id.as_deref() == Some(flow_id.as_str()))
    );

    delete_realm(&kc, &realm).await;
}
