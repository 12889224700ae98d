//! The parts of the OpenAPI document the generator reads.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

pub struct Spec {
    /// The Keycloak version (from the file name or `--version`).
    pub version: String,
    /// Operations sorted by path, then method.
    pub ops: Vec<Op>,
    /// Component schemas by name, sorted.
    pub schemas: Vec<(String, Value)>,
}

pub struct Op {
    /// Upper case: `GET`.
    pub method: String,
    /// The path template exactly as in the spec.
    pub path: String,
    pub deprecated: bool,
    /// Path parameters in the order they appear in the path.
    pub path_params: Vec<Param>,
    /// Query parameters in the spec's order, duplicates removed.
    pub query: Vec<Param>,
    /// Request body content types and their schemas; `None` when the spec lists no body.
    pub body: Option<Vec<(String, Value)>>,
    /// Success (2xx) responses: status and content types with their schemas.
    pub responses: Vec<(u16, Vec<(String, Value)>)>,
}

impl Op {
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

pub struct Param {
    pub name: String,
    pub schema: Value,
    pub deprecated: bool,
}

/// The `{name}` placeholders of a path template, in order.
pub fn placeholders(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn content(v: Option<&Value>) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = v
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(ct, media)| {
                    (
                        ct.clone(),
                        media.get("schema").cloned().unwrap_or(Value::Null),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn params(list: Option<&Value>) -> Vec<&Map<String, Value>> {
    list.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

impl Spec {
    pub fn parse(text: &str, version: String) -> Result<Spec> {
        let doc: Value = serde_json::from_str(text).context("the spec is not JSON")?;
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .context("the spec has no `paths`")?;
        let mut ops = Vec::new();
        for (path, item) in paths {
            let item = item
                .as_object()
                .with_context(|| format!("path `{path}` is not an object"))?;
            let shared = params(item.get("parameters"));
            for (method, op) in item {
                if method == "parameters" {
                    continue;
                }
                if !METHODS.contains(&method.as_str()) {
                    bail!("unsupported key `{method}` under path `{path}`");
                }
                ops.push(parse_op(path, method, op, &shared)?);
            }
        }
        ops.sort_by(|a, b| {
            (&a.path, method_rank(&a.method)).cmp(&(&b.path, method_rank(&b.method)))
        });
        let mut schemas: Vec<(String, Value)> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        schemas.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Spec {
            version,
            ops,
            schemas,
        })
    }

    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.schemas.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn method_rank(m: &str) -> usize {
    ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
        .iter()
        .position(|x| *x == m)
        .unwrap_or(usize::MAX)
}

fn parse_op(path: &str, method: &str, op: &Value, shared: &[&Map<String, Value>]) -> Result<Op> {
    let key = format!("{} {path}", method.to_uppercase());
    let mut all: Vec<&Map<String, Value>> = shared.to_vec();
    all.extend(params(op.get("parameters")));
    let mut path_params = Vec::new();
    for name in placeholders(path) {
        // An operation's own declaration wins over the path-level one.
        let decl = all
            .iter()
            .rev()
            .find(|p| {
                p.get("in").and_then(Value::as_str) == Some("path")
                    && p.get("name").and_then(Value::as_str) == Some(name)
            })
            .with_context(|| format!("{key}: path parameter `{name}` is not declared"))?;
        path_params.push(to_param(decl));
    }
    let mut query: Vec<Param> = Vec::new();
    for p in &all {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            bail!("{key}: a parameter has no name")
        };
        match p.get("in").and_then(Value::as_str) {
            Some("path") => {
                if !path_params.iter().any(|pp| pp.name == name) {
                    bail!("{key}: path parameter `{name}` is not in the path");
                }
            }
            Some("query") => {
                if !query.iter().any(|q| q.name == name) {
                    query.push(to_param(p));
                }
            }
            Some(other) => {
                bail!("{key}: parameter `{name}` is in `{other}`, which is not supported")
            }
            None => bail!("{key}: parameter `{name}` has no `in`"),
        }
    }
    let body = op.get("requestBody").map(|rb| content(rb.get("content")));
    let mut responses = Vec::new();
    if let Some(rs) = op.get("responses").and_then(Value::as_object) {
        for (code, r) in rs {
            let code: u16 = match code.parse() {
                Ok(c) => c,
                Err(_) => bail!("{key}: response `{code}` is not a status code"),
            };
            if (200..300).contains(&code) {
                responses.push((code, content(r.get("content"))));
            }
        }
    }
    responses.sort_by_key(|r| r.0);
    if responses.is_empty() {
        bail!("{key}: no success response");
    }
    Ok(Op {
        method: method.to_uppercase(),
        path: path.to_owned(),
        deprecated: op
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        path_params,
        query,
        body,
        responses,
    })
}

fn to_param(p: &Map<String, Value>) -> Param {
    Param {
        name: p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        schema: p.get("schema").cloned().unwrap_or(Value::Null),
        deprecated: p
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}
