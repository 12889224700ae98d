//! `get|create|update|delete <resource>` for users, clients, groups, roles, client scopes,
//! identity providers and realms, on raw JSON (`kc.raw()`), so no field is ever lost.

use cloakroom::Client;
use cloakroom::request::encode_segment;
use serde_json::{Map, Value};

use super::{Ctx, parse_pairs, read_document};
use crate::cli::{CreateArgs, DeleteArgs, GetArgs, ResourceKind, UpdateArgs};
use crate::exit::{CliError, CliResult};
use crate::output::select_fields;

/// Items per page when listing.
pub const PAGE: usize = 100;

pub fn realm_base(realm: &str) -> String {
    format!("/admin/realms/{}", encode_segment(realm))
}

/// Fetches every page of a `first`/`max` listing (or up to `limit` items), calling `f` per page.
pub async fn for_each_page(
    kc: &Client,
    path: &str,
    query: &[(String, String)],
    page_size: usize,
    limit: Option<usize>,
    mut f: impl FnMut(Vec<Value>) -> CliResult,
) -> CliResult<usize> {
    let page_size = page_size.max(1);
    let mut first = 0usize;
    let mut seen = 0usize;
    let mut previous_head: Option<Value> = None;
    loop {
        let want = match limit {
            Some(l) if l <= seen => break,
            Some(l) => page_size.min(l - seen),
            None => page_size,
        };
        let mut call = kc.raw().get(path).query("first", first).query("max", want);
        for (k, v) in query {
            call = call.query(k, v);
        }
        let page: Value = call.send_json().await?;
        let Value::Array(items) = page else {
            return Err(CliError::server(format!(
                "expected a list from GET {path}, got something else"
            )));
        };
        let n = items.len();
        if n == 0 {
            break;
        }
        // An endpoint that ignores `first` would repeat its first page forever.
        let head = items.first().cloned();
        if first > 0 && head == previous_head {
            tracing::warn!(path, "the server ignored paging; stopping after one page");
            break;
        }
        previous_head = head;
        seen += n;
        f(items)?;
        if n < want {
            break;
        }
        first += n;
    }
    Ok(seen)
}

pub async fn list_all(
    kc: &Client,
    path: &str,
    query: &[(String, String)],
    limit: Option<usize>,
) -> CliResult<Vec<Value>> {
    let mut all = Vec::new();
    for_each_page(kc, path, query, PAGE, limit, |items| {
        all.extend(items);
        Ok(())
    })
    .await?;
    Ok(all)
}

fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

impl ResourceKind {
    fn label(self) -> &'static str {
        match self {
            ResourceKind::Users => "user",
            ResourceKind::Clients => "client",
            ResourceKind::Groups => "group",
            ResourceKind::Roles => "role",
            ResourceKind::ClientScopes => "client scope",
            ResourceKind::IdentityProviders => "identity provider",
            ResourceKind::Realms => "realm",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            ResourceKind::Users => &[
                "id",
                "username",
                "email",
                "firstName",
                "lastName",
                "enabled",
            ],
            ResourceKind::Clients => &[
                "id",
                "clientId",
                "name",
                "protocol",
                "publicClient",
                "enabled",
            ],
            ResourceKind::Groups => &["id", "name", "path", "subGroupCount"],
            ResourceKind::Roles => &["id", "name", "description", "composite", "clientRole"],
            ResourceKind::ClientScopes => &["id", "name", "protocol", "description"],
            ResourceKind::IdentityProviders => &["alias", "providerId", "displayName", "enabled"],
            ResourceKind::Realms => &["id", "realm", "displayName", "enabled"],
        }
    }

    fn paged(self) -> bool {
        matches!(
            self,
            ResourceKind::Users
                | ResourceKind::Clients
                | ResourceKind::Groups
                | ResourceKind::Roles
                | ResourceKind::IdentityProviders
        )
    }
}

