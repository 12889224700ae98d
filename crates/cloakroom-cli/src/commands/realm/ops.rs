//! Running one planned write ([`Op`]) against the server.

use std::collections::{BTreeMap, BTreeSet};

use cloakroom::admin::merge_patch;
use cloakroom::request::{Method, encode_segment};
use serde_json::{Value, json};

use super::plan::{Op, RoleRef, Seg, Verb};
use super::resolve::Ids;
use super::session::Session;
use crate::exit::{CliResult, Code};

fn method(v: Verb) -> Method {
    match v {
        Verb::Post => Method::Post,
        Verb::Put => Method::Put,
        Verb::Delete => Method::Delete,
    }
}

/// How long a create is tried again after an answer that leaves its effect unknown.
const CREATE_RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(90);

/// Creates the object `seg` names by POST. When the answer leaves it unknown whether the
/// server made it (a gateway's 502/503/504, or a connection that broke: a cluster node going
/// away), the object is looked up by its natural key and the POST sent again only when it is
/// not there, with back-off, for up to [`CREATE_RETRY_FOR`] (a Keycloak node that
/// takes over from a killed coordinator reports ready only after 30–60 s); a 409 after such an answer means
/// the first POST made it. The object is never created twice: its key is unique.
async fn create(s: &Session, ids: &mut Ids, p: &str, body: Option<&Value>, seg: &Seg) -> CliResult {
    let t0 = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(500);
    let mut unknown = false;
    loop {
        let answer = s.send(Method::Post, p, body).await;
        match answer {
            Ok(id) => {
                if let Some(id) = id {
                    ids.remember(seg, id);
                }
                return Ok(());
            }
            Err(e) if e.code == Code::Conflict && unknown => {
                // Made by an earlier try whose answer was lost.
                return ids.id(s, seg).await.map(|_| ());
            }
            Err(e) if e.retryable && t0.elapsed() < CREATE_RETRY_FOR => {
                unknown = true;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(8));
                if ids.id(s, seg).await.is_ok() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

pub async fn run(s: &Session, ids: &mut Ids, op: &Op) -> CliResult {
    match op {
        Op::Send {
            verb,
            path,
            body,
            creates,
        } => {
            let p = ids.path(s, path).await?;
            match (creates, *verb) {
                (Some(seg), Verb::Post) => create(s, ids, &p, body.as_ref(), seg).await?,
                _ => {
                    s.send(method(*verb), &p, body.as_ref()).await?;
                }
            }
        }
        Op::Patch { path, patch } => {
            let p = ids.path(s, path).await?;
            let mut cur = s.get(&p).await?;
            merge_patch(&mut cur, patch);
            s.send(Method::Put, &p, Some(&cur)).await?;
        }
        Op::Named { list, name, body } => {
            let p = ids.path(s, list).await?;
            let all = s.get(&p).await?;
            match all
                .as_array()
                .and_then(|a| a.iter().find(|m| m["name"] == name.as_str()))
            {
                Some(cur) => {
                    let id = cur["id"].as_str().unwrap_or("").to_owned();
                    let mut merged = cur.clone();
                    let mut patch = body.clone();
                    if let Some(m) = patch.as_object_mut() {
                        m.remove("id");
                    }
                    merge_patch(&mut merged, &patch);
                    // A mapper's config is exactly the document's.
                    if let Some(c) = patch.get("config") {
                        merged["config"] = c.clone();
                    }
                    let item = format!("{p}/{}", encode_segment(&id));
                    s.send(Method::Put, &item, Some(&merged)).await?;
                }
                None => {
                    let mut b = body.clone();
                    if let Some(m) = b.as_object_mut() {
                        m.remove("id");
                    }
                    s.send(Method::Post, &p, Some(&b)).await?;
                }
            }
        }
        Op::Link { path, target } => {
            let p = ids.path(s, path).await?;
            let id = ids.id(s, target).await?;
            s.send(Method::Post, &p, Some(&Value::String(id))).await?;
        }
        Op::ClientScopes { client, kind, want } => {
            client_scopes(s, ids, client, kind, want).await?
        }
        Op::Roles { path, add, remove } => {
            let p = ids.path(s, path).await?;
            roles(s, ids, &p, add, remove).await?
        }
        Op::Composites { role, add, remove } => {
            let r = ids.role(s, role).await?;
            let id = r["id"].as_str().unwrap_or("").to_owned();
            let p = format!("/roles-by-id/{}/composites", encode_segment(&id));
            roles(s, ids, &p, add, remove).await?
        }
        Op::CreateFlow {
            alias,
            flows,
            configs,
        } => super::flow_write::create(s, alias, flows, configs).await?,
        Op::ReshapeFlow {
            alias,
            flows,
            configs,
        } => super::flow_write::reshape(s, alias, flows, configs).await?,
        Op::Authz { client, want } => authz(s, ids, client, want).await?,
        Op::Component { parent, body } => component(s, parent.as_ref(), body).await?,
        Op::ReplaceComponent { body } => replace_component(s, body).await?,
        Op::TrimSubComponents { parent, keep } => trim_sub_components(s, parent, keep).await?,
    }
    Ok(())
}

async fn roles(
    s: &Session,
    ids: &mut Ids,
    path: &str,
    add: &[RoleRef],
    remove: &[RoleRef],
) -> CliResult {
    for (list, m) in [(add, Method::Post), (remove, Method::Delete)] {
        let mut reps = Vec::new();
        for r in list {
            reps.push(ids.role(s, r).await?);
        }
        if !reps.is_empty() {
            s.send(m, path, Some(&Value::Array(reps))).await?;
        }
    }
    Ok(())
}

async fn client_scopes(
    s: &Session,
    ids: &mut Ids,
    client: &str,
    kind: &str,
    want: &[String],
) -> CliResult {
    let uuid = ids.id(s, &Seg::Client(client.to_owned())).await?;
    let base = format!("/clients/{}/{kind}-client-scopes", encode_segment(&uuid));
    let have: BTreeMap<String, String> = s
        .get(&base)
        .await?
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    Some((x["name"].as_str()?.to_owned(), x["id"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let want: BTreeSet<&String> = want.iter().collect();
    for name in want.iter().filter(|n| !have.contains_key(**n)) {
        let id = ids.id(s, &Seg::Scope((*name).clone())).await?;
        let p = format!("{base}/{}", encode_segment(&id));
        s.send(Method::Put, &p, None).await?;
    }
    for (_, id) in have.iter().filter(|(n, _)| !want.contains(n)) {
        s.send(
            Method::Delete,
            &format!("{base}/{}", encode_segment(id)),
            None,
        )
        .await?;
    }
    Ok(())
}

/// Keycloak's import endpoint creates and updates by name; what the live client has beyond the
/// document (such as the default resource and policies Keycloak adds when authorization is
/// switched on) is deleted: permissions and policies first, then resources, then scopes.
async fn authz(s: &Session, ids: &mut Ids, client: &str, want: &Value) -> CliResult {
    let uuid = ids.id(s, &Seg::Client(client.to_owned())).await?;
    let rs = format!("/clients/{}/authz/resource-server", encode_segment(&uuid));
    s.send(Method::Post, &format!("{rs}/import"), Some(want))
        .await?;
    for (list, item, key) in [
        ("policy", "policy", "policies"),
        ("resource", "resource", "resources"),
        ("scope", "scope", "scopes"),
    ] {
        let keep = super::doc::names(Some(&json!(
            want[key]
                .as_array()
                .map(|a| a.iter().map(|x| x["name"].clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        )));
        for x in s.all(&format!("{rs}/{list}"), &[]).await? {
            let (Some(name), Some(id)) = (
                x["name"].as_str(),
                x["id"].as_str().or_else(|| x["_id"].as_str()),
            ) else {
                continue;
            };
            if keep.contains(name) {
                continue;
            }
            let p = format!("{rs}/{item}/{}", encode_segment(id));
            match s.send(Method::Delete, &p, None).await {
                // A permission deleted with the policy it depended on.
                Err(e) if e.code == Code::NotFound => {}
                r => {
                    r?;
                }
            }
        }
    }
    Ok(())
}

/// The id of the component of (type, name) directly under `parent`.
async fn find_component(
    s: &Session,
    parent: &str,
    ty: &str,
    name: &str,
    sub_type: &Value,
) -> CliResult<Option<Value>> {
    let found = s
        .all(
            "/components",
            &[("parent", parent), ("type", ty), ("name", name)],
        )
        .await?;
    Ok(found.into_iter().find(|c| {
        c["name"] == name
            && c["parentId"] == parent
            && (sub_type.is_null() || c["subType"] == *sub_type)
    }))
}

async fn trim_sub_components(
    s: &Session,
    (ty, name): &(String, String),
    keep: &[(String, String)],
) -> CliResult {
    let realm_id = s.realm_id().await?;
    let Some(parent) = find_component(s, &realm_id, ty, name, &Value::Null).await? else {
        return Ok(());
    };
    let pid = parent["id"].as_str().unwrap_or("").to_owned();
    for c in s.all("/components", &[("parent", pid.as_str())]).await? {
        let key = (
            c["providerType"].as_str().unwrap_or("").to_owned(),
            c["name"].as_str().unwrap_or("").to_owned(),
        );
        if keep.contains(&key) || c["parentId"] != pid.as_str() {
            continue;
        }
        let id = c["id"].as_str().unwrap_or("");
        s.send(
            Method::Delete,
            &format!("/components/{}", encode_segment(id)),
            None,
        )
        .await?;
    }
    Ok(())
}

async fn replace_component(s: &Session, body: &Value) -> CliResult {
    let realm_id = s.realm_id().await?;
    let ty = body["providerType"].as_str().unwrap_or("");
    let name = body["name"].as_str().unwrap_or("");
    let old = find_component(s, &realm_id, ty, name, &body["subType"])
        .await?
        .and_then(|c| c["id"].as_str().map(str::to_owned));
    let mut b = body.clone();
    b["parentId"] = Value::String(realm_id);
    s.send(Method::Post, "/components", Some(&b)).await?;
    if let Some(id) = old {
        s.send(
            Method::Delete,
            &format!("/components/{}", encode_segment(&id)),
            None,
        )
        .await?;
    }
    Ok(())
}

async fn component(s: &Session, parent: Option<&(String, String)>, body: &Value) -> CliResult {
    let realm_id = s.realm_id().await?;
    let parent_id = match parent {
        None => realm_id,
        Some((ty, name)) => find_component(s, &realm_id, ty, name, &Value::Null)
            .await?
            .and_then(|c| c["id"].as_str().map(str::to_owned))
            .ok_or_else(|| {
                crate::exit::CliError::not_found(format!("no component `{ty}/{name}`"))
            })?,
    };
    let ty = body["providerType"].as_str().unwrap_or("");
    let name = body["name"].as_str().unwrap_or("");
    match find_component(s, &parent_id, ty, name, &body["subType"]).await? {
        Some(mut cur) => {
            merge_patch(&mut cur, body);
            let id = cur["id"].as_str().unwrap_or("").to_owned();
            s.send(
                Method::Put,
                &format!("/components/{}", encode_segment(&id)),
                Some(&cur),
            )
            .await?;
        }
        None => {
            let mut b = body.clone();
            b["parentId"] = Value::String(parent_id);
            s.send(Method::Post, "/components", Some(&b)).await?;
        }
    }
    Ok(())
}
