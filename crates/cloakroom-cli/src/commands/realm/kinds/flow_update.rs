//! Changing an existing flow in place (no delete and re-create, so logins in flight keep
//! working): when its executions and sub-flows are the same sequence as the document's, each
//! execution's requirement and authenticator config is set to the document's.

use cloakroom::request::encode_segment;
use serde_json::{Value, json};

use super::super::doc::changed_fields;
use super::super::plan::{Op, Path, Verb};
use super::super::snapshot::Live;
use super::Keyed;

/// One execution as the document states it.
struct Wanted {
    level: u64,
    /// The authenticator, or `flow:alias`.
    what: String,
    requirement: Value,
    priority: Value,
    config: Value,
}

/// The executions of a flow, depth first, as the document states them.
fn wanted(all: &Keyed, flow: &str, level: u64, out: &mut Vec<Wanted>) {
    let Some(f) = all.get(flow) else { return };
    for e in f["authenticationExecutions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        if e["authenticatorFlow"] == true {
            let sub = e["flowAlias"].as_str().unwrap_or("");
            out.push(Wanted {
                level,
                what: format!("flow:{sub}"),
                requirement: e["requirement"].clone(),
                priority: e["priority"].clone(),
                config: Value::Null,
            });
            wanted(all, sub, level + 1, out);
        } else {
            out.push(Wanted {
                level,
                what: e["authenticator"].as_str().unwrap_or("").to_owned(),
                requirement: e["requirement"].clone(),
                priority: e["priority"].clone(),
                config: e["authenticatorConfig"].clone(),
            });
        }
    }
}

/// The writes that make an existing flow the document's, with one line each; `None` when its
/// structure differs (executions added, removed or moved).
pub async fn plan(
    r: &Live<'_>,
    alias: &str,
    all: &Keyed,
    configs: &Keyed,
) -> Option<(Vec<String>, Vec<Op>)> {
    let fpath = format!("/authentication/flows/{}/executions", encode_segment(alias));
    let flat = r.session.get(&fpath).await.ok()?;
    let live = flat.as_array()?;
    let mut want = Vec::new();
    wanted(all, alias, 0, &mut want);
    if want.len() != live.len() {
        return None;
    }
    let (mut fields, mut ops) = (Vec::new(), Vec::new());
    for (w, l) in want.iter().zip(live) {
        let (level, what, req, cfg) = (&w.level, &w.what, &w.requirement, &w.config);
        let lwhat = if l["authenticationFlow"] == true {
            format!("flow:{}", l["displayName"].as_str().unwrap_or(""))
        } else {
            l["providerId"].as_str().unwrap_or("").to_owned()
        };
        if l["level"].as_u64() != Some(*level) || lwhat != *what {
            return None;
        }
        let mut body = l.clone();
        if req.is_string() && *req != l["requirement"] {
            fields.push(format!("{what}: requirement {} → {req}", l["requirement"]));
            body["requirement"] = req.clone();
        }
        if w.priority.is_i64() && w.priority != l["priority"] {
            fields.push(format!(
                "{what}: priority {} → {}",
                l["priority"], w.priority
            ));
            body["priority"] = w.priority.clone();
        }
        if body != *l {
            ops.push(Op::send(Verb::Put, Path::lit(fpath.clone()), Some(body)));
        }
        if let Some(cfg_alias) = cfg.as_str() {
            let want_cfg = &configs.get(cfg_alias)?["config"];
            let exec_id = l["id"].as_str().unwrap_or("");
            match l["authenticationConfig"].as_str() {
                Some(id) => {
                    let p = format!("/authentication/config/{}", encode_segment(id));
                    let have = r.session.get(&p).await.ok()?;
                    // Values Keycloak masks (those the authenticator does not declare, and
                    // secrets) cannot be compared and never count as a difference.
                    if !changed_fields(want_cfg, &have["config"], "", &[]).is_empty() {
                        fields.push(format!("{what}: config {cfg_alias}"));
                        let body = json!({"id": id, "alias": have["alias"], "config": want_cfg});
                        ops.push(Op::send(Verb::Put, Path::lit(p), Some(body)));
                    }
                }
                None => {
                    fields.push(format!("{what}: config {cfg_alias} added"));
                    let p = format!(
                        "/authentication/executions/{}/config",
                        encode_segment(exec_id)
                    );
                    let body = json!({"alias": cfg_alias, "config": want_cfg});
                    ops.push(Op::send(Verb::Post, Path::lit(p), Some(body)));
                }
            }
        }
    }
    Some((fields, ops))
}