/// Where a kind lives in a realm (`--client` selects client roles).
async fn collection(
    kc: &Client,
    kind: ResourceKind,
    realm: &str,
    client: Option<&str>,
) -> CliResult<String> {
    let base = realm_base(realm);
    Ok(match kind {
        ResourceKind::Users => format!("{base}/users"),
        ResourceKind::Clients => format!("{base}/clients"),
        ResourceKind::Groups => format!("{base}/groups"),
        ResourceKind::Roles => match client {
            Some(c) => {
                let id = client_uuid(kc, realm, c).await?;
                format!("{base}/clients/{}/roles", encode_segment(&id))
            }
            None => format!("{base}/roles"),
        },
        ResourceKind::ClientScopes => format!("{base}/client-scopes"),
        ResourceKind::IdentityProviders => format!("{base}/identity-provider/instances"),
        ResourceKind::Realms => "/admin/realms".to_owned(),
    })
}

/// The internal id of the client with this clientId (or id).
pub async fn client_uuid(kc: &Client, realm: &str, client: &str) -> CliResult<String> {
    let base = realm_base(realm);
    let found: Value = kc
        .raw()
        .get(format!("{base}/clients"))
        .query("clientId", client)
        .realm(realm)
        .send_json()
        .await?;
    if let Some(id) = found
        .as_array()
        .and_then(|a| a.iter().find(|c| c["clientId"] == client))
        .and_then(|c| c["id"].as_str())
    {
        return Ok(id.to_owned());
    }
    if looks_like_uuid(client) {
        return Ok(client.to_owned());
    }
    Err(CliError::not_found(format!(
        "no client `{client}` in realm `{realm}`"
    )))
}

fn find_group<'a>(groups: &'a [Value], name: &str) -> Option<&'a Value> {
    for g in groups {
        if g["name"] == name {
            return Some(g);
        }
        if let Some(sub) = g["subGroups"].as_array() {
            if let Some(f) = find_group(sub, name) {
                return Some(f);
            }
        }
    }
    None
}

/// The path of one object, from its id or natural name.
async fn item_path(
    kc: &Client,
    kind: ResourceKind,
    realm: &str,
    name: &str,
    client: Option<&str>,
) -> CliResult<String> {
    let coll = collection(kc, kind, realm, client).await?;
    let not_found =
        || CliError::not_found(format!("no {} `{name}` in realm `{realm}`", kind.label()));
    let by_query = |param: &'static str, field: &'static str| {
        let coll = coll.clone();
        async move {
            let found: Value = kc
                .raw()
                .get(&coll)
                .query(param, name)
                .query("exact", "true")
                .realm(realm)
                .send_json()
                .await?;
            let id = found
                .as_array()
                .and_then(|a| a.iter().find(|x| x[field] == name))
                .and_then(|x| x["id"].as_str())
                .map(str::to_owned);
            Ok::<_, CliError>(id)
        }
    };
    let id = match kind {
        ResourceKind::Realms => return Ok(format!("/admin/realms/{}", encode_segment(name))),
        ResourceKind::Roles | ResourceKind::IdentityProviders => {
            return Ok(format!("{coll}/{}", encode_segment(name)));
        }
        _ if looks_like_uuid(name) => name.to_owned(),
        ResourceKind::Users => by_query("username", "username")
            .await?
            .ok_or_else(not_found)?,
        ResourceKind::Clients => by_query("clientId", "clientId")
            .await?
            .ok_or_else(not_found)?,
        ResourceKind::Groups => {
            if name.starts_with('/') {
                let g: Value = kc
                    .raw()
                    .get(format!(
                        "{}/group-by-path/{}",
                        realm_base(realm),
                        name.trim_start_matches('/')
                            .split('/')
                            .map(encode_segment)
                            .collect::<Vec<_>>()
                            .join("/")
                    ))
                    .realm(realm)
                    .send_json()
                    .await
                    .map_err(|e| {
                        if e.is_not_found() {
                            not_found()
                        } else {
                            e.into()
                        }
                    })?;
                g["id"].as_str().ok_or_else(not_found)?.to_owned()
            } else {
                let found: Value = kc
                    .raw()
                    .get(&coll)
                    .query("search", name)
                    .query("exact", "true")
                    .realm(realm)
                    .send_json()
                    .await?;
                find_group(found.as_array().map(Vec::as_slice).unwrap_or(&[]), name)
                    .and_then(|g| g["id"].as_str())
                    .ok_or_else(not_found)?
                    .to_owned()
            }
        }
        ResourceKind::ClientScopes => {
            let all: Value = kc.raw().get(&coll).realm(realm).send_json().await?;
            all.as_array()
                .and_then(|a| a.iter().find(|x| x["name"] == name))
                .and_then(|x| x["id"].as_str())
                .ok_or_else(not_found)?
                .to_owned()
        }
    };
    Ok(format!("{coll}/{}", encode_segment(&id)))
}

