//! `get|create|update|delete <resource>` for users, clients, groups, roles, client scopes,
//! identity providers and realms, through the library's typed operations ([`kinds`]).

use cloakroom::Client;
use cloakroom::admin::pages;
use cloakroom::request::Request;
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use super::{Ctx, parse_pairs, read_document};
use crate::cli::{CreateArgs, DeleteArgs, GetArgs, ResourceKind, UpdateArgs};
use crate::exit::{CliError, CliResult};
use crate::output::select_fields;

mod kinds;

use kinds::Place;

/// Items per page when listing.
const PAGE_SIZE: u32 = 100;

/// Sends a typed operation's request and reads the answer as plain JSON.
async fn send_value<T: serde::de::DeserializeOwned>(kc: &Client, req: Request) -> CliResult<T> {
    Ok(kc.send(req).await?.json()?)
}

/// Turns a 404 into "no <kind> `name` in realm `r`" (or the realm's absence).
fn explain_404(e: CliError, kind: ResourceKind, realm: &str, name: &str) -> CliError {
    if e.code != crate::exit::Code::NotFound || e.message.starts_with("no ") {
        return e;
    }
    let keycloak = match e.message.split_once(": ") {
        Some((_, words)) => words.to_owned(),
        None => "not found".to_owned(),
    };
    if keycloak.contains("Realm") {
        return CliError::not_found(format!("realm `{realm}` not found ({keycloak})"));
    }
    if name.is_empty() {
        return e;
    }
    CliError::not_found(format!(
        "no {} `{name}` in realm `{realm}` ({keycloak})",
        kind.label()
    ))
}

/// The target realm and, for `--client`, the client's internal id.
async fn place(ctx: &Ctx, kind: ResourceKind, client: Option<&str>) -> CliResult<Place> {
    let (kc, settings) = ctx.admin().await?;
    let mut place = Place {
        kc,
        realm: settings.target_realm().to_owned(),
        client_uuid: None,
    };
    if let (ResourceKind::Roles, Some(c)) = (kind, client) {
        let uuid = place.client_uuid(c).await;
        place.client_uuid = Some(uuid.map_err(|e| explain_404(e, kind, &place.realm, c))?);
    }
    Ok(place)
}

pub async fn get(ctx: &Ctx, a: GetArgs) -> CliResult {
    let query = parse_pairs(&a.query, "query parameter")?;
    let p = place(ctx, a.kind, a.client.as_deref()).await?;
    let realm = p.realm.clone();
    if let Some(name) = &a.name {
        let found = async {
            let item = p.resolve(a.kind, name).await?;
            send_value::<Value>(&p.kc, item.get()?).await
        };
        let v = found
            .await
            .map_err(|e| explain_404(e, a.kind, &realm, name))?;
        return ctx.out.print(&select_fields(&v, &a.fields), &[]);
    }
    let items = list(p, a.kind, a.search, query, a.limit)
        .await
        .map_err(|e| {
            explain_404(e, a.kind, &realm, "").context(format!("listing {}s", a.kind.label()))
        })?;
    let columns: Vec<&str> = if a.fields.is_empty() {
        a.kind.columns().to_vec()
    } else {
        a.fields.iter().map(String::as_str).collect()
    };
    ctx.out
        .print(&select_fields(&Value::Array(items), &a.fields), &columns)
}

/// Every item (or the first `limit`), page by page through the library's pager.
async fn list(
    p: Place,
    kind: ResourceKind,
    search: Option<String>,
    extra: Vec<(String, String)>,
    limit: Option<usize>,
) -> CliResult<Vec<Value>> {
    let limit = limit.unwrap_or(usize::MAX);
    let with_extra = move |req: Request| extra.iter().fold(req, |r, (k, v)| r.query(k, v));
    if !kind.paged() {
        let req = with_extra(p.list_page(kind, search.as_deref(), 0, PAGE_SIZE)?);
        let mut items = match send_value::<Value>(&p.kc, req).await? {
            Value::Array(a) => a,
            other => vec![other],
        };
        items.truncate(limit);
        return Ok(items);
    }
    let page_size = u32::try_from(limit).unwrap_or(u32::MAX).clamp(1, PAGE_SIZE);
    let stream = pages(page_size, move |first, max| {
        let req = p
            .list_page(kind, search.as_deref(), first, max)
            .map(&with_extra);
        let kc = p.kc.clone();
        async move { kc.send(req?).await?.json::<Vec<Value>>() }
    });
    Ok(stream.take(limit).try_collect().await?)
}

/// Turns `-s key=value` pairs into a merge patch (dotted keys nest; values are JSON when they
/// parse as JSON, so `-s email=null` removes the email).
pub fn sets_patch(sets: &[String]) -> CliResult<Value> {
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
    Ok(patch)
}

