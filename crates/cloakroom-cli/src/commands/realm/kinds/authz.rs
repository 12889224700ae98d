//! A client's authorization settings, made exactly the document's (planned last: policies can
//! name users, groups and roles).

use serde_json::Value;

use super::super::doc::changed_fields;
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
            let top = changed_fields(&want, &have, "", &["resources", "scopes", "policies"]);
            let mut fields: Vec<String> = ["resources", "scopes", "policies"]
                .iter()
                .filter(|k| section_differs(&want[**k], &have[**k]))
                .map(|k| format!("authorizationSettings.{k}"))
                .collect();
            if top.is_empty() && fields.is_empty() && have.is_object() {
                continue;
            }
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

/// Whether a section (resources, scopes or policies) differs: the same names, and each item
/// as the document states it (the server adds an owner, empty attributes, scope ids…).
fn section_differs(want: &Value, have: &Value) -> bool {
    let (w, h) = (
        want.as_array().cloned().unwrap_or_default(),
        have.as_array().cloned().unwrap_or_default(),
    );
    let names = |v: &[Value]| -> Vec<String> {
        let mut n: Vec<String> = v
            .iter()
            .filter_map(|x| x["name"].as_str().map(str::to_owned))
            .collect();
        n.sort();
        n
    };
    if names(&w) != names(&h) {
        return true;
    }
    w.iter().any(|x| {
        let Some(y) = h.iter().find(|y| y["name"] == x["name"]) else {
            return true;
        };
        !changed_fields(x, y, "", &[]).is_empty()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_additions_are_no_difference_but_a_changed_or_missing_item_is() {
        let want = json!([{"name": "Doc", "uris": ["/d/*"], "scopes": [{"name": "read"}]}]);
        let have = json!([{"name": "Doc", "uris": ["/d/*"], "owner": {"name": "api"},
            "attributes": {}, "scopes": [{"name": "read"}]}]);
        assert!(!section_differs(&want, &have));
        let moved = json!([{"name": "Doc", "uris": ["/e/*"], "scopes": [{"name": "read"}]}]);
        assert!(section_differs(&want, &moved));
        assert!(section_differs(&want, &json!([])));
    }
}
