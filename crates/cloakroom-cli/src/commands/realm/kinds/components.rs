//! Components of the realm (keys, user storage such as LDAP, client-registration policies, the
//! user profile…) by provider type and name, with their sub-components (LDAP mappers). Secrets
//! the server masks (`bindCredential`, private keys) never count as a difference.

use serde_json::{Map, Value, json};

use super::super::doc::{changed_fields, same};
use super::super::plan::{Action, Change, Op, Path, Verb};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct Components;

/// Fields compared (the rest is the server's).
const OWN: &[&str] = &["id", "parentId", "subComponents"];

/// A component's key: `type/name`, with ` (subType)` when it has one (client-registration
/// policies share names across the `anonymous` and `authenticated` sub-types).
pub fn key(ty: &str, c: &Value) -> String {
    if ty == USER_PROFILE {
        return USER_PROFILE.to_owned();
    }
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
                // Keycloak's exports give the user-profile component no name.
                if c["name"].is_string() || ty == USER_PROFILE {
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
        let realm_id = live.session.realm_id().await?;
        let all = live.session.get("/components").await?;
        let all = all.as_array().cloned().unwrap_or_default();
        let mut out = Keyed::new();
        if cx.desired["components"].contains_key(USER_PROFILE) {
            // As stored (the profile last written), or the server's default profile.
            let stored = all
                .iter()
                .find(|c| c["providerType"] == USER_PROFILE && c["parentId"] == realm_id.as_str())
                .and_then(profile_of);
            let profile = match stored {
                Some(p) => p,
                None => live.session.get("/users/profile").await?,
            };
            out.insert(USER_PROFILE.to_owned(), json!({ "(profile)": profile }));
        }
        for c in all.iter().filter(|c| c["parentId"] == realm_id.as_str()) {
            let (Some(ty), true) = (c["providerType"].as_str(), c["name"].is_string()) else {
                continue;
            };
            if ty == USER_PROFILE {
                // Read above, as the profile.
                continue;
            }
            let k = key(ty, c);
            let mut c = c.clone();
            let subs: Vec<Value> = all
                .iter()
                .filter(|s| s["parentId"] == c["id"])
                .cloned()
                .collect();
            c["subs"] = Value::Array(subs);
            if ty == KEY_PROVIDER {
                let keys = realm_keys(live).await?;
                c["(keys)"] = Value::Array(
                    keys.iter()
                        .filter(|x| x["providerId"] == c["id"])
                        .cloned()
                        .collect(),
                );
            }
            out.insert(k, c);
        }
        Ok(out)
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (key, d) in &cx.desired["components"] {
            let l = live.get(key);
            if key == USER_PROFILE {
                out.push(user_profile(d, l));
                continue;
            }
            let replace = l.is_some_and(|l| material_differs(d, l));
            let mut c = match l {
                None => Change::new(Self::NAME, key, Action::Create),
                Some(l) => {
                    let mut f = diff(d, l);
                    if replace {
                        f.push(
                            "key material: the document's keys replace the live ones (tokens \
                             signed with the old keys stop validating)"
                                .into(),
                        );
                    }
                    if f.is_empty() {
                        Change::new(Self::NAME, key, Action::Unchanged)
                    } else {
                        Change::new(Self::NAME, key, Action::Update).fields(f)
                    }
                }
            };
            if replace {
                c = c.op(Op::ReplaceComponent { body: body(d) });
            } else if c.action != Action::Unchanged {
                c = c.op(Op::Component {
                    parent: None,
                    body: body(d),
                });
            }
            if l.is_none()
                && d["subComponents"]
                    .as_object()
                    .is_some_and(|m| !m.is_empty())
            {
                // Keycloak gives a new LDAP provider its default mappers; the document's list is
                // the provider's whole list, as its importer reads it.
                c = c.op(Op::TrimSubComponents {
                    parent: (
                        d["providerType"].as_str().unwrap_or("").to_owned(),
                        d["name"].as_str().unwrap_or("").to_owned(),
                    ),
                    keep: keyed_components(d.get("subComponents"))
                        .values()
                        .map(|s| {
                            (
                                s["providerType"].as_str().unwrap_or("").to_owned(),
                                s["name"].as_str().unwrap_or("").to_owned(),
                            )
                        })
                        .collect(),
                });
            }
            subs(&mut c, key, d, l);
            out.push(c);
        }
        Ok(out)
    }
}

