//! Role composites, made exactly what the document lists for each role that lists them.

use super::super::doc::composite_refs;
use super::super::plan::{Action, Change, Op, RoleRef};
use super::super::snapshot::Live;
use super::realm_roles::RealmRoles;
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct Composites;

/// `roles` key → (client, name).
pub fn role_ref(key: &str) -> RoleRef {
    match key.strip_prefix("realm/") {
        Some(n) => (None, n.to_owned()),
        None => {
            let rest = key.strip_prefix("client/").unwrap_or(key);
            let (c, n) = rest.rsplit_once('/').unwrap_or(("", rest));
            (Some(c.to_owned()), n.to_owned())
        }
    }
}

fn show(v: &[RoleRef]) -> String {
    v.iter()
        .map(|(c, n)| match c {
            Some(c) => format!("{c}/{n}"),
            None => n.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Kind for Composites {
    const NAME: &'static str = "roles";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        RealmRoles.read_live(cx, live).await
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (key, d) in cx.desired["roles"].iter() {
            let Some(want) = d.get("composites") else {
                continue;
            };
            let have = live
                .get(key)
                .and_then(|l| l.get("composites"))
                .cloned()
                .unwrap_or_default();
            let (w, h) = (composite_refs(want), composite_refs(&have));
            let add: Vec<RoleRef> = w.difference(&h).cloned().collect();
            let remove: Vec<RoleRef> = h.difference(&w).cloned().collect();
            if add.is_empty() && remove.is_empty() {
                continue;
            }
            let field = format!("composites: +[{}] -[{}]", show(&add), show(&remove));
            out.push(
                Change::new(Self::NAME, key, Action::Update)
                    .fields(vec![field])
                    .op(Op::Composites {
                        role: role_ref(key),
                        add,
                        remove,
                    }),
            );
        }
        Ok(out)
    }
}
