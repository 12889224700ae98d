//! A client's authorization settings, made exactly the document's (planned last: policies can
//! name users, groups and roles).

use serde_json::Value;

use super::super::doc::same;
use super::super::plan::{Action, Change, Op};
use super::super::snapshot::{Live, normalize_authz};
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct Authz;

impl Kind for Authz {
    const NAME: &'static str = "clients";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let mut out = Keyed::new();
        if !cx.desired["clients"]
            .values()
            .any(|d| d.get("authorizationSettings").is_some())
        {
            return Ok(out);
        }
        for c in live.client_list().await? {
            let (Some(cid), Some(id)) = (c["clientId"].as_str(), c["id"].as_str()) else {
                continue;
            };
            let wanted = cx.desired["clients"]
                .get(cid)
                .is_some_and(|d| d.get("authorizationSettings").is_some());
            if wanted && c["authorizationServicesEnabled"] == true {
                out.insert(cid.to_owned(), live.authz_settings(id).await?);
            }
        }
        Ok(out)
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (cid, d) in &cx.desired["clients"] {
            let Some(want) = d.get("authorizationSettings") else {
                continue;
            };
            let mut want = want.clone();
            normalize_authz(&mut want);
            let have = live.get(cid).cloned().unwrap_or(Value::Null);
            if same(&want, &have) {
                continue;
            }
            let mut fields: Vec<String> = ["resources", "scopes", "policies"]
                .iter()
                .filter(|k| !same(&want[**k], &have[**k]))
                .map(|k| format!("authorizationSettings.{k}"))
                .collect();
            if fields.is_empty() {
                fields.push("authorizationSettings".to_owned());
            }
            out.push(
                Change::new(Self::NAME, cid, Action::Update)
                    .fields(fields)
                    .op(Op::Authz {
                        client: cid.clone(),
                        want,
                    }),
            );
        }
        Ok(out)
    }
}
