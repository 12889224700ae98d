//! Users, by username, with group memberships and role mappings. A password in the document is
//! set when the user is created, and on update only with `--reset-passwords`; other credential
//! types and federated identities of existing users are reported as not applied.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::super::doc::{changed_values, describe, names, without};
use super::super::plan::{Action, Change, Op, Path, Seg, Verb};
use super::super::snapshot::{Live, strip};
use super::groups::{memberships, role_mappings};
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct Users;

/// Where the live user carries what `read_live` read beside it.
const LIVE_CREDENTIALS: &str = "(credentials)";
const LIVE_FEDERATED: &str = "(federated identities)";

const SEPARATE: &[&str] = &[
    "groups",
    "realmRoles",
    "clientRoles",
    "credentials",
    "federatedIdentities",
    // Not in the user the server sends; the client's service account is found by username.
    "serviceAccountClientId",
];

impl Kind for Users {
    const NAME: &'static str = "users";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        if cx.desired["users"].is_empty() {
            return Ok(Keyed::new());
        }
        let mut users = live
            .session
            .all("/users", &[("briefRepresentation", "false")])
            .await?;
        // Keycloak's user list leaves service-account users out; an exact search finds them.
        for (name, d) in &cx.desired["users"] {
            if d.get("serviceAccountClientId").is_none()
                || users.iter().any(|u| u["username"] == name.as_str())
            {
                continue;
            }
            let found = live
                .session
                .all(
                    "/users",
                    &[
                        ("username", name.as_str()),
                        ("exact", "true"),
                        ("briefRepresentation", "false"),
                    ],
                )
                .await?;
            users.extend(found.into_iter().filter(|u| u["username"] == name.as_str()));
        }
        if users.is_empty() {
            return Ok(Keyed::new());
        }
        let clients = live.client_list().await?;
        live.roles_doc(&clients).await?;
        live.groups().await?;
        let mut members = live.memberships(8).await?;
        // Stored credentials and federated identities, read for the users whose document has
        // them (one request each).
        let mut extra = std::collections::BTreeMap::new();
        for u in &users {
            let (Some(name), Some(id)) = (u["username"].as_str(), u["id"].as_str()) else {
                continue;
            };
            let Some(d) = cx.desired["users"].get(name) else {
                continue;
            };
            let base = format!("/users/{}", cloakroom::request::encode_segment(id));
            let mut e = serde_json::Map::new();
            if d["credentials"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|c| c.get("value").is_none()))
            {
                e.insert(
                    LIVE_CREDENTIALS.into(),
                    live.session.get(&format!("{base}/credentials")).await?,
                );
            }
            if d.get("federatedIdentities").is_some() {
                e.insert(
                    LIVE_FEDERATED.into(),
                    live.session
                        .get(&format!("{base}/federated-identity"))
                        .await?,
                );
            }
            extra.insert(id.to_owned(), e);
        }
        Ok(users
            .into_iter()
            .filter_map(|u| {
                let name = u["username"].as_str()?.to_owned();
                let id = u["id"].as_str().unwrap_or("").to_owned();
                let mut v = Live::with_membership(u, members.take(&id));
                if let (Some(e), Value::Object(m)) = (extra.remove(&id), &mut v) {
                    m.extend(e);
                }
                Some((name, v))
            })
            .collect())
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, r: &Live<'_>) -> CliResult<Vec<Change>> {
        // The realm's default role, which users keep.
        let mut default_role = format!("default-roles-{}", cx.realm.to_lowercase());
        if !live.is_empty() || !cx.desired["users"].is_empty() {
            if let Ok(realm) = r.session.get("").await {
                if let Some(n) = realm["defaultRole"]["name"].as_str() {
                    default_role = n.to_owned();
                }
            }
        }
        // The realm's default groups, which users keep as they keep the default role: Keycloak
        // puts every user created through its Admin API in them.
        let mut default_groups = names(
            cx.desired["realm"]
                .get("settings")
                .and_then(|s| s.get("defaultGroups")),
        );
        if !live.is_empty() {
            if let Ok(Value::Array(gs)) = r.session.get("/default-groups").await {
                default_groups.extend(
                    gs.iter()
                        .filter_map(|g| g["path"].as_str().map(str::to_owned)),
                );
            }
        }
        let declared = if cx.desired["users"]
            .values()
            .any(|u| u["attributes"].is_object())
        {
            writable_attributes(cx, r).await
        } else {
            None
        };
        let keep = Defaults {
            role: &default_role,
            groups: &default_groups,
            declared: declared.as_ref(),
        };
        let mut out = Vec::new();
        for (name, d) in &cx.desired["users"] {
            out.push(plan_user(cx, name, d, live.get(name), &keep));
        }
        Ok(out)
    }
}

