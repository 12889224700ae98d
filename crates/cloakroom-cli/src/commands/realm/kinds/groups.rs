//! Groups, by path (parents first), with their role mappings made exactly the document's.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::doc::names;
use super::super::plan::{Action, Change, Op, Path, RoleRef, Seg, Verb};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, simple};
use crate::exit::CliResult;

pub struct Groups;

impl Kind for Groups {
    const NAME: &'static str = "groups";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let groups = live.groups().await?;
        let doc = serde_json::json!({ "groups": groups });
        Ok(super::super::doc::sections(&doc)["groups"].clone())
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (path, d) in &cx.desired["groups"] {
            let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            let create = if parent.is_empty() {
                Path::lit("/groups")
            } else {
                Path::lit("/groups/")
                    .seg(Seg::Group(parent.to_owned()))
                    .then("/children")
            };
            let item = Path::lit("/groups/").seg(Seg::Group(path.clone()));
            let mut c = simple(
                Self::NAME,
                path,
                d,
                live.get(path),
                &["realmRoles", "clientRoles", "subGroups", "path"],
                create,
                item.clone(),
            );
            role_mappings(&mut c, &item, d, live.get(path), None);
            out.push(c);
        }
        Ok(out)
    }
}

/// Makes the realm and client role mappings of a group or user (`owner`) what the document
/// lists (only the lists it has). `keep` is a realm role never removed (the default role).
pub fn role_mappings(
    change: &mut Change,
    owner: &Path,
    d: &Value,
    live: Option<&Value>,
    keep: Option<&str>,
) {
    if let Some(want) = d.get("realmRoles") {
        let want = names(Some(want));
        let have = names(live.and_then(|l| l.get("realmRoles")));
        let remove = have.difference(&want).filter(|n| Some(n.as_str()) != keep);
        one(
            change,
            owner.clone().then("/role-mappings/realm"),
            None,
            &want,
            &have,
            remove,
        );
    }
    if let Some(want) = d.get("clientRoles").and_then(Value::as_object) {
        let empty = serde_json::Map::new();
        let have_all = live
            .and_then(|l| l.get("clientRoles"))
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let clients: BTreeSet<&String> = want.keys().chain(have_all.keys()).collect();
        for cid in clients {
            let w = names(want.get(cid));
            let h = names(have_all.get(cid));
            let path = owner
                .clone()
                .then("/role-mappings/clients/")
                .seg(Seg::Client(cid.clone()));
            one(change, path, Some(cid), &w, &h, h.difference(&w));
        }
    }
}

fn one<'a>(
    change: &mut Change,
    path: Path,
    client: Option<&String>,
    want: &BTreeSet<String>,
    have: &BTreeSet<String>,
    remove: impl Iterator<Item = &'a String>,
) {
    let r = |n: &String| -> RoleRef { (client.cloned(), n.clone()) };
    let add: Vec<RoleRef> = want.difference(have).map(r).collect();
    let remove: Vec<RoleRef> = remove.map(r).collect();
    if add.is_empty() && remove.is_empty() {
        return;
    }
    let show = |v: &[RoleRef]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    let field = format!(
        "roles{}: +{:?} -{:?}",
        client.map(|c| format!(" of {c}")).unwrap_or_default(),
        show(&add),
        show(&remove)
    );
    change.absorb(
        Change::new(&change.section, &change.key, Action::Update)
            .fields(vec![field])
            .op(Op::Roles { path, add, remove }),
    );
}

/// Joins and leaves groups by path so that a user's groups are exactly `want`.
pub fn memberships(
    change: &mut Change,
    owner: &Path,
    want: &BTreeSet<String>,
    have: &BTreeSet<String>,
) {
    let joins = want.difference(have).map(|p| (p, Verb::Put, "join"));
    let leaves = have.difference(want).map(|p| (p, Verb::Delete, "leave"));
    for (p, verb, what) in joins.chain(leaves) {
        change.absorb(
            Change::new(&change.section, &change.key, Action::Update)
                .fields(vec![format!("{what} {p}")])
                .op(Op::send(
                    verb,
                    owner.clone().then("/groups/").seg(Seg::Group(p.clone())),
                    None,
                )),
        );
    }
}
