//! One realm on one server: JSON reads and writes relative to the realm's admin base, and every
//! page of a `first`/`max` listing. Every path must be one of the library's catalogued Admin API
//! operations (`Client::operation`); one that is not fails before anything is sent.

use cloakroom::Client;
use cloakroom::admin::{Pages, pages};
use cloakroom::request::{Method, encode_segment};
use futures_util::TryStreamExt;
use serde_json::Value;

use crate::exit::{CliError, CliResult};

/// Items per page when listing.
const PAGE: u32 = 100;

pub fn realm_base(realm: &str) -> String {
    format!("/admin/realms/{}", encode_segment(realm))
}

#[derive(Clone)]
pub struct Session {
    pub kc: Client,
    pub realm: String,
    pub base: String,
}

impl Session {
    pub fn new(kc: &Client, realm: &str) -> Self {
        Session {
            kc: kc.clone(),
            realm: realm.to_owned(),
            base: realm_base(realm),
        }
    }

    /// GET `{base}{path}` as JSON.
    pub async fn get(&self, path: &str) -> CliResult<Value> {
        Ok(self
            .kc
            .operation(Method::Get, format!("{}{path}", self.base))
            .realm(&self.realm)
            .send_json()
            .await?)
    }

    /// The ids of every member listed at `{base}{path}` (a group's or a role's members), read
    /// by pages of `page` brief members; only the ids are decoded.
    pub async fn member_ids(&self, path: &str, page: u32) -> CliResult<Vec<String>> {
        #[derive(serde::Deserialize, PartialEq, Clone)]
        struct Member {
            id: Option<String>,
        }
        let (kc, realm) = (self.kc.clone(), self.realm.clone());
        let full = format!("{}{path}", self.base);
        let members: Vec<Member> = pages(page, move |first, max| {
            let call = kc
                .operation(Method::Get, &full)
                .realm(&realm)
                .query("first", first)
                .query("max", max)
                .query("briefRepresentation", "true");
            async move { call.send_json::<Vec<Member>>().await }
        })
        .try_collect()
        .await?;
        Ok(members.into_iter().filter_map(|m| m.id).collect())
    }

    /// Sends a write; returns the id from the `Location` header, if any.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> CliResult<Option<String>> {
        let mut call = self
            .kc
            .operation(method, format!("{}{path}", self.base))
            .realm(&self.realm);
        if let Some(b) = body {
            call = call.json(b);
        }
        let r = call.send().await?;
        Ok(r.location()
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_owned))
    }

    /// The realm's server id (components name it as their parent).
    pub async fn realm_id(&self) -> CliResult<String> {
        Ok(self.get("").await?["id"].as_str().unwrap_or("").to_owned())
    }

    /// Whether the realm exists.
    pub async fn exists(&self) -> CliResult<bool> {
        match self.kc.realm(&self.realm).get().send_response().await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every item of a paged listing under the realm.
    pub async fn all(&self, path: &str, query: &[(&str, &str)]) -> CliResult<Vec<Value>> {
        Ok(self.stream(path, query, PAGE).try_collect().await?)
    }

    /// A paged listing as a stream. An endpoint that ignores `first` (repeating its first page)
    /// ends after that page.
    pub fn stream(&self, path: &str, query: &[(&str, &str)], page: u32) -> Pages<Value> {
        let kc = self.kc.clone();
        let realm = self.realm.clone();
        let full = format!("{}{path}", self.base);
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let head = std::sync::Arc::new(std::sync::Mutex::new(None::<Value>));
        pages(page, move |first, max| {
            let (kc, realm, full, query, head) = (
                kc.clone(),
                realm.clone(),
                full.clone(),
                query.clone(),
                head.clone(),
            );
            async move {
                let mut call = kc.operation(Method::Get, &full).realm(&realm);
                call = call.query("first", first).query("max", max);
                for (k, v) in &query {
                    call = call.query(k, v);
                }
                let page: Value = call.send_json().await?;
                let Value::Array(items) = page else {
                    return Err(cloakroom::Error::InvalidInput(format!(
                        "expected a list from GET {full}"
                    )));
                };
                let mut last = head.lock().unwrap_or_else(|p| p.into_inner());
                if first > 0 && !items.is_empty() && items.first() == last.as_ref() {
                    tracing::warn!(path = %full, "the server ignored paging; stopping");
                    return Ok(Vec::new());
                }
                *last = items.first().cloned();
                Ok(items)
            }
        })
    }
}

/// `/a/b` → `a/b` with each segment encoded, for `group-by-path`.
pub fn encode_path(path: &str) -> String {
    path.trim_start_matches('/')
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// A usage error for a document problem at a position.
pub fn doc_error(at: &str, what: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("{at}: {what}"))
}
