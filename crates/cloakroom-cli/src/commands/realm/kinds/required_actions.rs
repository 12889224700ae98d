//! Required actions by alias: registered when missing, then enabled, default, priority and
//! config set to the document's.

use cloakroom::request::encode_segment;
use serde_json::{Value, json};

use super::super::doc::changed_fields;
use super::super::plan::{Action, Change, Op, Path, Verb};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed};
use crate::exit::CliResult;

pub struct RequiredActions;

impl Kind for RequiredActions {
    const NAME: &'static str = "requiredActions";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        if cx.desired["requiredActions"].is_empty() {
            return Ok(Keyed::new());
        }
        let v = live.session.get("/authentication/required-actions").await?;
        Ok(keyed(v.as_array().cloned().unwrap_or_default(), "alias"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        let mut unregistered: Option<Vec<Value>> = None;
        for (alias, d) in &cx.desired["requiredActions"] {
            let item = Path::lit(format!(
                "/authentication/required-actions/{}",
                encode_segment(alias)
            ));
            let c = match live.get(alias) {
                Some(l) => {
                    let fields = changed_fields(d, l, "", &[]);
                    if fields.is_empty() {
                        Change::new(Self::NAME, alias, Action::Unchanged)
                    } else {
                        Change::new(Self::NAME, alias, Action::Update)
                            .fields(fields)
                            .op(Op::Patch {
                                path: item,
                                patch: d.clone(),
                            })
                    }
                }
                None => {
                    if unregistered.is_none() {
                        let u = r
                            .session
                            .get("/authentication/unregistered-required-actions")
                            .await
                            .unwrap_or(Value::Null);
                        unregistered = Some(u.as_array().cloned().unwrap_or_default());
                    }
                    let provider = d["providerId"].as_str().unwrap_or(alias);
                    let name = d["name"].as_str().unwrap_or(alias);
                    Change::new(Self::NAME, alias, Action::Create)
                        .op(Op::send(
                            Verb::Post,
                            Path::lit("/authentication/register-required-action"),
                            Some(json!({"providerId": provider, "name": name})),
                        ))
                        .op(Op::Patch {
                            path: item,
                            patch: d.clone(),
                        })
                }
            };
            out.push(c);
        }
        Ok(out)
    }
}
