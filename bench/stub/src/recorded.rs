//! The recorded Keycloak answers, turned into the bytes the stub writes. The only change to a
//! recorded answer is the tokens' `iat`/`exp` (see [`fresh_tokens`]) and the server's address.

use std::path::Path;

use serde_json::Value;

use crate::http::{self, Request};

/// One recorded answer: status line text, headers (CRLF-terminated lines), body.
struct Recorded {
    status: String,
    headers: String,
    body: Vec<u8>,
}

impl Recorded {
    /// Reads `curl -i` output; `origin` (the recording server's `http://host:port`) becomes the
    /// stub's own in headers and body.
    fn load(path: &Path, origin: &str, own: &str) -> Result<Self, String> {
        let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let raw = String::from_utf8(raw).map_err(|_| format!("{} is not UTF-8", path.display()))?;
        let raw = raw.replace(origin, own);
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("{}: no header/body separator", path.display()))?;
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_once(' '))
            .map(|(_, s)| s.trim().to_owned())
            .ok_or_else(|| format!("{}: no status line", path.display()))?;
        let mut headers = String::new();
        for line in lines {
            let name = line
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            // Framing is the stub's own.
            if matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                continue;
            }
            headers.push_str(line);
            headers.push_str("\r\n");
        }
        Ok(Recorded {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        })
    }

    fn bytes(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.headers.len() + body.len() + 64);
        http::response(&mut out, &self.status, &self.headers, body);
        out
    }
}

/// Every answer, precomputed.
pub struct Answers {
    token: Vec<u8>,
    well_known: Vec<u8>,
    user: Vec<u8>,
    created: Vec<u8>,
    updated: Vec<u8>,
    count: Vec<u8>,
    not_found: Vec<u8>,
    /// Full answers for `first = 100·i, max = 100`; one past the end is the empty page.
    pages: Vec<Vec<u8>>,
    /// Each synthetic user's JSON, for pages of other shapes (set-up calls only).
    users: Vec<Vec<u8>>,
    page_template: Recorded,
}

const PAGE: usize = 100;

impl Answers {
    /// Loads `dir` (see `bench/stub/record.sh`) for a stub reachable at `own` (`http://…`).
    pub fn load(dir: &Path, own: &str, users: usize) -> Result<Self, String> {
        let origin = std::fs::read_to_string(dir.join("origin.txt"))
            .map_err(|e| format!("{}/origin.txt: {e}", dir.display()))?;
        let rec = |name: &str| Recorded::load(&dir.join(name), origin.trim(), own);
        let page = rec("users-page.http")?;
        let listed: Vec<Value> = serde_json::from_slice(&page.body)
            .map_err(|e| format!("users-page.http: not a JSON array: {e}"))?;
        let template = listed
            .first()
            .cloned()
            .ok_or("users-page.http: the recorded page is empty")?;
        let made: Vec<Vec<u8>> = (0..users).map(|k| synthetic(&template, k)).collect();
        let mut pages = Vec::new();
        for chunk in made.chunks(PAGE) {
            pages.push(page.bytes(&join(chunk)));
        }
        pages.push(page.bytes(b"[]"));
        let user = rec("user.http")?;
        let count = rec("count.http")?;
        Ok(Answers {
            token: rec("token.http")?.bytes(&fresh_tokens(&rec("token.http")?.body)?),
            well_known: rec("well-known.http")?.bytes(&rec("well-known.http")?.body),
            user: user.bytes(&user.body),
            created: rec("create.http")?.bytes(b""),
            updated: rec("update.http")?.bytes(b""),
            count: count.bytes(users.to_string().as_bytes()),
            not_found: Recorded {
                status: "404 Not Found".into(),
                headers: "content-type: application/json\r\n".into(),
                body: Vec::new(),
            }
            .bytes(br#"{"error":"HTTP 404 Not Found"}"#),
            pages,
            users: made,
            page_template: page,
        })
    }

    /// Appends the answer to `req` to `out`; `stats` makes the `/__stub/stats` document.
    pub fn answer(&self, req: &Request<'_>, out: &mut Vec<u8>, stats: fn() -> String) {
        let (path, query) = req.target.split_once('?').unwrap_or((req.target, ""));
        let bytes: &[u8] = match (req.method, route(path)) {
            ("POST", Route::Token) => &self.token,
            ("GET", Route::WellKnown) => &self.well_known,
            ("GET", Route::Users) => return self.page(query, out),
            ("POST", Route::Users) => &self.created,
            ("GET", Route::UsersCount) => &self.count,
            ("GET", Route::User) => &self.user,
            ("PUT", Route::User) => &self.updated,
            ("GET", Route::Stats) => {
                http::response(
                    out,
                    "200 OK",
                    "content-type: application/json\r\n",
                    stats().as_bytes(),
                );
                return;
            }
            _ => {
                eprintln!(
                    "cloakroom-stub: no answer for {} {}",
                    req.method, req.target
                );
                &self.not_found
            }
        };
        out.extend_from_slice(bytes);
    }

    /// A page of the synthetic realm; `first`/`max` as Keycloak reads them (max defaults to 100).
    fn page(&self, query: &str, out: &mut Vec<u8>) {
        let (mut first, mut max) = (0usize, PAGE);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("first", v)) => first = v.parse().unwrap_or(0),
                Some(("max", v)) => max = v.parse().unwrap_or(PAGE),
                _ => {}
            }
        }
        if max == PAGE && first % PAGE == 0 {
            let i = (first / PAGE).min(self.pages.len() - 1);
            out.extend_from_slice(&self.pages[i]);
            return;
        }
        let end = first.saturating_add(max).min(self.users.len());
        let slice = self.users.get(first.min(end)..end).unwrap_or_default();
        let t = &self.page_template;
        http::response(out, &t.status, &t.headers, &join(slice));
    }
}

