//! The escape hatch: any method and path, JSON in and out, with the client's auth, retries
//! and errors.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Client;
use crate::error::{Error, Result};
use crate::request::{Method, Request, Response};

/// Entry point for raw calls: `kc.raw().get("/admin/realms/acme/workflows")`.
#[derive(Clone, Debug)]
pub struct Raw {
    client: Client,
}

impl Client {
    /// Raw calls to any path of the server, for endpoints cloakroom does not type (yet).
    pub fn raw(&self) -> Raw {
        Raw {
            client: self.clone(),
        }
    }
}

impl Raw {
    /// A call with the given method. `path` is relative to the server URL, starts with `/`, and
    /// must already be percent-encoded (use [`encode_segment`](crate::request::encode_segment)
    /// for values).
    pub fn call(&self, method: Method, path: impl Into<String>) -> RawCall {
        RawCall {
            client: self.client.clone(),
            req: Request::new(method, path, "{raw}"),
            body_error: None,
        }
    }
    /// `GET path`.
    pub fn get(&self, path: impl Into<String>) -> RawCall {
        self.call(Method::Get, path)
    }
    /// `POST path`.
    pub fn post(&self, path: impl Into<String>) -> RawCall {
        self.call(Method::Post, path)
    }
    /// `PUT path`.
    pub fn put(&self, path: impl Into<String>) -> RawCall {
        self.call(Method::Put, path)
    }
    /// `DELETE path`.
    pub fn delete(&self, path: impl Into<String>) -> RawCall {
        self.call(Method::Delete, path)
    }
}

/// One raw call being built.
#[derive(Debug)]
#[must_use = "a call does nothing until .send() is awaited"]
pub struct RawCall {
    client: Client,
    req: Request,
    body_error: Option<Error>,
}

impl RawCall {
    /// A call named by an operation's path `template` rather than `{raw}`, so that tracing,
    /// the coverage log and version gating see the operation. An `Err` template is returned by
    /// [`send`](Self::send) without sending anything.
    pub(crate) fn named(
        client: Client,
        method: Method,
        path: String,
        template: Result<&'static str>,
    ) -> Self {
        let (template, body_error) = match template {
            Ok(t) => (t, None),
            Err(e) => ("{raw}", Some(e)),
        };
        RawCall {
            client,
            req: Request::new(method, path, template),
            body_error,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.req = self.req.query(name, value);
        self
    }
    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        match self.req.clone().json(body) {
            Ok(r) => self.req = r,
            Err(e) => {
                self.body_error.get_or_insert(e);
            }
        }
        self
    }
    /// Sets an already-serialized body sent as JSON.
    pub fn json_bytes(mut self, body: impl Into<bytes::Bytes>) -> Self {
        self.req = self.req.json_bytes(body);
        self
    }
    /// Sets a form body.
    pub fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.req = self.req.form(fields);
        self
    }
    /// Records the realm, for error messages.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.req = self.req.realm(realm);
        self
    }
    /// Allows retrying this POST (see [`Request::retry_post`]).
    pub fn retry_post(mut self, yes: bool) -> Self {
        self.req = self.req.retry_post(yes);
        self
    }

    /// Sends the call and returns the raw success answer.
    pub async fn send(self) -> Result<Response> {
        if let Some(e) = self.body_error {
            return Err(e);
        }
        let path = self.req.path();
        if !path.starts_with('/') {
            return Err(Error::invalid_input(format!(
                "path must start with `/`: `{path}`"
            )));
        }
        if path.split('/').any(|s| s == ".." || s == ".") {
            return Err(Error::invalid_input(
                "path must not contain `.` or `..` segments",
            ));
        }
        self.client.send(self.req).await
    }

    /// Sends the call and decodes the JSON answer (`null` for an empty body).
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        self.send().await?.json()
    }
}
