//! Authentication flows: a missing top-level flow is created with its executions, sub-flows
//! and authenticator configs.

use serde_json::{Map, Value};

use super::super::doc::{changed_fields, without};
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
                    let (fields, refused) = super::flow_update::plan(
                        r,
                        alias,
                        &Value::Object(flows.clone()),
                        &cx.desired["authenticatorConfig"],
                        l["builtIn"] == true,
                    )
                    .await;
                    // The flow's own description and type.
                    let mut own = changed_fields(
                        &without(d, &["authenticationExecutions", "builtIn", "topLevel"]),
                        l,
                        "",
                        &[],
                    );
                    own.extend(fields);
                    let mut c = if own.is_empty() {
                        Change::new(Self::NAME, alias, Action::Unchanged)
                    } else {
                        Change::new(Self::NAME, alias, Action::Update)
                            .fields(own)
                            .op(Op::ReshapeFlow {
                                alias: alias.clone(),
                                flows: Value::Object(flows.clone()),
                                configs: Value::Object(configs.clone()),
                            })
                    };
                    if !refused.is_empty() {
                        c = c.unsupported(vec![format!(
                            "Keycloak does not allow adding or removing steps of a built-in \
                             flow: {}",
                            refused.join(", ")
                        )]);
                    }
                    c
                }
            });
        }
        Ok(out)
    }
}

/// Whether a flow the list does not show exists all the same.
async fn hidden(r: &Live<'_>, alias: &str) -> bool {
    let p = format!(
        "/authentication/flows/{}/executions",
        cloakroom::request::encode_segment(alias)
    );
    r.session.get(&p).await.is_ok()
}
