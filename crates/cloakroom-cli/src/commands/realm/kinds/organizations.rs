//! Organizations by alias; the members (by username) and identity providers (by alias) of each
//! organization the document lists are made exactly the document's.

use std::collections::BTreeSet;

use cloakroom::request::encode_segment;
use serde_json::Value;

use super::super::plan::{Action, Change, Op, Path, Seg, Verb};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed, simple};
use crate::exit::CliResult;

pub struct Organizations;

const SEPARATE: &[&str] = &["members", "identityProviders"];

impl Kind for Organizations {
    const NAME: &'static str = "organizations";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        if cx.desired["organizations"].is_empty() {
            return Ok(Keyed::new());
        }
        Ok(keyed(live.organizations().await?, "alias"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (alias, d) in &cx.desired["organizations"] {
            let item = Path::lit("/organizations/").seg(Seg::Org(alias.clone()));
            let l = live.get(alias);
            let (dn, ln) = (domains_normal(d), l.map(domains_normal));
            let mut c = simple(
                Self::NAME,
                alias,
                &dn,
                ln.as_ref(),
                SEPARATE,
                Path::lit("/organizations"),
                item.clone(),
            );
            for (field, key, list, what) in [
                ("members", "username", "/members", "member"),
                (
                    "identityProviders",
                    "alias",
                    "/identity-providers",
                    "identity provider",
                ),
            ] {
                let Some(want) = d.get(field) else { continue };
                let (w, h) = (
                    by(want, key),
                    by(l.map_or(&Value::Null, |l| &l[field]), key),
                );
                // Members are linked by user id, identity providers by alias.
                let target = |x: &String| match field {
                    "members" => Seg::User(x.clone()),
                    _ => Seg::Lit(x.clone()),
                };
                for x in w.difference(&h) {
                    c.absorb(
                        Change::new(Self::NAME, alias, Action::Update)
                            .fields(vec![format!("{what} {x}")])
                            .op(Op::Link {
                                path: item.clone().then(list),
                                target: target(x),
                            }),
                    );
                }
                for x in h.difference(&w) {
                    let seg = match field {
                        "members" => Seg::User(x.clone()),
                        _ => Seg::Lit(encode_segment(x)),
                    };
                    c.absorb(
                        Change::new(Self::NAME, alias, Action::Update)
                            .fields(vec![format!("not {what} {x}")])
                            .op(Op::send(
                                Verb::Delete,
                                item.clone().then(format!("{list}/")).seg(seg),
                                None,
                            )),
                    );
                }
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// The organization with its domains in name order and `verified` false where not given (as
/// Keycloak stores them): a set, not a list.
fn domains_normal(o: &Value) -> Value {
    let mut o = o.clone();
    if let Some(Value::Array(ds)) = o.get_mut("domains") {
        for d in ds.iter_mut() {
            if let Some(m) = d.as_object_mut() {
                m.entry("verified").or_insert(Value::Bool(false));
            }
        }
        ds.sort_by_cached_key(|d| d["name"].as_str().unwrap_or("").to_owned());
    }
    o
}

fn by(v: &Value, key: &str) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