enum Route {
    Token,
    WellKnown,
    Users,
    UsersCount,
    User,
    Stats,
    Other,
}

fn route(path: &str) -> Route {
    if path == "/__stub/stats" {
        return Route::Stats;
    }
    if path.ends_with("/protocol/openid-connect/token") {
        return Route::Token;
    }
    if path.ends_with("/.well-known/openid-configuration") {
        return Route::WellKnown;
    }
    // The TypeScript admin client writes `/users/`.
    let path = path.strip_suffix('/').unwrap_or(path);
    let Some(rest) = path.strip_prefix("/admin/realms/") else {
        return Route::Other;
    };
    let mut parts = rest.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(_realm), Some("users"), None, None) => Route::Users,
        (Some(_realm), Some("users"), Some("count"), None) => Route::UsersCount,
        (Some(_realm), Some("users"), Some(_id), None) => Route::User,
        _ => Route::Other,
    }
}

/// The token answer with each token's `iat` set to now and `exp` to a day later (the recorded
/// tokens expired long ago, and clients that read `exp` from the token, such as the TypeScript
/// admin client, would refresh on every call). Header and signature stay as recorded: no client
/// verifies the signature of its own admin token.
fn fresh_tokens(body: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let mut doc: Value =
        serde_json::from_slice(body).map_err(|e| format!("token.http: not JSON: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    for key in ["access_token", "refresh_token"] {
        let Some(jwt) = doc[key].as_str() else {
            continue;
        };
        let parts: Vec<&str> = jwt.split('.').collect();
        let [h, p, s] = parts[..] else {
            return Err(format!("token.http: {key} is not a JWS"));
        };
        let mut claims: Value = B64
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| format!("token.http: {key} has no JSON payload"))?;
        claims["iat"] = now.into();
        claims["exp"] = (now + 86_400).into();
        let p = B64.encode(claims.to_string());
        doc[key] = Value::String(format!("{h}.{p}.{s}"));
    }
    Ok(doc.to_string().into_bytes())
}

/// User `k` of the synthetic realm: the recorded user with its own id, username and e-mail.
fn synthetic(template: &Value, k: usize) -> Vec<u8> {
    let mut u = template.clone();
    if let Some(o) = u.as_object_mut() {
        o.insert(
            "id".into(),
            Value::String(format!("5eed0000-0000-4000-8000-{k:012}")),
        );
        o.insert("username".into(), Value::String(format!("stub-{k}")));
        if o.contains_key("email") {
            o.insert(
                "email".into(),
                Value::String(format!("stub-{k}@example.com")),
            );
        }
    }
    serde_json::to_vec(&u).unwrap_or_default()
}

fn join(users: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(users.iter().map(|u| u.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, u) in users.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(u);
    }
    body.push(b']');
    body
}
