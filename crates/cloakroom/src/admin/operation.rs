//! A catalogued Admin API operation called by its concrete path:
//! `kc.operation(Method::Get, "/admin/realms/acme/users/count")`.
//!
//! For callers that hold paths rather than handles (a tool walking a realm document, say): the
//! path is looked up in [`OPERATIONS`](crate::generated::OPERATIONS), and a path that names no
//! catalogued operation is refused before anything is sent. A match is sent like the generated
//! calls: its template names it in tracing, the coverage log and version gating, with the
//! client's auth, retries and error parsing. Bodies and answers are JSON, as with
//! [`raw`](crate::Client::raw), which stays the way to reach paths the catalog does not have.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Client;
use crate::error::{Error, Result};
use crate::generated::catalog::{OPERATIONS, OperationInfo};
use crate::raw::RawCall;
use crate::request::{Method, Response};

impl Client {
    /// A call to the catalogued Admin API operation that `method path` names.
    ///
    /// `path` is the concrete path (`/admin/realms/acme/users/count`), relative to the server
    /// URL and already percent-encoded (use [`encode_segment`](crate::request::encode_segment)
    /// for values); see [`find_operation`] for how it is matched. A path no catalogued
    /// operation has fails at [`send`](OperationCall::send) with [`Error::InvalidInput`],
    /// without sending.
    pub fn operation(&self, method: Method, path: impl Into<String>) -> OperationCall {
        let path = path.into();
        let info = find_operation(method, &path);
        let op = info.as_ref().ok().copied();
        OperationCall {
            op,
            call: RawCall::named(self.clone(), method, path, info.map(|i| i.path)),
        }
    }
}

/// The catalogued operation that `method path` names.
///
/// `path` is concrete and percent-encoded. It is compared with each operation's template
/// segment by segment: a literal segment must be equal, a `{parameter}` segment takes any
/// non-empty segment, and one of the operation's
/// [`multi_segment`](OperationInfo::multi_segment) parameters (a group path) takes one or more.
/// A query string (`?…`) is not part of the path, and a trailing `/` is
/// ignored. When several templates match, the one with a literal segment where the others have
/// a parameter wins, first difference first (`…/users/count` is the count, not the user
/// `count`).
pub fn find_operation(method: Method, path: &str) -> Result<&'static OperationInfo> {
    let bare = path.split('?').next().unwrap_or_default();
    if !bare.starts_with('/') {
        return Err(Error::invalid_input(format!(
            "path must start with `/`: `{path}`"
        )));
    }
    let bare = bare
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(bare);
    let segments: Vec<&str> = bare.split('/').collect();
    let index = Index::get();
    let mut best: Option<(Vec<bool>, &'static OperationInfo)> = None;
    let mut other_methods: Vec<&'static str> = Vec::new();
    let mut rank = Vec::new();
    for t in index.candidates(segments.len()) {
        rank.clear();
        if !covers(&t.parts, t.op.multi_segment, &segments, &mut rank) {
            continue;
        }
        let op = t.op;
        if op.method != method.as_str() {
            if !other_methods.contains(&op.method) {
                other_methods.push(op.method);
            }
            continue;
        }
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank.clone(), op));
        }
    }
    if let Some((_, op)) = best {
        return Ok(op);
    }
    let hint = if other_methods.is_empty() {
        String::new()
    } else {
        format!(" (the path takes {})", other_methods.join(", "))
    };
    Err(Error::invalid_input(format!(
        "{} {bare} is no operation of the Admin API catalog{hint}",
        method.as_str()
    )))
}

/// The catalog's templates split into segments once, and grouped by segment count: a path is
/// compared only with the templates of its length and those with a multi-segment parameter.
struct Index {
    templates: Vec<Template>,
    /// Per segment count, the templates of that length and the multi-segment ones.
    by_len: std::collections::HashMap<usize, Vec<usize>>,
    /// The templates with a multi-segment parameter (for a length no other template has).
    multi: Vec<usize>,
}

struct Template {
    op: &'static OperationInfo,
    parts: Vec<&'static str>,
}

