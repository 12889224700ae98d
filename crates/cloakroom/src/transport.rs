//! The HTTP layer below authentication: one reqwest client, the base URL, retries and the
//! observer. It knows nothing of tokens; callers hand it a bearer when one is needed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::{
    ApiError, Error, KeycloakErrorBody, Result, TransportError, TransportKind, excerpt,
};
use crate::request::{Body, Method, Request, Response};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// What an observer is told about each HTTP exchange (each attempt, including retries and
/// token-endpoint calls). It never carries headers or bodies, so it never carries secrets.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Exchange {
    /// HTTP method.
    pub method: Method,
    /// The spec path template (for example `/admin/realms/{realm}/users`).
    pub template: &'static str,
    /// The concrete path, without query string.
    pub path: String,
    /// The answer's status; `None` when there was no answer (transport failure).
    pub status: Option<u16>,
    /// 0 for the first attempt, then 1, 2, … for retries.
    pub attempt: u32,
    /// Time from sending to the end of the answer.
    pub latency: Duration,
}

/// A function told about every exchange: for metrics, test accounting, coverage.
pub type Observer = Arc<dyn Fn(&Exchange) + Send + Sync>;

/// An answer of any status, before it is judged.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) content_type: Option<String>,
    /// `Retry-After` in whole seconds, when the server sent one (429, 503).
    pub(crate) retry_after: Option<u64>,
    pub(crate) body: Bytes,
}

impl RawResponse {
    pub(crate) fn into_result(self, req: &Request) -> Result<Response> {
        if (200..300).contains(&self.status) {
            return Ok(Response {
                method: req.method,
                path: req.path.clone(),
                status: self.status,
                location: self.location,
                content_type: self.content_type,
                body: self.body,
            });
        }
        Err(Error::Api(Box::new(ApiError {
            method: req.method.to_string(),
            path: req.path.clone(),
            realm: req.realm.clone(),
            status: self.status,
            body: KeycloakErrorBody::parse(&self.body),
            body_text: excerpt(&self.body),
        })))
    }
}

/// The HTTP layer: one reqwest client, the base URL, the retry policy and the observer.
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) observer: Option<Observer>,
}

impl Transport {
    /// Sends `req` (with `bearer` if given), retrying as the policy allows. Any status is `Ok`.
    pub(crate) async fn execute(
        &self,
        req: &Request,
        bearer: Option<&Secret>,
    ) -> Result<RawResponse> {
        let mut attempt = 0u32;
        loop {
            let started = Instant::now();
            let outcome = self.once(req, bearer).await;
            if let Some(obs) = &self.observer {
                obs(&Exchange {
                    method: req.method,
                    template: req.template,
                    path: req.path.clone(),
                    status: outcome.as_ref().ok().map(|r| r.status),
                    attempt,
                    latency: started.elapsed(),
                });
            }
            let retryable = match &outcome {
                Ok(r) => matches!(r.status, 429 | 502..=504),
                Err(Error::Transport(t)) => t.kind != TransportKind::Tls,
                Err(_) => false,
            };
            if retryable && req.may_retry() && attempt < self.retry.max_retries {
                // The server's Retry-After wins over our backoff, capped by the policy's maximum.
                let wait = match &outcome {
                    Ok(RawResponse {
                        retry_after: Some(secs),
                        ..
                    }) => Duration::from_secs(*secs).min(self.retry.max_delay),
                    _ => self.retry.backoff(attempt),
                };
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return outcome;
        }
    }

    async fn once(&self, req: &Request, bearer: Option<&Secret>) -> Result<RawResponse> {
        let url = format!("{}{}", self.base, req.path);
        let mut rb = self.http.request(req.method.to_reqwest(), &url);
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        if let Some(t) = bearer {
            let mut v =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| {
                        Error::invalid_input("the access token contains invalid characters")
                    })?;
            v.set_sensitive(true);
            rb = rb.header(reqwest::header::AUTHORIZATION, v);
        }
        for (k, v) in &req.headers {
            let mut hv = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| Error::invalid_input(format!("invalid value for header `{k}`")))?;
            if k.eq_ignore_ascii_case("authorization") {
                hv.set_sensitive(true);
            }
            rb = rb.header(k.as_str(), hv);
        }
        rb = rb.header(
            reqwest::header::ACCEPT,
            req.accept.unwrap_or("application/json, */*;q=0.5"),
        );
        rb = match &req.body {
            Body::Empty => rb,
            Body::Json(b) => rb
                .header(
                    reqwest::header::CONTENT_TYPE,
                    req.content_type.unwrap_or("application/json"),
                )
                .body(b.clone()),
            Body::Form(fields) => rb.form(fields),
            Body::Text(t) => rb
                .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(t.clone()),
            Body::Multipart { fields, parts } => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k.clone(), v.clone());
                }
                for p in parts {
                    let mut part = reqwest::multipart::Part::bytes(p.data.to_vec());
                    if let Some(f) = &p.file_name {
                        part = part.file_name(f.clone());
                    }
                    if let Some(ct) = &p.content_type {
                        part = part.mime_str(ct).map_err(|_| {
                            Error::invalid_input(format!("invalid content type `{ct}`"))
                        })?;
                    }
                    form = form.part(p.name.clone(), part);
                }
                rb.multipart(form)
            }
        };
        let resp = rb
            .send()
            .await
            .map_err(|e| transport_error(req.method, &url, &e))?;
        let status = resp.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header(reqwest::header::LOCATION);
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| v.trim().parse().ok());
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport_error(req.method, &url, &e))?;
        Ok(RawResponse {
            status,
            location,
            content_type,
            retry_after,
            body,
        })
    }
}

/// Classifies a reqwest failure without exposing reqwest.
fn transport_error(method: Method, url: &str, e: &reqwest::Error) -> Error {
    use std::error::Error as _;
    let mut detail = e.to_string();
    let mut source = e.source();
    let mut tls = false;
    while let Some(s) = source {
        let text = s.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            tls = true;
        }
        detail.push_str(": ");
        detail.push_str(&text);
        source = s.source();
    }
    let kind = if e.is_timeout() {
        TransportKind::Timeout
    } else if tls {
        TransportKind::Tls
    } else if e.is_connect() {
        TransportKind::Connect
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportKind::Io
    } else {
        TransportKind::Other
    };
    // reqwest's message contains the URL; strip the query string, which may hold a code.
    let clean_url = url.split('?').next().unwrap_or(url).to_owned();
    Error::Transport(Box::new(TransportError {
        method: method.to_string(),
        url: clean_url,
        kind,
        detail,
    }))
}
