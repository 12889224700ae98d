//! Changing an existing flow in place (never deleted and re-created, so logins in flight keep
//! working): its steps are paired with the document's by what they run (an authenticator, or a
//! sub-flow by alias; repeats in order). Live steps the document does not have are removed,
//! the document's missing steps are added, and paired ones get the document's requirement,
//! priority and authenticator config; sub-flows the same way, recursively. Keycloak refuses to
//! add or remove steps of a built-in flow: those are reported, the rest is still applied.
//!
//! The plan lists the changes ([`plan`]); the write ([`super::super::flow_write::reshape`])
//! pairs again on what the server holds when it runs.

use cloakroom::request::encode_segment;
use serde_json::Value;

use super::super::doc::changed_fields;
use super::super::snapshot::Live;
use super::Keyed;

/// What a step runs: its authenticator, or `flow:<alias>` for a sub-flow (document side).
pub fn doc_key(e: &Value) -> String {
    if e["authenticatorFlow"] == true {
        format!("flow:{}", e["flowAlias"].as_str().unwrap_or(""))
    } else {
        e["authenticator"].as_str().unwrap_or("").to_owned()
    }
}

/// The same for a live step of `GET …/executions` (a sub-flow shows its alias as displayName).
pub fn live_key(l: &Value) -> String {
    if l["authenticationFlow"] == true {
        format!("flow:{}", l["displayName"].as_str().unwrap_or(""))
    } else {
        l["providerId"].as_str().unwrap_or("").to_owned()
    }
}

/// A flow's steps as the document states them, in priority order.
pub fn doc_steps(flows: &Value, alias: &str) -> Vec<Value> {
    let mut v = flows[alias]["authenticationExecutions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    v.sort_by_key(|e| e["priority"].as_i64().unwrap_or(0));
    v
}

/// The priority a document step gets: its own, or ten apart in document order.
pub fn priority(e: &Value, i: usize) -> i64 {
    e["priority"].as_i64().unwrap_or((i as i64 + 1) * 10)
}

/// For each document step, the index of its live step (if any); and the live steps no
/// document step takes.
pub fn pair(doc: &[Value], live: &[Value]) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut used = vec![false; live.len()];
    let pairs = doc
        .iter()
        .map(|d| {
            let k = doc_key(d);
            let at = (0..live.len()).find(|&j| !used[j] && live_key(&live[j]) == k)?;
            used[at] = true;
            Some(at)
        })
        .collect();
    let extra = (0..live.len()).filter(|&j| !used[j]).collect();
    (pairs, extra)
}

/// The direct steps of a flow (or sub-flow) as the server holds them.
pub fn direct(flat: &Value) -> Vec<Value> {
    flat.as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["level"] == 0)
        .cloned()
        .collect()
}

/// What changing flow `alias` in place would do, one line each (`path` names the sub-flow).
/// `builtin`: Keycloak refuses adding and removing steps; such lines are returned in the second
/// list.
pub async fn plan(
    r: &Live<'_>,
    alias: &str,
    flows: &Value,
    configs: &Keyed,
    builtin: bool,
) -> (Vec<String>, Vec<String>) {
    let mut lines = (Vec::new(), Vec::new());
    plan_into(r, alias, "", flows, configs, builtin, &mut lines).await;
    lines
}

async fn plan_into(
    r: &Live<'_>,
    alias: &str,
    path: &str,
    flows: &Value,
    configs: &Keyed,
    builtin: bool,
    out: &mut (Vec<String>, Vec<String>),
) {
    let fpath = format!("/authentication/flows/{}/executions", encode_segment(alias));
    let Ok(flat) = r.session.get(&fpath).await else {
        return;
    };
    let live = direct(&flat);
    let want = doc_steps(flows, alias);
    let (pairs, extra) = pair(&want, &live);
    let structural = if builtin { &mut out.1 } else { &mut out.0 };
    for j in extra {
        structural.push(format!("{path}remove {}", live_key(&live[j])));
    }
    for (i, (d, m)) in want.iter().zip(&pairs).enumerate() {
        let what = format!("{path}{}", doc_key(d));
        let Some(j) = *m else {
            let lines = if builtin { &mut out.1 } else { &mut out.0 };
            lines.push(format!("add {what}"));
            continue;
        };
        let l = &live[j];
        if d["requirement"].is_string() && d["requirement"] != l["requirement"] {
            out.0.push(format!(
                "{what}: requirement {} → {}",
                l["requirement"], d["requirement"]
            ));
        }
        let p = priority(d, i);
        if l["priority"].as_i64() != Some(p) {
            out.0
                .push(format!("{what}: priority {} → {p}", l["priority"]));
        }
        if let Some(cfg_alias) = d["authenticatorConfig"].as_str() {
            let want_cfg = configs.get(cfg_alias).map(|c| &c["config"]);
            match (l["authenticationConfig"].as_str(), want_cfg) {
                (Some(id), Some(w)) => {
                    let p = format!("/authentication/config/{}", encode_segment(id));
                    let have = r.session.get(&p).await.unwrap_or(Value::Null);
                    // Values Keycloak masks (those the authenticator does not declare, and
                    // secrets) cannot be compared and never count as a difference.
                    if !changed_fields(w, &have["config"], "", &[]).is_empty() {
                        out.0.push(format!("{what}: config {cfg_alias}"));
                    }
                }
                (None, Some(_)) => out.0.push(format!("{what}: config {cfg_alias} added")),
                _ => {}
            }
        }
        if d["authenticatorFlow"] == true {
            let sub = d["flowAlias"].as_str().unwrap_or("").to_owned();
            let sub_path = format!("{path}{sub} > ");
            Box::pin(plan_into(r, &sub, &sub_path, flows, configs, builtin, out)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn steps_pair_by_what_they_run_and_repeats_in_order() {
        let doc = [
            json!({"authenticator": "auth-cookie"}),
            json!({"authenticatorFlow": true, "flowAlias": "forms"}),
            json!({"authenticator": "x"}),
            json!({"authenticator": "x"}),
        ];
        let live = [
            json!({"providerId": "x"}),
            json!({"authenticationFlow": true, "displayName": "forms"}),
            json!({"providerId": "auth-spnego"}),
            json!({"providerId": "auth-cookie"}),
        ];
        let (pairs, extra) = pair(&doc, &live);
        assert_eq!(pairs, [Some(3), Some(1), Some(0), None]);
        assert_eq!(extra, [2]);
    }

    #[test]
    fn priorities_are_the_documents_or_ten_apart() {
        assert_eq!(priority(&json!({"priority": 26}), 0), 26);
        assert_eq!(priority(&json!({}), 2), 30);
    }
}