impl Index {
    fn get() -> &'static Index {
        static INDEX: std::sync::OnceLock<Index> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| {
            let mut index = Index {
                templates: Vec::with_capacity(OPERATIONS.len()),
                by_len: std::collections::HashMap::new(),
                multi: Vec::new(),
            };
            for (i, op) in OPERATIONS.iter().enumerate() {
                let parts: Vec<&'static str> = op.path.split('/').collect();
                if op.multi_segment.is_empty() {
                    index.by_len.entry(parts.len()).or_default().push(i);
                } else {
                    index.multi.push(i);
                }
                index.templates.push(Template { op, parts });
            }
            // Every length's list also holds the multi-segment templates, in catalog order.
            for ids in index.by_len.values_mut() {
                ids.extend(&index.multi);
                ids.sort_unstable();
            }
            index
        })
    }

    /// The templates that may cover a path of `len` segments, in catalog order (which breaks
    /// ties between equally literal templates).
    fn candidates(&self, len: usize) -> impl Iterator<Item = &Template> {
        self.by_len
            .get(&len)
            .unwrap_or(&self.multi)
            .iter()
            .map(move |&i| &self.templates[i])
    }
}

/// Whether template `parts` cover `segs`, pushing one rank entry per part on success and
/// leaving `rank` as it was on failure.
fn covers(parts: &[&str], multi: &[&str], segs: &[&str], rank: &mut Vec<bool>) -> bool {
    let Some((part, rest)) = parts.split_first() else {
        return segs.is_empty();
    };
    let param = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
    rank.push(param.is_some());
    let ok = match param {
        None => segs.first() == Some(part) && covers(rest, multi, &segs[1..], rank),
        // A parameter that may hold `/` takes one or more non-empty segments.
        Some(name) if multi.contains(&name) => (1..=segs.len())
            .take_while(|&k| !segs[k - 1].is_empty())
            .any(|k| covers(rest, multi, &segs[k..], rank)),
        Some(_) => {
            segs.first().is_some_and(|s| !s.is_empty()) && covers(rest, multi, &segs[1..], rank)
        }
    };
    if !ok {
        rank.pop();
    }
    ok
}

/// One call to a catalogued operation being built; made by [`Client::operation`].
#[derive(Debug)]
#[must_use = "a call does nothing until .send() is awaited"]
pub struct OperationCall {
    op: Option<&'static OperationInfo>,
    call: RawCall,
}

