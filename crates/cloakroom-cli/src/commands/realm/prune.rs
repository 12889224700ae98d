//! `--prune KINDS`: live objects of those kinds that the document does not name are deleted,
//! after everything else, all planned first and refused past `--max-deletes`. Built-in objects
//! (the master realm's admins, default roles, Keycloak's own clients and client scopes) are
//! never deleted.

use cloakroom::request::encode_segment;

use super::doc::Sections;
use super::kinds::{
    Cx, Keyed, Kind, client_scopes::ClientScopes, clients::Clients, groups::Groups,
    identity_providers::IdentityProviders, realm_roles::RealmRoles,
};
use super::plan::{Action, Change, Op, Path, Seg, Verb};
use super::snapshot::Live;
use crate::exit::{CliError, CliResult};

/// The kinds `--prune` accepts, in the order their deletes run.
pub const KINDS: &[&str] = &[
    "users",
    "organizations",
    "identityProviders",
    "groups",
    "clients",
    "roles",
    "clientScopes",
];

const BUILTIN_CLIENTS: &[&str] = &[
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

const BUILTIN_SCOPES: &[&str] = &[
    "acr",
    "address",
    "basic",
    "email",
    "microprofile-jwt",
    "offline_access",
    "organization",
    "phone",
    "profile",
    "role_list",
    "roles",
    "saml_organization",
    "service_account",
    "web-origins",
];

const BUILTIN_ROLES: &[&str] = &[
    "offline_access",
    "uma_authorization",
    "admin",
    "create-realm",
];

pub fn check_kinds(kinds: &[String]) -> CliResult {
    for k in kinds {
        if !KINDS.contains(&k.as_str()) {
            return Err(CliError::usage(format!(
                "--prune: unknown kind `{k}` (one of {})",
                KINDS.join(", ")
            )));
        }
    }
    Ok(())
}

fn builtin(kind: &str, key: &str) -> bool {
    match kind {
        "clients" => BUILTIN_CLIENTS.contains(&key) || key.ends_with("-realm"),
        "clientScopes" => BUILTIN_SCOPES.contains(&key),
        "roles" => match key.strip_prefix("realm/") {
            Some(n) => BUILTIN_ROLES.contains(&n) || n.starts_with("default-roles-"),
            // Client roles of built-in clients.
            None => key
                .strip_prefix("client/")
                .and_then(|r| r.rsplit_once('/'))
                .is_some_and(|(c, _)| builtin("clients", c)),
        },
        _ => false,
    }
}

/// The live keys of one prunable kind.
async fn live_keys(kind: &str, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
    Ok(match kind {
        "users" => {
            let all = live
                .session
                .all("/users", &[("briefRepresentation", "true")])
                .await?;
            let mut out = super::kinds::keyed(all, "username");
            if cx.realm == "master" {
                // The master realm's administrators stay.
                let admins = live.session.all("/roles/admin/users", &[]).await?;
                for a in admins {
                    if let Some(n) = a["username"].as_str() {
                        out.remove(n);
                    }
                }
            }
            out
        }
        "organizations" => super::kinds::keyed(live.organizations().await?, "alias"),
        "identityProviders" => IdentityProviders.read_live(cx, live).await?,
        "groups" => Groups.read_live(cx, live).await?,
        "clients" => Clients.read_live(cx, live).await?,
        "roles" => RealmRoles.read_live(cx, live).await?,
        _ => ClientScopes.read_live(cx, live).await?,
    })
}

fn delete_path(kind: &str, key: &str) -> Path {
    match kind {
        "users" => Path::lit("/users/").seg(Seg::User(key.to_owned())),
        "organizations" => Path::lit("/organizations/").seg(Seg::Org(key.to_owned())),
        "identityProviders" => Path::lit(format!(
            "/identity-provider/instances/{}",
            encode_segment(key)
        )),
        "groups" => Path::lit("/groups/").seg(Seg::Group(key.to_owned())),
        "clients" => Path::lit("/clients/").seg(Seg::Client(key.to_owned())),
        "clientScopes" => Path::lit("/client-scopes/").seg(Seg::Scope(key.to_owned())),
        _ => match key.strip_prefix("realm/") {
            Some(n) => Path::lit(format!("/roles/{}", encode_segment(n))),
            None => {
                let rest = key.strip_prefix("client/").unwrap_or(key);
                let (c, n) = rest.rsplit_once('/').unwrap_or(("", rest));
                Path::lit("/clients/")
                    .seg(Seg::Client(c.to_owned()))
                    .then(format!("/roles/{}", encode_segment(n)))
            }
        },
    }
}

/// One delete per live object of the kinds the document does not name. A group whose parent
/// is deleted goes with it (listed, without a write of its own); so do a deleted client's roles.
pub async fn plan(cx: &Cx<'_>, kinds: &[String], live: &mut Live<'_>) -> CliResult<Vec<Change>> {
    let desired: &Sections = cx.desired;
    let mut out = Vec::new();
    let mut gone_clients: Vec<String> = Vec::new();
    for kind in KINDS.iter().filter(|k| kinds.iter().any(|x| x == *k)) {
        let have = live_keys(kind, cx, live).await?;
        let want = desired.get(*kind).cloned().unwrap_or_default();
        let mut gone: Vec<String> = Vec::new();
        for key in have.keys() {
            if want.contains_key(key) || builtin(kind, key) {
                continue;
            }
            let inside = |parents: &[String], sep: char| {
                parents
                    .iter()
                    .any(|p| key.starts_with(&format!("{p}{sep}")))
            };
            let implied = (*kind == "groups" && inside(&gone, '/'))
                || (*kind == "roles"
                    && gone_clients
                        .iter()
                        .any(|c| key.starts_with(&format!("client/{c}/"))));
            let mut c = Change::new(kind, key, Action::Delete);
            if implied {
                c.fields.push("with its parent".into());
            } else {
                c = c.op(Op::send(Verb::Delete, delete_path(kind, key), None));
            }
            gone.push(key.clone());
            out.push(c);
        }
        if *kind == "clients" {
            gone_clients = gone;
        }
    }
    Ok(out)
}
