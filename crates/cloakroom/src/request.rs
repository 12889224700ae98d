//! The request and response values that every call goes through.
//!
//! Generated operations and the hand-written layer build a [`Request`], hand it to
//! [`Client::send`](crate::Client::send), and read the [`Response`]. Authentication, retries,
//! the one-retry-after-401 rule, tracing and error mapping all live in `send`, so every
//! operation behaves the same.

use std::fmt;

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, Error, Result, excerpt};

/// HTTP methods used by Keycloak's APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// OPTIONS
    Options,
}

impl Method {
    /// The method's name in capitals.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
        }
    }

    /// GET, PUT, DELETE, HEAD and OPTIONS may be sent twice without changing the outcome.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Method::Get | Method::Put | Method::Delete | Method::Head | Method::Options
        )
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
            Method::Head => reqwest::Method::HEAD,
            Method::Patch => reqwest::Method::PATCH,
            Method::Options => reqwest::Method::OPTIONS,
        }
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => {
                return Err(Error::invalid_input(format!(
                    "unknown HTTP method `{other}`"
                )));
            }
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Characters escaped in one path segment: everything but RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'!')
    .add(b'$')
    .add(b'&')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b',')
    .add(b';')
    .add(b'=')
    .add(b':')
    .add(b'@');

/// Percent-encodes a value for use as exactly one path segment (a `/` inside it is escaped).
pub fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// Checks a path parameter before it is put in a URL: empty values would change which
/// endpoint is called (`/users/` instead of `/users/{id}`), so they are refused.
pub fn check_path_param(name: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_input(format!(
            "path parameter `{name}` is empty"
        )));
    }
    Ok(())
}

/// One file part of a multipart body.
#[derive(Clone)]
pub struct Part {
    /// Form field name.
    pub name: String,
    /// File name sent with the part, if any.
    pub file_name: Option<String>,
    /// MIME type, if any.
    pub content_type: Option<String>,
    /// The content.
    pub data: Bytes,
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.data.len())
            .finish()
    }
}

/// A request body.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// `application/json`.
    Json(Bytes),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    /// `text/plain`.
    Text(String),
    /// `multipart/form-data`: text fields and file parts.
    Multipart {
        /// Plain text fields.
        fields: Vec<(String, String)>,
        /// File parts.
        parts: Vec<Part>,
    },
}

// Bodies may hold passwords and secrets: Debug shows only their shape.
impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Json(b) => write!(f, "Json({} bytes)", b.len()),
            Body::Form(v) => write!(f, "Form({} fields)", v.len()),
            Body::Text(t) => write!(f, "Text({} bytes)", t.len()),
            Body::Multipart { fields, parts } => {
                write!(
                    f,
                    "Multipart({} fields, {} parts)",
                    fields.len(),
                    parts.len()
                )
            }
        }
    }
}

/// How a request authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// Bearer token from the client's token manager (the default).
    #[default]
    Bearer,
    /// No `Authorization` header (public OIDC endpoints, token endpoint).
    None,
}

/// One HTTP request to Keycloak, before authentication is added.
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) template: &'static str,
    pub(crate) realm: Option<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) accept: Option<&'static str>,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) auth: AuthMode,
    pub(crate) retry_post: bool,
}

impl Request {
    /// A request for `path` (already percent-encoded, starting with `/`, relative to the server URL).
    ///
    /// `template` is the spec path (e.g. `/admin/realms/{realm}/users`): it names the operation
    /// in tracing spans and in the coverage log, and never contains caller data.
    pub fn new(method: Method, path: impl Into<String>, template: &'static str) -> Self {
        Self {
            method,
            path: path.into(),
            template,
            realm: None,
            query: Vec::new(),
            headers: Vec::new(),
            body: Body::Empty,
            accept: None,
            content_type: None,
            auth: AuthMode::Bearer,
            retry_post: false,
        }
    }