impl OperationCall {
    /// The catalogued operation the path names; `None` when it names none (then
    /// [`send`](Self::send) fails).
    pub fn operation(&self) -> Option<&'static OperationInfo> {
        self.op
    }
    /// Adds a query parameter.
    pub fn query(self, name: impl Into<String>, value: impl ToString) -> Self {
        self.map(|c| c.query(name, value))
    }
    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        self.map(|c| c.json(body))
    }
    /// Sets an already-serialized body sent as JSON.
    pub fn json_bytes(self, body: impl Into<bytes::Bytes>) -> Self {
        self.map(|c| c.json_bytes(body))
    }
    /// Sets a form body.
    pub fn form(self, fields: Vec<(String, String)>) -> Self {
        self.map(|c| c.form(fields))
    }
    /// Records the realm, for error messages.
    pub fn realm(self, realm: impl Into<String>) -> Self {
        self.map(|c| c.realm(realm))
    }
    /// Allows retrying this POST (see [`Request::retry_post`](crate::request::Request::retry_post)).
    pub fn retry_post(self, yes: bool) -> Self {
        self.map(|c| c.retry_post(yes))
    }

    /// Sends the call and returns the raw success answer.
    pub async fn send(self) -> Result<Response> {
        self.call.send().await
    }

    /// Sends the call and decodes the JSON answer (`null` for an empty body).
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        self.call.send_json().await
    }

    fn map(self, f: impl FnOnce(RawCall) -> RawCall) -> Self {
        OperationCall {
            op: self.op,
            call: f(self.call),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: Method, path: &str) -> &'static str {
        find_operation(method, path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .path
    }

    #[test]
    fn parameters_take_any_segment_and_literals_must_be_equal() {
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/users"),
            "/admin/realms/{realm}/users"
        );
        assert_eq!(
            found(Method::Put, "/admin/realms/acme/users/8c2f%2Fx"),
            "/admin/realms/{realm}/users/{user-id}"
        );
        assert_eq!(found(Method::Get, "/admin/realms"), "/admin/realms");
        assert_eq!(found(Method::Post, "/admin/realms"), "/admin/realms");
        // A literal segment differing, an empty parameter segment, a segment too many or too few.
        for p in [
            "/admin/realms/acme/userz",
            "/admin/realms//users",
            "/admin/realms/acme/users/x/y/z/w",
            "/admin",
            "/",
        ] {
            assert!(find_operation(Method::Get, p).is_err(), "{p}");
        }
    }

    #[test]
    fn a_literal_segment_beats_a_parameter() {
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/users/count"),
            "/admin/realms/{realm}/users/count"
        );
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/users/counts"),
            "/admin/realms/{realm}/users/{user-id}"
        );
        // A realm named like a literal elsewhere is still a realm.
        assert_eq!(
            found(Method::Get, "/admin/realms/users/users"),
            "/admin/realms/{realm}/users"
        );
        let info = find_operation(Method::Get, "/admin/realms/acme/users/count").unwrap();
        assert_eq!((info.handle, info.name), ("Users", "count"));
    }

    #[test]
    fn a_multi_segment_parameter_takes_one_or_more_segments() {
        let t = "/admin/realms/{realm}/group-by-path/{path}";
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/group-by-path/eng"),
            t
        );
        assert_eq!(
            found(
                Method::Get,
                "/admin/realms/acme/group-by-path/eng/backend/k%2Fv"
            ),
            t
        );
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/group-by-path/eng/backend/"),
            t
        );
        for p in [
            "/admin/realms/acme/group-by-path",
            "/admin/realms/acme/group-by-path/",
            "/admin/realms/acme/group-by-path/eng//backend",
        ] {
            assert!(find_operation(Method::Get, p).is_err(), "{p}");
        }
        // Only the parameter the catalog marks spans segments.
        assert!(find_operation(Method::Get, "/admin/realms/acme/groups/a/b/c/d").is_err());
        assert_eq!(
            found(
                Method::Get,
                "/admin/realms/acme/organizations/o1/groups/group-by-path/a/b"
            ),
            "/admin/realms/{realm}/organizations/{org-id}/groups/group-by-path/{path}"
        );
    }

    #[test]
    fn trailing_slash_and_query_string_are_not_part_of_the_path() {
        let t = "/admin/realms/{realm}/users";
        assert_eq!(found(Method::Get, "/admin/realms/acme/users/"), t);
        assert_eq!(found(Method::Get, "/admin/realms/acme/users?max=1"), t);
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/users/?first=0&max=1"),
            t
        );
        assert_eq!(
            found(Method::Get, "/admin/realms/acme/users?x=/count"),
            t,
            "a `/` in the query is not a segment"
        );
    }

    #[test]
    fn an_uncatalogued_path_is_a_typed_error() {
        for (m, p) in [
            (Method::Get, "/admin/realms/acme/no-such-thing"),
            (Method::Get, "/realms/acme/protocol/openid-connect/certs"),
            (Method::Get, "admin/realms"),
            (Method::Get, ""),
        ] {
            match find_operation(m, p) {
                Err(Error::InvalidInput(msg)) => assert!(!msg.is_empty()),
                other => panic!("{p}: {other:?}"),
            }
        }
        // The path is known, the method is not: the message says which methods it takes.
        let err = find_operation(Method::Patch, "/admin/realms/acme/users/count").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("PATCH /admin/realms/acme/users/count"),
            "{msg}"
        );
        assert!(msg.contains("takes GET"), "{msg}");
    }

    #[test]
    fn every_catalogued_template_finds_itself() {
        for op in OPERATIONS {
            let m: Method = op.method.parse().unwrap();
            let concrete: Vec<String> = op
                .path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        "x1".to_owned()
                    } else {
                        s.to_owned()
                    }
                })
                .collect();
            let got = find_operation(m, &concrete.join("/")).unwrap();
            assert_eq!((got.method, got.path), (op.method, op.path));
        }
    }

    #[tokio::test]
    async fn an_uncatalogued_call_is_refused_before_sending() {
        // Nothing listens on port 9: reaching the network would be a transport error.
        let kc = Client::builder("http://127.0.0.1:9").build().unwrap();
        let call = kc.operation(Method::Get, "/admin/realms/acme/nope");
        assert!(call.operation().is_none());
        // A body that cannot be serialized does not hide the lookup error.
        let unserializable = std::collections::BTreeMap::from([(vec![1u8], 1u8)]);
        let err = call.json(&unserializable).send().await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput(ref m) if m.contains("catalog")),
            "{err}"
        );
        let call = kc.operation(Method::Get, "/admin/realms/acme/users/count");
        assert_eq!(call.operation().map(|o| o.name), Some("count"));
    }
}