/// One merge patch that does what `first` then `then` do. (A key that `first` sets to a
/// non-object and `then` nests into starts from the live value instead.)
fn compose(first: &mut Value, then: &Value) {
    match (first, then) {
        (Value::Object(f), Value::Object(t)) => {
            for (k, v) in t {
                match f.get_mut(k) {
                    Some(fv @ Value::Object(_)) if v.is_object() => compose(fv, v),
                    _ => {
                        f.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (f, t) => *f = t.clone(),
    }
}

pub async fn create(ctx: &Ctx, a: CreateArgs) -> CliResult {
    let mut body = match &a.file {
        Some(f) => read_document(f)?,
        None => Value::Object(Map::new()),
    };
    cloakroom::admin::merge_patch(&mut body, &sets_patch(&a.set)?);
    if body.as_object().is_none_or(Map::is_empty) {
        return Err(CliError::usage(
            "nothing to create: pass -f FILE or -s KEY=VALUE",
        ));
    }
    let p = place(ctx, a.kind, a.client.as_deref()).await?;
    let natural = ["username", "clientId", "name", "alias", "realm"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or("?")
        .to_owned();
    let label = a.kind.label();
    match p.kc.send(p.create(a.kind, &body)?).await {
        Ok(r) => {
            ctx.out.note(format!("created {label} `{natural}`"));
            match r.location_id() {
                Ok(id) => crate::output::line(id),
                Err(_) => Ok(()),
            }
        }
        Err(e) if e.is_conflict() && a.if_not_exists => {
            ctx.out.note(format!("{label} `{natural}` exists already"));
            Ok(())
        }
        Err(e) => Err(explain_404(e.into(), a.kind, &p.realm, &natural)),
    }
}

pub async fn update(ctx: &Ctx, a: UpdateArgs) -> CliResult {
    let mut patch = match &a.file {
        Some(f) => read_document(f)?,
        None => Value::Object(Map::new()),
    };
    compose(&mut patch, &sets_patch(&a.set)?);
    if patch.as_object().is_some_and(Map::is_empty) {
        return Err(CliError::usage(
            "nothing to change: pass -s KEY=VALUE or -f FILE",
        ));
    }
    let p = place(ctx, a.kind, a.client.as_deref()).await?;
    let done = async {
        let item = p.resolve(a.kind, &a.name).await?;
        Ok::<_, CliError>(item.merge(&patch).await?)
    };
    done.await
        .map_err(|e| explain_404(e, a.kind, &p.realm, &a.name))?;
    ctx.out
        .note(format!("updated {} `{}`", a.kind.label(), a.name));
    Ok(())
}

pub async fn delete(ctx: &Ctx, a: DeleteArgs) -> CliResult {
    let p = place(ctx, a.kind, a.client.as_deref()).await?;
    let gone = async {
        let item = p.resolve(a.kind, &a.name).await?;
        p.kc.send(item.delete()?).await?;
        Ok::<_, CliError>(())
    };
    let label = a.kind.label();
    match gone.await {
        Ok(()) => {
            ctx.out.note(format!("deleted {label} `{}`", a.name));
            Ok(())
        }
        Err(e) if a.if_exists && e.code == crate::exit::Code::NotFound => {
            ctx.out.note(format!("{label} `{}` does not exist", a.name));
            Ok(())
        }
        Err(e) => Err(explain_404(e, a.kind, &p.realm, &a.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloakroom::admin::merge_patch;
    use serde_json::json;

    #[test]
    fn sets_nest_and_parse_json() {
        let mut v = json!({"username": "a", "attributes": {"dept": ["x"], "keep": ["y"]}});
        let patch = sets_patch(&[
            "enabled=false".into(),
            "firstName=Ann".into(),
            "attributes.dept=[\"z\"]".into(),
            "email=null".into(),
        ])
        .unwrap();
        merge_patch(&mut v, &patch);
        assert_eq!(
            v,
            json!({"username": "a", "enabled": false, "firstName": "Ann",
                   "attributes": {"dept": ["z"], "keep": ["y"]}})
        );
        assert!(sets_patch(&["novalue".into()]).is_err());
    }

    #[test]
    fn composed_patches_act_in_order() {
        let mut file = json!({"a": 1, "c": {"d": 1, "e": 2}, "f": 3});
        compose(&mut file, &json!({"a": null, "c": {"d": 9}, "g": 4}));
        let mut live = json!({"a": 0, "c": {"e": 0, "x": 0}, "f": 0});
        merge_patch(&mut live, &file);
        assert_eq!(live, json!({"c": {"d": 9, "e": 2, "x": 0}, "f": 3, "g": 4}));
    }
}
