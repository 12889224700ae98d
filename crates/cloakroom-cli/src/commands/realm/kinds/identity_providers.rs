//! Identity providers by alias, then their mappers by (alias, name).

use cloakroom::request::encode_segment;
use serde_json::Value;

use super::super::doc::changed_fields;
use super::super::plan::{Action, Change, Op, Path};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed, simple};
use crate::exit::CliResult;

pub struct IdentityProviders;

/// The provider without the client secret, which Keycloak never reveals: it cannot be compared,
/// so it is written when the provider is created or updated for another reason (and counted as
/// no difference of its own, so a second plan is empty).
fn unrevealed(d: &Value) -> Value {
    let mut v = d.clone();
    if let Some(Value::Object(cfg)) = v.get_mut("config") {
        cfg.remove("clientSecret");
    }
    v
}
pub struct IdentityProviderMappers;

fn idp_path(alias: &str) -> String {
    format!("/identity-provider/instances/{}", encode_segment(alias))
}

impl Kind for IdentityProviders {
    const NAME: &'static str = "identityProviders";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        Ok(keyed(live.identity_providers().await?.0, "alias"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        Ok(cx.desired["identityProviders"]
            .iter()
            .map(|(alias, d)| {
                let mut c = simple(
                    Self::NAME,
                    alias,
                    &unrevealed(d),
                    live.get(alias),
                    &[],
                    Path::lit("/identity-provider/instances"),
                    Path::lit(idp_path(alias)),
                );
                // The write carries the secret all the same.
                for op in c.ops.iter_mut() {
                    match op {
                        Op::Patch { patch: body, .. }
                        | Op::Send {
                            body: Some(body), ..
                        } => *body = d.clone(),
                        _ => {}
                    }
                }
                c
            })
            .collect())
    }
}

impl Kind for IdentityProviderMappers {
    const NAME: &'static str = "identityProviderMappers";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let (_, mappers) = live.identity_providers().await?;
        Ok(mappers
            .into_iter()
            .filter_map(|m| {
                let k = format!(
                    "{}/{}",
                    m["identityProviderAlias"].as_str()?,
                    m["name"].as_str()?
                );
                Some((k, m))
            })
            .collect())
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (key, d) in &cx.desired["identityProviderMappers"] {
            let alias = d["identityProviderAlias"].as_str().unwrap_or("");
            let list = Path::lit(format!("{}/mappers", idp_path(alias)));
            let op = Op::Named {
                list,
                name: d["name"].as_str().unwrap_or("").to_owned(),
                body: d.clone(),
            };
            out.push(match live.get(key) {
                None => Change::new(Self::NAME, key, Action::Create).op(op),
                Some(l) => {
                    let fields = changed_fields(d, l, "", &[]);
                    if fields.is_empty() {
                        Change::new(Self::NAME, key, Action::Unchanged)
                    } else {
                        Change::new(Self::NAME, key, Action::Update)
                            .fields(fields)
                            .op(op)
                    }
                }
            });
        }
        Ok(out)
    }
}
