//! Creating a top-level authentication flow with its executions (sub-flows recursively),
//! requirements and authenticator configs.

use cloakroom::request::{Method, encode_segment};
use serde_json::{Value, json};

use super::session::Session;
use crate::exit::{CliError, CliResult};

/// Creates flow `alias` from the document's `flows` and `configs` (both by alias).
pub async fn create(s: &Session, alias: &str, flows: &Value, configs: &Value) -> CliResult {
    let d = &flows[alias];
    s.send(
        Method::Post,
        "/authentication/flows",
        Some(&json!({
            "alias": alias,
            "description": d["description"],
            "providerId": d["providerId"],
            "topLevel": true,
            "builtIn": false,
        })),
    )
    .await?;
    add_executions(s, flows, configs, alias).await
}

async fn add_executions(s: &Session, flows: &Value, configs: &Value, flow: &str) -> CliResult {
    let Some(d) = flows.get(flow) else {
        return Err(CliError::usage(format!(
            "sub-flow `{flow}` is not in the document"
        )));
    };
    let execs = d["authenticationExecutions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fpath = format!("/authentication/flows/{}/executions", encode_segment(flow));
    // In the order Keycloak runs them, as its importer reads a document.
    let mut execs = execs;
    execs.sort_by_key(|e| e["priority"].as_i64().unwrap_or(0));
    for e in execs.iter() {
        let before = direct_ids(s, &fpath).await?;
        add_one(s, flows, &fpath, e).await?;
        // The new execution is the direct child that was not there before: set its
        // requirement, priority and config.
        let flat = s.get(&fpath).await?;
        let Some(mut created) = flat
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|x| x["level"] == 0 && !before.contains(x["id"].as_str().unwrap_or("")))
            })
            .cloned()
        else {
            return Err(CliError::server(format!(
                "the new execution of `{flow}` was not found after creating it"
            )));
        };
        let mut changed = false;
        if let Some(req) = e["requirement"].as_str() {
            changed |= created["requirement"] != req;
            created["requirement"] = json!(req);
        }
        if let Some(p) = e["priority"].as_i64() {
            changed |= created["priority"] != p;
            created["priority"] = json!(p);
        }
        if changed {
            s.send(Method::Put, &fpath, Some(&created)).await?;
        }
        if let Some(cfg_alias) = e["authenticatorConfig"].as_str() {
            if let Some(cfg) = configs.get(cfg_alias) {
                let id = created["id"].as_str().unwrap_or("").to_owned();
                s.send(
                    Method::Post,
                    &format!("/authentication/executions/{}/config", encode_segment(&id)),
                    Some(&json!({"alias": cfg_alias, "config": cfg["config"]})),
                )
                .await?;
            }
        }
        if e["authenticatorFlow"] == true {
            let sub_alias = e["flowAlias"].as_str().unwrap_or("").to_owned();
            Box::pin(add_executions(s, flows, configs, &sub_alias)).await?;
        }
    }
    Ok(())
}

/// The ids of a flow's direct executions.
async fn direct_ids(s: &Session, fpath: &str) -> CliResult<std::collections::BTreeSet<String>> {
    let flat = s.get(fpath).await?;
    Ok(flat
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["level"] == 0)
        .filter_map(|x| x["id"].as_str().map(str::to_owned))
        .collect())
}

/// Adds one execution or sub-flow at the end of a flow.
async fn add_one(s: &Session, flows: &Value, fpath: &str, e: &Value) -> CliResult {
    if e["authenticatorFlow"] == true {
        let sub_alias = e["flowAlias"].as_str().unwrap_or("");
        let sub = flows.get(sub_alias).cloned().unwrap_or(json!({}));
        let ty = sub["providerId"].as_str().unwrap_or("basic-flow");
        let mut body = json!({"alias": sub_alias, "type": ty});
        if sub["description"].is_string() {
            body["description"] = sub["description"].clone();
        }
        if ty == "form-flow" {
            body["provider"] = json!("registration-page-form");
        }
        s.send(Method::Post, &format!("{fpath}/flow"), Some(&body))
            .await?;
    } else {
        s.send(
            Method::Post,
            &format!("{fpath}/execution"),
            Some(&json!({"provider": e["authenticator"]})),
        )
        .await?;
    }
    Ok(())
}