/// Turns a 404 on a known path into "no <kind> `name` in realm `r`" (or the realm's absence).
fn explain_404(e: cloakroom::Error, kind: ResourceKind, realm: &str, name: &str) -> CliError {
    if e.is_not_found() {
        let keycloak = e
            .as_api()
            .and_then(|a| a.message())
            .unwrap_or("not found")
            .to_owned();
        if keycloak.contains("Realm") {
            return CliError::not_found(format!("realm `{realm}` not found ({keycloak})"));
        }
        return CliError::not_found(format!(
            "no {} `{name}` in realm `{realm}` ({keycloak})",
            kind.label()
        ));
    }
    e.into()
}

pub async fn get(ctx: &Ctx, a: GetArgs) -> CliResult {
    let (kc, settings) = ctx.admin().await?;
    let realm = settings.target_realm().to_owned();
    let columns: Vec<&str> = if a.fields.is_empty() {
        a.kind.columns().to_vec()
    } else {
        a.fields.iter().map(String::as_str).collect()
    };
    if let Some(name) = &a.name {
        let path = item_path(&kc, a.kind, &realm, name, a.client.as_deref()).await?;
        let v: Value = kc
            .raw()
            .get(&path)
            .realm(&realm)
            .send_json()
            .await
            .map_err(|e| explain_404(e, a.kind, &realm, name))?;
        return ctx.out.print(&select_fields(&v, &a.fields), &[]);
    }
    let coll = collection(&kc, a.kind, &realm, a.client.as_deref()).await?;
    let mut query = parse_pairs(&a.query, "query parameter")?;
    if let Some(s) = &a.search {
        query.push(("search".into(), s.clone()));
    }
    let items = if a.kind.paged() {
        list_all(&kc, &coll, &query, a.limit)
            .await
            .map_err(|e| e.context(format!("listing {}", a.kind.label())))?
    } else {
        let mut call = kc.raw().get(&coll);
        for (k, v) in &query {
            call = call.query(k, v);
        }
        let v: Value = call.send_json().await?;
        let mut items = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        if let Some(l) = a.limit {
            items.truncate(l);
        }
        items
    };
    ctx.out
        .print(&select_fields(&Value::Array(items), &a.fields), &columns)
}

/// Applies `-s key=value` pairs (dotted keys nest; values are JSON when they parse as JSON).
pub fn set_pairs(target: &mut Value, sets: &[String]) -> CliResult {
    let mut patch = Value::Object(Map::new());
    for s in sets {
        let (key, raw) = s
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("-s `{s}` is not KEY=VALUE")))?;
        if key.is_empty() {
            return Err(CliError::usage(format!("-s `{s}` has an empty key")));
        }
        let value =
            serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        let mut cur = &mut patch;
        let parts: Vec<&str> = key.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let obj = cur
                .as_object_mut()
                .ok_or_else(|| CliError::usage(format!("-s `{s}`: `{part}` is not an object")))?;
            if i + 1 == parts.len() {
                obj.insert((*part).to_owned(), value.clone());
                break;
            }
            cur = obj
                .entry((*part).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    merge_patch(target, &patch);
    Ok(())
}

/// RFC 7386 JSON merge patch: the library's, so the CLI and `patch`/`merge` agree.
pub use cloakroom::admin::merge_patch;

