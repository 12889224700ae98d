//! What the realm links to by name, each made exactly the document's: default groups, realm
//! default and optional client scopes, scope mappings (realm roles a client or client scope may
//! put in tokens) and client-scope mappings (client roles, by the roles' client).

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::doc::names;
use super::super::plan::{Action, Change, Op, Path, Seg, Verb};
use super::super::resolve::Ids;
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct RealmLinks;

const SECTION: &str = "realm";

/// (document key, endpoint, scope of names).
const SETS: &[(&str, &str, &str)] = &[
    ("defaultGroups", "/default-groups", "path"),
    (
        "defaultDefaultClientScopes",
        "/default-default-client-scopes",
        "name",
    ),
    (
        "defaultOptionalClientScopes",
        "/default-optional-client-scopes",
        "name",
    ),
];

impl Kind for RealmLinks {
    const NAME: &'static str = "realm";

    async fn read_live(&self, _cx: &Cx<'_>, _live: &mut Live<'_>) -> CliResult<Keyed> {
        Ok(Keyed::new())
    }

    async fn plan(&self, cx: &Cx<'_>, _l: &Keyed, r: &Live<'_>) -> CliResult<Vec<Change>> {
        let settings = &cx.desired["realm"]["settings"];
        let mut c = Change::new(SECTION, cx.realm, Action::Unchanged);
        for (key, endpoint, field) in SETS {
            let Some(want) = settings.get(*key) else {
                continue;
            };
            let have = live_names(r, endpoint, field).await;
            set(&mut c, key, endpoint, &names(Some(want)), &have);
        }
        let mut ids = Ids::default();
        for m in settings["scopeMappings"].as_array().into_iter().flatten() {
            let Some(owner) = owner(m) else { continue };
            let base = owner_path(&mut ids, r, &owner).await;
            let have = match &base {
                Some(b) => role_names(r, &format!("{b}/scope-mappings/realm")).await,
                None => BTreeMap::new(),
            };
            roles(&mut c, &owner, None, &names(m.get("roles")), &have);
        }
        if let Some(Value::Object(by_client)) = settings.get("clientScopeMappings") {
            for (role_client, list) in by_client {
                for m in list.as_array().into_iter().flatten() {
                    let Some(owner) = owner(m) else { continue };
                    let base = owner_path(&mut ids, r, &owner).await;
                    let rc = ids.id(&r.session, &Seg::Client(role_client.clone())).await;
                    let have = match (&base, rc) {
                        (Some(b), Ok(rc)) => {
                            let p = format!(
                                "{b}/scope-mappings/clients/{}",
                                cloakroom::request::encode_segment(&rc)
                            );
                            role_names(r, &p).await
                        }
                        _ => BTreeMap::new(),
                    };
                    roles(
                        &mut c,
                        &owner,
                        Some(role_client),
                        &names(m.get("roles")),
                        &have,
                    );
                }
            }
        }
        Ok(vec![c])
    }
}

/// A scope mapping's owner: a client (by clientId) or a client scope (by name).
fn owner(m: &Value) -> Option<Seg> {
    if let Some(c) = m["client"].as_str() {
        return Some(Seg::Client(c.to_owned()));
    }
    m["clientScope"].as_str().map(|s| Seg::Scope(s.to_owned()))
}

fn owner_base(owner: &Seg) -> Path {
    match owner {
        Seg::Scope(_) => Path::lit("/client-scopes/").seg(owner.clone()),
        _ => Path::lit("/clients/").seg(owner.clone()),
    }
}

/// The live path of an owner, when it exists.
async fn owner_path(ids: &mut Ids, r: &Live<'_>, owner: &Seg) -> Option<String> {
    ids.path(&r.session, &owner_base(owner)).await.ok()
}

async fn live_names(r: &Live<'_>, endpoint: &str, field: &str) -> BTreeMap<String, String> {
    let v = r.session.get(endpoint).await.unwrap_or(Value::Null);
    pairs(&v, field)
}

async fn role_names(r: &Live<'_>, p: &str) -> BTreeMap<String, String> {
    let v = r.session.get(p).await.unwrap_or(Value::Null);
    pairs(&v, "name")
}

fn pairs(v: &Value, field: &str) -> BTreeMap<String, String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| Some((x[field].as_str()?.to_owned(), x["id"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn set(
    c: &mut Change,
    key: &str,
    endpoint: &str,
    want: &std::collections::BTreeSet<String>,
    have: &BTreeMap<String, String>,
) {
    for n in want.iter().filter(|n| !have.contains_key(*n)) {
        let seg = if key == "defaultGroups" {
            Seg::Group(n.clone())
        } else {
            Seg::Scope(n.clone())
        };
        c.absorb(
            Change::new(SECTION, &c.key, Action::Update)
                .fields(vec![format!("{key} + {n}")])
                .op(Op::send(
                    Verb::Put,
                    Path::lit(format!("{endpoint}/")).seg(seg),
                    None,
                )),
        );
    }
    for (n, id) in have.iter().filter(|(n, _)| !want.contains(*n)) {
        c.absorb(
            Change::new(SECTION, &c.key, Action::Update)
                .fields(vec![format!("{key} - {n}")])
                .op(Op::send(
                    Verb::Delete,
                    Path::lit(format!(
                        "{endpoint}/{}",
                        cloakroom::request::encode_segment(id)
                    )),
                    None,
                )),
        );
    }
}

fn roles(
    c: &mut Change,
    owner: &Seg,
    client: Option<&String>,
    want: &std::collections::BTreeSet<String>,
    have: &BTreeMap<String, String>,
) {
    let add: Vec<(Option<String>, String)> = want
        .iter()
        .filter(|n| !have.contains_key(*n))
        .map(|n| (client.cloned(), n.clone()))
        .collect();
    let remove: Vec<(Option<String>, String)> = have
        .keys()
        .filter(|n| !want.contains(*n))
        .map(|n| (client.cloned(), n.clone()))
        .collect();
    if add.is_empty() && remove.is_empty() {
        return;
    }
    let who = match owner {
        Seg::Client(x) | Seg::Scope(x) => x.clone(),
        _ => String::new(),
    };
    let (what, path) = match client {
        None => (
            "scopeMappings",
            owner_base(owner).then("/scope-mappings/realm"),
        ),
        Some(rc) => (
            "clientScopeMappings",
            owner_base(owner)
                .then("/scope-mappings/clients/")
                .seg(Seg::Client(rc.clone())),
        ),
    };
    let show = |v: &[(Option<String>, String)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
    let field = format!(
        "{what} of {who}{}: +{:?} -{:?}",
        client.map(|c| format!(" ({c})")).unwrap_or_default(),
        show(&add),
        show(&remove)
    );
    c.absorb(
        Change::new(SECTION, &c.key, Action::Update)
            .fields(vec![field])
            .op(Op::Roles { path, add, remove }),
    );
}