/// What every user of the realm is given, and keeps unless the document lists it otherwise; and
/// which attributes the realm takes.
struct Defaults<'a> {
    role: &'a str,
    groups: &'a BTreeSet<String>,
    /// The attributes the user profile declares, when only those can be written (unmanaged
    /// attributes off); `None`: any attribute can.
    declared: Option<&'a BTreeSet<String>>,
}

/// The attribute names the realm's user profile (the document's, which apply writes first, or
/// the live one) declares, or `None` when unmanaged attributes can be written by an admin or
/// the profile cannot be read.
async fn writable_attributes(cx: &Cx<'_>, r: &Live<'_>) -> Option<BTreeSet<String>> {
    let from_doc = cx.desired["components"]
        .get("org.keycloak.userprofile.UserProfileProvider")
        .and_then(super::components::profile_of);
    let profile = match from_doc {
        Some(p) => p,
        None => r.session.get("/users/profile").await.ok()?,
    };
    if matches!(
        profile["unmanagedAttributePolicy"].as_str(),
        Some("ENABLED" | "ADMIN_EDIT")
    ) {
        return None;
    }
    Some(
        profile["attributes"]
            .as_array()?
            .iter()
            .filter_map(|a| a["name"].as_str().map(str::to_owned))
            .collect(),
    )
}

fn plan_user(cx: &Cx<'_>, name: &str, d: &Value, live: Option<&Value>, keep: &Defaults) -> Change {
    if live.is_none() && d.get("serviceAccountClientId").is_some() {
        return Change::new(Users::NAME, name, Action::Unchanged).unsupported(vec![
            "a service-account user is created with its client (serviceAccountsEnabled)".into(),
        ]);
    }
    let owner = Path::lit("/users/").seg(Seg::User(name.to_owned()));
    let mut body = without(d, SEPARATE);
    // Attributes the user profile does not declare: Keycloak drops them without a word.
    let mut dropped = Vec::new();
    if let (Some(declared), Some(Value::Object(attrs))) =
        (keep.declared, body.get_mut("attributes"))
    {
        dropped = attrs
            .keys()
            // `locale` is Keycloak's own (kept when internationalization is on).
            .filter(|k| !declared.contains(*k) && k.as_str() != "locale")
            .cloned()
            .collect();
        for k in &dropped {
            attrs.remove(k);
        }
        if attrs.is_empty() {
            body.as_object_mut().map(|m| m.remove("attributes"));
        }
    }
    let mut c = match live {
        None => {
            let mut create = body.clone();
            for k in ["credentials", "federatedIdentities"] {
                if let Some(v) = d.get(k) {
                    create[k] = v.clone();
                }
            }
            // Server ids of the user and its credentials are the source realm's: the same ids
            // already on this server make Keycloak answer 409 "User exists with same username
            // or email". The server assigns new ones.
            if let Some(m) = create.as_object_mut() {
                m.remove("id");
            }
            for cred in create["credentials"].as_array_mut().into_iter().flatten() {
                if let Some(m) = cred.as_object_mut() {
                    m.remove("id");
                }
            }
            Change::new(Users::NAME, name, Action::Create).op(Op::Send {
                verb: Verb::Post,
                path: Path::lit("/users"),
                body: Some(create),
                creates: Some(Seg::User(name.to_owned())),
            })
        }
        Some(l) => {
            let mut ls = l.clone();
            strip(&mut ls);
            let fields = describe(&changed_values(&body, &ls, "", &[]));
            if fields.is_empty() {
                Change::new(Users::NAME, name, Action::Unchanged)
            } else {
                Change::new(Users::NAME, name, Action::Update)
                    .fields(fields)
                    .op(Op::Patch {
                        path: owner.clone(),
                        patch: body,
                    })
            }
        }
    };
    // A new user has the default role from the start.
    let fresh = json!({"realmRoles": [keep.role]});
    role_mappings(
        &mut c,
        &owner,
        d,
        Some(live.unwrap_or(&fresh)),
        Some(keep.role),
    );
    if let Some(want) = d.get("groups") {
        let mut have = names(live.and_then(|l| l.get("groups")));
        let want = names(Some(want));
        have.retain(|g| want.contains(g) || !keep.groups.contains(g));
        memberships(&mut c, &owner, &want, &have);
    }
    if !dropped.is_empty() {
        c.unsupported.push(format!(
            "attributes {} (the realm's user profile does not declare them and unmanaged \
             attributes are off, so Keycloak drops them)",
            dropped.join(", ")
        ));
    }
    if let Some(l) = live {
        credentials(cx, &mut c, &owner, d, l);
        federated_identities(&mut c, &owner, d, l);
    }
    c
}

