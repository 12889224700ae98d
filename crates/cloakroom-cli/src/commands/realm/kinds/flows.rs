//! Authentication flows: a missing top-level flow is created with its executions, sub-flows
//! and authenticator configs.

use serde_json::{Map, Value};

use super::super::doc::changed_fields;
use super::super::plan::{Action, Change, Op};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed};
use crate::exit::CliResult;

pub struct Flows;

impl Kind for Flows {
    const NAME: &'static str = "authenticationFlows";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        Ok(keyed(live.flows().await?.0, "alias"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, r: &Live<'_>) -> CliResult<Vec<Change>> {
        let all = &cx.desired["authenticationFlows"];
        let flows: Map<String, Value> = all.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let configs: Map<String, Value> = cx.desired["authenticatorConfig"]
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out = Vec::new();
        for (alias, d) in all.iter().filter(|(_, d)| d["topLevel"] != false) {
            // Keycloak leaves some built-in flows (`saml ecp`) out of its flow list.
            if live.get(alias).is_none() && d["builtIn"] == true && hidden(r, alias).await {
                out.push(Change::new(Self::NAME, alias, Action::Unchanged));
                continue;
            }
            out.push(match live.get(alias) {
                None => Change::new(Self::NAME, alias, Action::Create).op(Op::CreateFlow {
                    alias: alias.clone(),
                    flows: Value::Object(flows.clone()),
                    configs: Value::Object(configs.clone()),
                }),
                Some(l) => {
                    let mut fields = changed_fields(d, l, "", &[]);
                    // The flow's sub-flows are part of it.
                    for sub in sub_flows(all, d) {
                        if let (Some(ds), Some(ls)) = (all.get(&sub), live.get(&sub)) {
                            fields.extend(
                                changed_fields(ds, ls, "", &[])
                                    .into_iter()
                                    .map(|f| format!("{sub}.{f}")),
                            );
                        }
                    }
                    let in_place =
                        super::flow_update::plan(r, alias, all, &cx.desired["authenticatorConfig"])
                            .await;
                    match in_place {
                        Some((f, ops)) if !f.is_empty() => {
                            let mut c = Change::new(Self::NAME, alias, Action::Update).fields(f);
                            c.ops = ops;
                            c
                        }
                        Some(_) if fields.iter().all(|f| is_execution_field(f)) => {
                            Change::new(Self::NAME, alias, Action::Unchanged)
                        }
                        _ if fields.is_empty() => Change::new(Self::NAME, alias, Action::Unchanged),
                        _ => Change::new(Self::NAME, alias, Action::Unchanged).unsupported(vec![
                            format!(
                                "flow exists and differs ({}); changing an existing flow is not \
                             supported: delete it to have it re-created",
                                fields.join(", ")
                            ),
                        ]),
                    }
                }
            });
        }
        Ok(out)
    }
}

/// Aliases of the sub-flows below a flow, recursively.
fn sub_flows(all: &Keyed, flow: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for e in flow["authenticationExecutions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        if let (true, Some(a)) = (e["authenticatorFlow"] == true, e["flowAlias"].as_str()) {
            if !out.iter().any(|x| x == a) {
                out.push(a.to_owned());
                if let Some(sub) = all.get(a) {
                    out.extend(sub_flows(all, sub));
                }
            }
        }
    }
    out
}

/// Whether a flow the list does not show exists all the same.
async fn hidden(r: &Live<'_>, alias: &str) -> bool {
    let p = format!(
        "/authentication/flows/{}/executions",
        cloakroom::request::encode_segment(alias)
    );
    r.session.get(&p).await.is_ok()
}

/// A difference inside a flow's executions (made right in place when the structure matches).
fn is_execution_field(f: &str) -> bool {
    f.contains("authenticationExecutions")
}
