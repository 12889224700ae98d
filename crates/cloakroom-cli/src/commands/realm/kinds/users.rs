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
        Ok(users
            .into_iter()
            .filter_map(|u| {
                let name = u["username"].as_str()?.to_owned();
                let id = u["id"].as_str().unwrap_or("").to_owned();
                Some((name, Live::with_membership(u, members.remove(&id))))
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
        let mut out = Vec::new();
        for (name, d) in &cx.desired["users"] {
            out.push(plan_user(cx, name, d, live.get(name), &default_role));
        }
        Ok(out)
    }
}

fn plan_user(cx: &Cx<'_>, name: &str, d: &Value, live: Option<&Value>, keep: &str) -> Change {
    if live.is_none() && d.get("serviceAccountClientId").is_some() {
        return Change::new(Users::NAME, name, Action::Unchanged).unsupported(vec![
            "a service-account user is created with its client (serviceAccountsEnabled)".into(),
        ]);
    }
    let owner = Path::lit("/users/").seg(Seg::User(name.to_owned()));
    let body = without(d, SEPARATE);
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
    let fresh = json!({"realmRoles": [keep]});
    role_mappings(&mut c, &owner, d, Some(live.unwrap_or(&fresh)), Some(keep));
    if let Some(want) = d.get("groups") {
        let have = names(live.and_then(|l| l.get("groups")));
        memberships(&mut c, &owner, &names(Some(want)), &have);
    }
    if live.is_some() {
        credentials(cx, &mut c, &owner, d);
        if d["federatedIdentities"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            c.unsupported
                .push("federatedIdentities (set only when the user is created)".into());
        }
    }
    c
}

/// Credentials of an existing user: passwords only with `--reset-passwords`; the rest is
/// reported.
fn credentials(cx: &Cx<'_>, c: &mut Change, owner: &Path, d: &Value) {
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
            _ => {
                other.insert(ty.to_owned());
            }
        }
    }
    if !other.is_empty() {
        let list: Vec<String> = other.into_iter().collect();
        c.unsupported.push(format!(
            "credentials of type {} (set only when the user is created)",
            list.join(", ")
        ));
    }
}
