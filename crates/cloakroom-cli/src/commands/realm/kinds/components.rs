//! Components of the realm (keys, user storage such as LDAP, client-registration policies, the
//! user profile…) by provider type and name, with their sub-components (LDAP mappers). Secrets
//! the server masks (`bindCredential`, private keys) never count as a difference.

use serde_json::{Map, Value, json};

use super::super::doc::changed_fields;
use super::super::plan::{Action, Change, Op};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct Components;

/// Fields compared (the rest is the server's).
const OWN: &[&str] = &["id", "parentId", "subComponents"];

/// A component's key: `type/name`, with ` (subType)` when it has one (client-registration
/// policies share names across the `anonymous` and `authenticated` sub-types).
pub fn key(ty: &str, c: &Value) -> String {
    let n = c["name"].as_str().unwrap_or("");
    match c["subType"].as_str() {
        Some(s) => format!("{ty}/{n} ({s})"),
        None => format!("{ty}/{n}"),
    }
}

/// Key → the component, from a document's `components` map.
pub fn keyed_components(doc_components: Option<&Value>) -> Keyed {
    let mut out = Keyed::new();
    if let Some(Value::Object(by_type)) = doc_components {
        for (ty, list) in by_type {
            for c in list.as_array().into_iter().flatten() {
                if c["name"].is_string() {
                    let mut c = c.clone();
                    c["providerType"] = json!(ty);
                    out.insert(key(ty, &c), c);
                }
            }
        }
    }
    out
}

impl Kind for Components {
    const NAME: &'static str = "components";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        if cx.desired["components"].is_empty() {
            return Ok(Keyed::new());
        }
        let realm_id = live.session.get("").await?["id"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let all = live.session.get("/components").await?;
        let all = all.as_array().cloned().unwrap_or_default();
        let mut out = Keyed::new();
        for c in all.iter().filter(|c| c["parentId"] == realm_id.as_str()) {
            let (Some(ty), true) = (c["providerType"].as_str(), c["name"].is_string()) else {
                continue;
            };
            let k = key(ty, c);
            let mut c = c.clone();
            let subs: Vec<Value> = all
                .iter()
                .filter(|s| s["parentId"] == c["id"])
                .cloned()
                .collect();
            c["subs"] = Value::Array(subs);
            out.insert(k, c);
        }
        Ok(out)
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (key, d) in &cx.desired["components"] {
            let l = live.get(key);
            let mut c = match l {
                None => Change::new(Self::NAME, key, Action::Create),
                Some(l) => {
                    let f = diff(d, l);
                    if f.is_empty() {
                        Change::new(Self::NAME, key, Action::Unchanged)
                    } else {
                        Change::new(Self::NAME, key, Action::Update).fields(f)
                    }
                }
            };
            if c.action != Action::Unchanged {
                c = c.op(Op::Component {
                    parent: None,
                    body: body(d),
                });
            }
            subs(&mut c, key, d, l);
            out.push(c);
        }
        Ok(out)
    }
}

/// What differs between a document component and a live one. The user profile's JSON is
/// compared as JSON.
fn diff(d: &Value, l: &Value) -> Vec<String> {
    let mut d2 = body(d);
    let mut l2 = l.clone();
    for v in [&mut d2, &mut l2] {
        if let Some(Value::Object(cfg)) = v.get_mut("config") {
            parse_json_config(cfg);
        }
    }
    changed_fields(&d2, &l2, "", OWN)
}

fn parse_json_config(cfg: &mut Map<String, Value>) {
    if let Some(Value::Array(a)) = cfg.get_mut("kc.user.profile.config") {
        for x in a.iter_mut() {
            if let Some(Ok(v)) = x.as_str().map(serde_json::from_str::<Value>) {
                *x = v;
            }
        }
    }
}

/// A component's body without ids, sub-components or the live helper list.
fn body(d: &Value) -> Value {
    let mut b = d.clone();
    if let Some(m) = b.as_object_mut() {
        for k in ["id", "parentId", "subComponents", "subs"] {
            m.remove(k);
        }
    }
    b
}

/// Sub-components (such as LDAP mappers), by type and name under their parent.
fn subs(c: &mut Change, key: &str, d: &Value, l: Option<&Value>) {
    let want = keyed_components(d.get("subComponents"));
    let empty = Vec::new();
    let have = l.and_then(|l| l["subs"].as_array()).unwrap_or(&empty);
    let parent = key
        .split_once('/')
        .map(|(t, n)| (t.to_owned(), n.to_owned()));
    for (k, s) in want {
        let live = have.iter().find(|h| {
            format!(
                "{}/{}",
                h["providerType"].as_str().unwrap_or(""),
                h["name"].as_str().unwrap_or("")
            ) == k
        });
        let field = match live {
            None => format!("sub-component {k} added"),
            Some(h) => {
                let f = diff(&s, h);
                if f.is_empty() {
                    continue;
                }
                format!("sub-component {k}: {}", f.join(", "))
            }
        };
        c.absorb(
            Change::new(Components::NAME, key, Action::Update)
                .fields(vec![field])
                .op(Op::Component {
                    parent: parent.clone(),
                    body: body(&s),
                }),
        );
    }
}