/// The provider type of the user profile: one per realm, written through `PUT /users/profile`.
const USER_PROFILE: &str = "org.keycloak.userprofile.UserProfileProvider";

/// The profile a user-profile component holds (its `kc.user.profile.config`, parsed).
pub fn profile_of(c: &Value) -> Option<Value> {
    c["config"]["kc.user.profile.config"][0]
        .as_str()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
}

/// The user profile: the component's JSON configuration is the whole profile, made exactly the
/// document's through `PUT /users/profile` (the component itself is Keycloak's to keep).
fn user_profile(d: &Value, l: Option<&Value>) -> Change {
    let Some(want) = profile_of(d) else {
        return Change::new(Components::NAME, USER_PROFILE, Action::Unchanged).unsupported(vec![
            "the user-profile component has no readable `kc.user.profile.config`".into(),
        ]);
    };
    let have = l.map(|l| &l["(profile)"]).unwrap_or(&Value::Null);
    // The whole profile is the document's; compared with what Keycloak stores for it, which
    // adds `multivalued: false` to each attribute and `groups: []`.
    let (w, h) = (profile_normal(&want), profile_normal(have));
    let mut fields = Vec::new();
    for k in ["attributes", "groups", "unmanagedAttributePolicy"] {
        if !same(&w[k], &h[k]) {
            fields.push(match k {
                "attributes" => format!("attributes: {}", profile_names(want.get(k))),
                _ => k.to_owned(),
            });
        }
    }
    if fields.is_empty() {
        return Change::new(Components::NAME, USER_PROFILE, Action::Unchanged);
    }
    Change::new(Components::NAME, USER_PROFILE, Action::Update)
        .fields(fields)
        .op(Op::send(Verb::Put, Path::lit("/users/profile"), Some(want)))
}

/// A user profile with Keycloak's stored defaults filled in (`multivalued: false` on each
/// attribute, `groups: []`), so that a document and the stored profile compare as equal.
fn profile_normal(p: &Value) -> Value {
    let mut p = p.clone();
    if let Some(m) = p.as_object_mut() {
        m.entry("groups").or_insert_with(|| json!([]));
        for a in m
            .get_mut("attributes")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(a) = a.as_object_mut() {
                a.entry("multivalued").or_insert(Value::Bool(false));
            }
        }
    }
    p
}

/// The attribute names of a user profile, for a plan line.
fn profile_names(attrs: Option<&Value>) -> String {
    let names: Vec<&str> = attrs
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    names.join(" ")
}

/// The provider type of realm keys.
const KEY_PROVIDER: &str = "org.keycloak.keys.KeyProvider";

/// A key provider's key material and what derives from it. Keycloak does not show these in a
/// component (only in the realm's keys) and ignores them when a key provider is updated through
/// the Admin API; they are compared through `GET /keys` instead, and carried by replacing the
/// component (see [`Op::ReplaceComponent`]).
pub const MATERIAL: &[&str] = &["privateKey", "certificate", "secret", "kid", "keyUse"];

/// The realm's keys (`GET /keys`), each with the id of its provider component.
async fn realm_keys(live: &mut Live<'_>) -> CliResult<Vec<Value>> {
    let v = live.session.get("/keys").await?;
    Ok(v["keys"].as_array().cloned().unwrap_or_default())
}

/// Whether a key provider's document material (certificate, or kid of a secret key) is not
/// the live provider's. A document without material never differs (the server generates it).
fn material_differs(d: &Value, l: &Value) -> bool {
    if d["providerType"] != KEY_PROVIDER {
        return false;
    }
    let first = |k: &str| d["config"][k][0].as_str().map(str::to_owned);
    let keys = l["(keys)"].as_array().cloned().unwrap_or_default();
    let has = |field: &str, want: &str| keys.iter().any(|x| x[field] == want);
    match (first("certificate"), first("kid")) {
        (Some(cert), _) => !has("certificate", &cert),
        (None, Some(kid)) => !has("kid", &kid),
        (None, None) => false,
    }
}

/// What differs between a document component and a live one. The user profile's JSON is
/// compared as JSON; a key provider's material is compared by [`material_differs`].
fn diff(d: &Value, l: &Value) -> Vec<String> {
    let mut d2 = body(d);
    if d2["providerType"] == KEY_PROVIDER
        && let Some(Value::Object(cfg)) = d2.get_mut("config")
    {
        for k in MATERIAL {
            cfg.remove(*k);
        }
    }
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
        for k in ["id", "parentId", "subComponents", "subs", "(keys)"] {
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
