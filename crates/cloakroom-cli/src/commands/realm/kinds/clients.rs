//! Clients, by clientId, with their protocol mappers and default/optional client scopes (their
//! authorization settings come last, once users and groups exist: see `authz`).

use serde_json::Value;

use super::super::doc::names;
use super::super::plan::{Action, Change, Op, Path, Seg};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed, mappers, simple};
use crate::exit::CliResult;

pub struct Clients;

/// Parts of a client written through their own endpoints.
const SEPARATE: &[&str] = &[
    "protocolMappers",
    "defaultClientScopes",
    "optionalClientScopes",
    "authorizationSettings",
];

impl Kind for Clients {
    const NAME: &'static str = "clients";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let list = live.client_list().await?;
        let mut out = Vec::new();
        for mut c in list {
            // The secret stays (a document's secret compares with it; a masked one never
            // differs); authorization settings are compared by `authz`.
            if let Some(m) = c.as_object_mut() {
                m.remove("registrationAccessToken");
            }
            super::super::snapshot::strip(&mut c);
            out.push(c);
        }
        Ok(keyed(out, "clientId"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (cid, d) in &cx.desired["clients"] {
            let item = Path::lit("/clients/").seg(Seg::Client(cid.clone()));
            let l = live.get(cid);
            let skip: &[&str] = if l.is_some() {
                SEPARATE
            } else {
                &["authorizationSettings"]
            };
            let mut c = simple(
                Self::NAME,
                cid,
                d,
                l,
                skip,
                Path::lit("/clients"),
                item.clone(),
            );
            mappers::plan(&mut c, &item, d, l);
            scopes(&mut c, cid, d, l);
            out.push(c);
        }
        Ok(out)
    }
}

/// Default and optional client scopes, by name, made exactly the document's.
fn scopes(change: &mut Change, cid: &str, d: &Value, live: Option<&Value>) {
    for (field, kind) in [
        ("defaultClientScopes", "default"),
        ("optionalClientScopes", "optional"),
    ] {
        let Some(want) = d.get(field) else {
            continue;
        };
        let want = names(Some(want));
        let have = names(live.and_then(|l| l.get(field)));
        if live.is_some() && want == have {
            continue;
        }
        let mut fields = Vec::new();
        if live.is_some() {
            fields.extend(want.difference(&have).map(|n| format!("{field} + {n}")));
            fields.extend(have.difference(&want).map(|n| format!("{field} - {n}")));
        }
        change.absorb(
            Change::new(Clients::NAME, cid, Action::Update)
                .fields(fields)
                .op(Op::ClientScopes {
                    client: cid.to_owned(),
                    kind,
                    want: want.into_iter().collect(),
                }),
        );
    }
}