pub async fn create(ctx: &Ctx, a: CreateArgs) -> CliResult {
    let mut body = match &a.file {
        Some(f) => read_document(f)?,
        None => Value::Object(Map::new()),
    };
    set_pairs(&mut body, &a.set)?;
    if body.as_object().is_none_or(Map::is_empty) {
        return Err(CliError::usage(
            "nothing to create: pass -f FILE or -s KEY=VALUE",
        ));
    }
    let (kc, settings) = ctx.admin().await?;
    let realm = settings.target_realm().to_owned();
    let coll = collection(&kc, a.kind, &realm, a.client.as_deref()).await?;
    let natural = ["username", "clientId", "name", "alias", "realm"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or("?")
        .to_owned();
    match kc.raw().post(&coll).json(&body).realm(&realm).send().await {
        Ok(r) => {
            let id = r
                .location()
                .and_then(|l| l.rsplit('/').next())
                .map(str::to_owned);
            ctx.out
                .note(format!("created {} `{natural}`", a.kind.label()));
            if let Some(id) = id {
                println!("{id}");
            }
            Ok(())
        }
        Err(e) if e.is_conflict() && a.if_not_exists => {
            ctx.out
                .note(format!("{} `{natural}` exists already", a.kind.label()));
            Ok(())
        }
        Err(e) => Err(explain_404(e, a.kind, &realm, &natural)),
    }
}

pub async fn update(ctx: &Ctx, a: UpdateArgs) -> CliResult {
    let mut patch_doc = match &a.file {
        Some(f) => Some(read_document(f)?),
        None => None,
    };
    if patch_doc.is_none() && a.set.is_empty() {
        return Err(CliError::usage(
            "nothing to change: pass -s KEY=VALUE or -f FILE",
        ));
    }
    let (kc, settings) = ctx.admin().await?;
    let realm = settings.target_realm().to_owned();
    let path = item_path(&kc, a.kind, &realm, &a.name, a.client.as_deref()).await?;
    let fetch = || async {
        kc.raw()
            .get(&path)
            .realm(&realm)
            .send_json::<Value>()
            .await
            .map_err(|e| explain_404(e, a.kind, &realm, &a.name))
    };
    let original = fetch().await?;
    let mut merged = original.clone();
    if let Some(p) = patch_doc.take() {
        merge_patch(&mut merged, &p);
    }
    set_pairs(&mut merged, &a.set)?;
    if merged == original {
        ctx.out
            .note(format!("{} `{}` unchanged", a.kind.label(), a.name));
        return Ok(());
    }
    // Keycloak has no conditional PUT: re-read right before writing and refuse to overwrite a
    // change made by someone else in between.
    if fetch().await? != original {
        return Err(CliError::conflict(format!(
            "{} `{}` changed while it was being updated; nothing was written",
            a.kind.label(),
            a.name
        ))
        .with_hint("run the update again"));
    }
    kc.raw()
        .put(&path)
        .json(&merged)
        .realm(&realm)
        .send()
        .await
        .map_err(|e| explain_404(e, a.kind, &realm, &a.name))?;
    ctx.out
        .note(format!("updated {} `{}`", a.kind.label(), a.name));
    Ok(())
}

pub async fn delete(ctx: &Ctx, a: DeleteArgs) -> CliResult {
    let (kc, settings) = ctx.admin().await?;
    let realm = settings.target_realm().to_owned();
    let path = match item_path(&kc, a.kind, &realm, &a.name, a.client.as_deref()).await {
        Ok(p) => p,
        Err(e) if a.if_exists && e.code == crate::exit::Code::NotFound => {
            ctx.out
                .note(format!("{} `{}` does not exist", a.kind.label(), a.name));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    match kc.raw().delete(&path).realm(&realm).send().await {
        Ok(_) => {
            ctx.out
                .note(format!("deleted {} `{}`", a.kind.label(), a.name));
            Ok(())
        }
        Err(e) if e.is_not_found() && a.if_exists => {
            ctx.out
                .note(format!("{} `{}` does not exist", a.kind.label(), a.name));
            Ok(())
        }
        Err(e) => Err(explain_404(e, a.kind, &realm, &a.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_pairs_nest_and_parse_json() {
        let mut v = json!({"username": "a", "attributes": {"dept": ["x"], "keep": ["y"]}});
        set_pairs(
            &mut v,
            &[
                "enabled=false".into(),
                "firstName=Ann".into(),
                "attributes.dept=[\"z\"]".into(),
                "email=null".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"username": "a", "enabled": false, "firstName": "Ann",
                   "attributes": {"dept": ["z"], "keep": ["y"]}})
        );
        assert!(set_pairs(&mut v, &["novalue".into()]).is_err());
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn uuid_detection() {
        assert!(looks_like_uuid("ae386df7-11e5-42e5-b513-7395c26ed0fe"));
        assert!(!looks_like_uuid("admin"));
        assert!(!looks_like_uuid("ae386df7x11e5-42e5-b513-7395c26ed0fe"));
    }
}
