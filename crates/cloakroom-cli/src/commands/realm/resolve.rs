//! Natural keys to server ids, looked up when a write runs and remembered for the run.

use std::collections::HashMap;

use cloakroom::request::encode_segment;
use serde_json::Value;

use super::plan::{Path, RoleRef, Seg};
use super::session::{Session, encode_path};
use crate::exit::{CliError, CliResult};

#[derive(Default)]
pub struct Ids {
    ids: HashMap<String, String>,
    roles: HashMap<RoleRef, Value>,
}

fn cache_key(s: &Seg) -> String {
    match s {
        Seg::Lit(x) => format!("lit:{x}"),
        Seg::Client(x) => format!("client:{x}"),
        Seg::Group(x) => format!("group:{x}"),
        Seg::Scope(x) => format!("scope:{x}"),
        Seg::User(x) => format!("user:{x}"),
        Seg::Org(x) => format!("org:{x}"),
    }
}

impl Ids {
    /// Takes in what another run's cache learned (a parallel write's own ids).
    pub fn absorb(&mut self, other: Ids) {
        self.ids.extend(other.ids);
        self.roles.extend(other.roles);
    }

    pub fn remember(&mut self, s: &Seg, id: String) {
        self.ids.insert(cache_key(s), id);
    }

    /// The id of an object (a literal is itself).
    pub async fn id(&mut self, s: &Session, seg: &Seg) -> CliResult<String> {
        if let Seg::Lit(x) = seg {
            return Ok(x.clone());
        }
        let k = cache_key(seg);
        if let Some(id) = self.ids.get(&k) {
            return Ok(id.clone());
        }
        let id = lookup(s, seg).await?;
        self.ids.insert(k, id.clone());
        Ok(id)
    }

    /// A path below the realm with every object replaced by its (encoded) id.
    pub async fn path(&mut self, s: &Session, p: &Path) -> CliResult<String> {
        let mut out = String::new();
        for seg in &p.0 {
            match seg {
                Seg::Lit(x) => out.push_str(x),
                other => out.push_str(&encode_segment(&self.id(s, other).await?)),
            }
        }
        Ok(out)
    }

    /// The representation of a realm role or a client role.
    pub async fn role(&mut self, s: &Session, r: &RoleRef) -> CliResult<Value> {
        if let Some(v) = self.roles.get(r) {
            return Ok(v.clone());
        }
        let p = match &r.0 {
            None => format!("/roles/{}", encode_segment(&r.1)),
            Some(c) => {
                let id = self.id(s, &Seg::Client(c.clone())).await?;
                format!(
                    "/clients/{}/roles/{}",
                    encode_segment(&id),
                    encode_segment(&r.1)
                )
            }
        };
        let v = s.get(&p).await.map_err(|e| {
            let who = match &r.0 {
                Some(c) => format!("client role `{c}/{}`", r.1),
                None => format!("realm role `{}`", r.1),
            };
            e.context(who)
        })?;
        self.roles.insert(r.clone(), v.clone());
        Ok(v)
    }
}

fn missing(what: &str, name: &str) -> CliError {
    CliError::not_found(format!("no {what} `{name}` in the realm"))
}

fn id_of(v: &Value) -> Option<String> {
    v["id"].as_str().map(str::to_owned)
}

async fn lookup(s: &Session, seg: &Seg) -> CliResult<String> {
    match seg {
        Seg::Lit(x) => Ok(x.clone()),
        Seg::Client(cid) => {
            let found = s
                .all("/clients", &[("clientId", cid.as_str())])
                .await?
                .into_iter()
                .find(|c| c["clientId"] == cid.as_str());
            found
                .and_then(|c| id_of(&c))
                .ok_or_else(|| missing("client", cid))
        }
        Seg::Group(path) => {
            let g = s
                .get(&format!("/group-by-path/{}", encode_path(path)))
                .await
                .map_err(|e| e.context(format!("group `{path}`")))?;
            id_of(&g).ok_or_else(|| missing("group", path))
        }
        Seg::Scope(name) => {
            let all = s.get("/client-scopes").await?;
            all.as_array()
                .and_then(|a| a.iter().find(|x| x["name"] == name.as_str()))
                .and_then(id_of)
                .ok_or_else(|| missing("client scope", name))
        }
        Seg::User(name) => {
            let found = s
                .all("/users", &[("username", name.as_str()), ("exact", "true")])
                .await?;
            found
                .iter()
                .find(|u| {
                    u["username"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(name))
                })
                .and_then(id_of)
                .ok_or_else(|| missing("user", name))
        }
        Seg::Org(alias) => s
            .all("/organizations", &[])
            .await?
            .iter()
            .find(|o| o["alias"] == alias.as_str())
            .and_then(id_of)
            .ok_or_else(|| missing("organization", alias)),
    }
}