    /// Records the realm the request is about (for error messages).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Adds a query parameter (may be repeated).
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Adds a query parameter when the value is present.
    pub fn query_opt<V: ToString>(self, name: impl Into<String>, value: Option<V>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Adds a header to this request only.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::invalid_input(format!("could not serialize the request body: {e}"))
        })?;
        self.body = Body::Json(bytes.into());
        Ok(self)
    }

    /// Sets an already-serialized JSON body.
    pub fn json_bytes(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::Json(body.into());
        self
    }

    /// Sets a form body.
    pub fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.body = Body::Form(fields);
        self
    }

    /// Sets a plain-text body.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.body = Body::Text(text.into());
        self
    }

    /// Sets a multipart body.
    pub fn multipart(mut self, fields: Vec<(String, String)>, parts: Vec<Part>) -> Self {
        self.body = Body::Multipart { fields, parts };
        self
    }

    /// Sets the content type of a JSON body (default `application/json`), e.g.
    /// `application/merge-patch+json` for a JSON Merge Patch.
    pub fn content_type(mut self, mime: &'static str) -> Self {
        self.content_type = Some(mime);
        self
    }

    /// Sets the `Accept` header (default: JSON first, anything else accepted).
    pub fn accept(mut self, mime: &'static str) -> Self {
        self.accept = Some(mime);
        self
    }

    /// Chooses how the request authenticates.
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.auth = auth;
        self
    }

    /// Allows retrying this request even though it is a POST.
    ///
    /// Only for POSTs the caller knows to be safe to repeat (a search, or a create guarded by
    /// a unique key whose conflict the caller handles).
    pub fn retry_post(mut self, yes: bool) -> Self {
        self.retry_post = yes;
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path (percent-encoded).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The spec path template.
    pub fn template(&self) -> &'static str {
        self.template
    }

    /// The query parameters, in the order they were added.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    pub(crate) fn may_retry(&self) -> bool {
        self.method.is_idempotent() || self.retry_post
    }
}

/// A success answer from Keycloak.
#[derive(Clone)]
pub struct Response {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("status", &self.status)
            .field("location", &self.location)
            .field("len", &self.body.len())
            .finish()
    }
}

impl Response {
    /// HTTP status (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `Location` header, if any.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The raw body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text (invalid UTF-8 is replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Decodes a JSON body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        // An empty body decodes as JSON `null`, so `Option<T>` and `()` work for 204s.
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| self.decode_error(e.to_string()))
    }

    /// The last path segment of the `Location` header: the id of a created object.
    pub fn location_id(&self) -> Result<String> {
        let loc = self
            .location
            .as_deref()
            .ok_or_else(|| self.decode_error("the answer has no Location header".into()))?;
        let without_query = loc.split(['?', '#']).next().unwrap_or(loc);
        let last = without_query
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        if last.is_empty() {
            return Err(self.decode_error(format!("no id in Location `{loc}`")));
        }
        Ok(percent_encoding::percent_decode_str(last)
            .decode_utf8_lossy()
            .into_owned())
    }

    pub(crate) fn decode_error(&self, detail: String) -> Error {
        Error::Decode(Box::new(DecodeError {
            method: self.method.to_string(),
            path: self.path.clone(),
            detail,
            body_excerpt: excerpt(&self.body),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(location: Option<&str>, body: &'static [u8]) -> Response {
        Response {
            method: Method::Post,
            path: "/x".into(),
            status: 201,
            location: location.map(str::to_owned),
            content_type: None,
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(encode_segment("a/b c?d"), "a%2Fb%20c%3Fd");
        assert_eq!(encode_segment("émile"), "%C3%A9mile");
        assert_eq!(encode_segment("abc-._~09"), "abc-._~09");
    }

    #[test]
    fn location_id_takes_last_segment() {
        let r = resp(Some("http://h/admin/realms/a/users/1234-ab/"), b"");
        assert_eq!(r.location_id().unwrap(), "1234-ab");
        assert!(resp(None, b"").location_id().is_err());
    }

    #[test]
    fn empty_body_decodes_as_null() {
        let r = resp(None, b"  ");
        assert_eq!(r.json::<Option<u32>>().unwrap(), None);
        let bad = resp(None, b"{");
        assert!(matches!(bad.json::<u32>(), Err(Error::Decode(_))));
    }

    #[test]
    fn body_debug_hides_content() {
        let b = Body::Form(vec![("password".into(), "hunter2".into())]);
        assert!(!format!("{b:?}").contains("hunter2"));
    }
}
