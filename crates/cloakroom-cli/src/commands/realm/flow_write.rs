//! Creating a top-level authentication flow with its executions (sub-flows recursively),
//! requirements and authenticator configs.

use cloakroom::request::{Method, encode_segment};
use serde_json::{Value, json};

use super::doc::changed_fields;
use super::kinds::flow_update::{direct, doc_key, doc_steps, pair, priority};
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
    if flows.get(flow).is_none() {
        return Err(CliError::usage(format!(
            "sub-flow `{flow}` is not in the document"
        )));
    }
    let fpath = format!("/authentication/flows/{}/executions", encode_segment(flow));
    // In the order Keycloak runs them, as its importer reads a document.
    for (i, e) in doc_steps(flows, flow).iter().enumerate() {
        add_step(s, flows, configs, &fpath, e, priority(e, i)).await?;
    }
    Ok(())
}

/// Adds one step of the document to the flow at `fpath`, with its requirement, priority,
/// config and (for a sub-flow) its own steps.
async fn add_step(
    s: &Session,
    flows: &Value,
    configs: &Value,
    fpath: &str,
    e: &Value,
    prio: i64,
) -> CliResult {
    let before = direct_ids(s, fpath).await?;
    add_one(s, flows, fpath, e).await?;
    // The new execution is the direct child that was not there before.
    let flat = s.get(fpath).await?;
    let Some(created) = flat
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|x| x["level"] == 0 && !before.contains(x["id"].as_str().unwrap_or("")))
        })
        .cloned()
    else {
        return Err(CliError::server(format!(
            "the new step `{}` was not found after adding it",
            doc_key(e)
        )));
    };
    settle_step(s, configs, fpath, e, &created, prio).await?;
    if e["authenticatorFlow"] == true {
        let sub_alias = e["flowAlias"].as_str().unwrap_or("").to_owned();
        Box::pin(add_executions(s, flows, configs, &sub_alias)).await?;
    }
    Ok(())
}

/// Gives an existing step the document's requirement, priority and authenticator config.
async fn settle_step(
    s: &Session,
    configs: &Value,
    fpath: &str,
    e: &Value,
    live: &Value,
    prio: i64,
) -> CliResult {
    let mut body = live.clone();
    if let Some(req) = e["requirement"].as_str() {
        body["requirement"] = json!(req);
    }
    body["priority"] = json!(prio);
    if body != *live {
        s.send(Method::Put, fpath, Some(&body)).await?;
    }
    let Some(cfg_alias) = e["authenticatorConfig"].as_str() else {
        return Ok(());
    };
    let Some(cfg) = configs.get(cfg_alias) else {
        return Ok(());
    };
    match live["authenticationConfig"].as_str() {
        Some(id) => {
            let p = format!("/authentication/config/{}", encode_segment(id));
            let have = s.get(&p).await?;
            if !changed_fields(&cfg["config"], &have["config"], "", &[]).is_empty() {
                let body = json!({"id": id, "alias": have["alias"], "config": cfg["config"]});
                s.send(Method::Put, &p, Some(&body)).await?;
            }
        }
        None => {
            let id = live["id"].as_str().unwrap_or("");
            s.send(
                Method::Post,
                &format!("/authentication/executions/{}/config", encode_segment(id)),
                Some(&json!({"alias": cfg_alias, "config": cfg["config"]})),
            )
            .await?;
        }
    }
    Ok(())
}

/// Changes flow `alias` in place to the document's (see `kinds::flow_update`): removes the
/// steps the document does not have, adds its missing ones, settles the rest, recursively.
pub async fn reshape(s: &Session, alias: &str, flows: &Value, configs: &Value) -> CliResult {
    describe(s, alias, &flows[alias]).await?;
    let fpath = format!("/authentication/flows/{}/executions", encode_segment(alias));
    let live = direct(&s.get(&fpath).await?);
    let want = doc_steps(flows, alias);
    let (pairs, extra) = pair(&want, &live);
    for j in extra {
        let id = live[j]["id"].as_str().unwrap_or("");
        s.send(
            Method::Delete,
            &format!("/authentication/executions/{}", encode_segment(id)),
            None,
        )
        .await?;
    }
    for (i, (e, m)) in want.iter().zip(pairs).enumerate() {
        match m {
            Some(j) => {
                settle_step(s, configs, &fpath, e, &live[j], priority(e, i)).await?;
                if e["authenticatorFlow"] == true {
                    let sub = e["flowAlias"].as_str().unwrap_or("").to_owned();
                    Box::pin(reshape(s, &sub, flows, configs)).await?;
                }
            }
            None => add_step(s, flows, configs, &fpath, e, priority(e, i)).await?,
        }
    }
    Ok(())
}

/// Gives a top-level flow the document's description.
async fn describe(s: &Session, alias: &str, d: &Value) -> CliResult {
    let Some(want) = d["description"].as_str() else {
        return Ok(());
    };
    let all = s.get("/authentication/flows").await?;
    let Some(f) = all
        .as_array()
        .and_then(|a| a.iter().find(|f| f["alias"] == alias))
    else {
        return Ok(());
    };
    if f["description"] != want {
        let mut body = f.clone();
        body["description"] = json!(want);
        let id = f["id"].as_str().unwrap_or("");
        s.send(
            Method::Put,
            &format!("/authentication/flows/{}", encode_segment(id)),
            Some(&body),
        )
        .await?;
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