/// Links to identity providers the existing user lacks are added (`POST
/// /users/{id}/federated-identity/{alias}`); a link to the same provider with another user id
/// is reported, never replaced; links the document does not name stay.
fn federated_identities(c: &mut Change, owner: &Path, d: &Value, l: &Value) {
    let have = l[LIVE_FEDERATED].as_array().cloned().unwrap_or_default();
    for fi in d["federatedIdentities"].as_array().into_iter().flatten() {
        let Some(alias) = fi["identityProvider"].as_str() else {
            continue;
        };
        match have.iter().find(|h| h["identityProvider"] == alias) {
            Some(h) if h["userId"] == fi["userId"] => {}
            Some(h) => c.unsupported.push(format!(
                "federated identity {alias}: linked to user id {} on the server, {} in the document \
                 (unlink it first)",
                h["userId"], fi["userId"]
            )),
            None => c.absorb(
                Change::new(Users::NAME, &c.key, Action::Update)
                    .fields(vec![format!("link {alias}")])
                    .op(Op::send(
                        Verb::Post,
                        owner.clone().then(format!(
                            "/federated-identity/{}",
                            cloakroom::request::encode_segment(alias)
                        )),
                        Some(fi.clone()),
                    )),
            ),
        }
    }
}

/// Whether the live user has a stored credential like `cred` (same type, label and
/// `credentialData`; the secret itself is never shown by the server).
fn has_credential(l: &Value, cred: &Value) -> bool {
    let parsed = |v: &Value| match v {
        Value::String(t) => serde_json::from_str::<Value>(t).unwrap_or(v.clone()),
        _ => v.clone(),
    };
    let ty = cred["type"].as_str().unwrap_or("password");
    l[LIVE_CREDENTIALS]
        .as_array()
        .into_iter()
        .flatten()
        .any(|h| {
            h["type"] == ty
                && h["userLabel"] == cred["userLabel"]
                && (cred.get("credentialData").is_none()
                    || parsed(&h["credentialData"]) == parsed(&cred["credentialData"]))
        })
}

/// Credentials of an existing user: passwords only with `--reset-passwords`; a stored
/// credential (hashed password, OTP secret…) the user already has counts as applied, one it
/// lacks is reported (Keycloak's Admin API takes stored credentials only when it creates a
/// user).
fn credentials(cx: &Cx<'_>, c: &mut Change, owner: &Path, d: &Value, l: &Value) {
    let mut other = BTreeSet::new();
    for cred in d["credentials"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let ty = cred["type"].as_str().unwrap_or("password");
        match (ty, cred.get("value")) {
            ("password", Some(Value::String(v))) => {
                if cx.reset_passwords {
                    let reset = json!({"type": "password", "value": v,
                        "temporary": cred["temporary"].as_bool().unwrap_or(false)});
                    c.absorb(
                        Change::new(Users::NAME, &c.key, Action::Update)
                            .fields(vec!["password (reset)".into()])
                            .op(Op::send(
                                Verb::Put,
                                owner.clone().then("/reset-password"),
                                Some(reset),
                            )),
                    );
                }
            }
            _ if has_credential(l, cred) => {}
            _ => {
                other.insert(ty.to_owned());
            }
        }
    }
    if !other.is_empty() {
        let list: Vec<String> = other.into_iter().collect();
        c.unsupported.push(format!(
            "credentials of type {} that the user lacks (Keycloak takes stored credentials only \
             when it creates a user)",
            list.join(", ")
        ));
    }
}
