//! `cloakroom health` and `cloakroom metrics`: Keycloak's management interface.

use cloakroom::RetryPolicy;
use cloakroom::request::{AuthMode, Method, Request};
use serde_json::{Map, Value, json};

use super::Ctx;
use crate::cli::{HealthArgs, MetricsArgs, OutputFormat, Probe};
use crate::exit::{CliError, CliResult};
use crate::prom;

/// GET `path` on the management interface without a token. Returns the status and body
/// of any answer (503 included); transport failures are errors.
async fn fetch(ctx: &Ctx, path: &str, accept: &'static str) -> CliResult<(String, u16, String)> {
    let settings = ctx.settings()?;
    let base = settings.management_url()?;
    let kc = settings
        .builder(&base)?
        .retry(RetryPolicy::none())
        .build()?;
    let req = Request::new(Method::Get, path, "{management}")
        .auth(AuthMode::None)
        .accept(accept);
    match kc.send(req).await {
        Ok(r) => Ok((base, r.status(), r.text())),
        Err(cloakroom::Error::Api(e)) => Ok((base, e.status, e.body_text.clone())),
        Err(e) => Err(CliError::from(e).with_hint(format!(
            "is the management interface at {base}? (--management-url, CLOAKROOM_MANAGEMENT_URL)"
        ))),
    }
}

pub async fn health(ctx: &Ctx, a: HealthArgs) -> CliResult {
    let path = match a.probe {
        None => "/health",
        Some(Probe::Live) => "/health/live",
        Some(Probe::Ready) => "/health/ready",
        Some(Probe::Started) => "/health/started",
    };
    let (base, status, body) = fetch(ctx, path, "application/json").await?;
    if status == 404 {
        return Err(
            CliError::not_found(format!("no health endpoint at {base}{path} (HTTP 404)"))
                .with_hint("start Keycloak with --health-enabled=true, and check --management-url"),
        );
    }
    let doc: Value = serde_json::from_str(&body).unwrap_or_else(
        |_| json!({"status": if status == 200 { "UP" } else { "DOWN" }, "checks": []}),
    );
    let up = status == 200 && doc.get("status").and_then(Value::as_str) == Some("UP");
    match ctx.out.format {
        OutputFormat::Json | OutputFormat::Yaml => ctx.out.print(&doc, &[])?,
        OutputFormat::Table | OutputFormat::Csv => {
            if !ctx.out.quiet {
                if matches!(ctx.out.format, OutputFormat::Table) {
                    crate::output::line(format!(
                        "{}: {}",
                        path.trim_start_matches('/'),
                        doc.get("status").and_then(Value::as_str).unwrap_or("?")
                    ))?;
                }
                let checks = doc.get("checks").cloned().unwrap_or(json!([]));
                if checks.as_array().is_some_and(|c| !c.is_empty()) {
                    ctx.out.print(&checks, &["name", "status"])?;
                }
            }
        }
    }
    if up {
        Ok(())
    } else {
        Err(CliError::other(format!(
            "Keycloak is not {} (HTTP {status} from {base}{path})",
            match a.probe {
                None | Some(Probe::Ready) => "ready",
                Some(Probe::Live) => "live",
                Some(Probe::Started) => "started",
            }
        )))
    }
}

pub async fn metrics(ctx: &Ctx, a: MetricsArgs) -> CliResult {
    let (base, status, body) = fetch(ctx, "/metrics", "text/plain").await?;
    if status == 404 {
        return Err(CliError::not_found(format!(
            "no metrics endpoint at {base}/metrics (HTTP 404)"
        ))
        .with_hint("start Keycloak with --metrics-enabled=true"));
    }
    if status != 200 {
        return Err(CliError::server(format!(
            "HTTP {status} from {base}/metrics"
        )));
    }
    if a.raw {
        return crate::output::write_stdout(body.as_bytes());
    }
    let parsed = prom::parse(&body);
    let summary = summarize(&parsed);
    if matches!(ctx.out.format, OutputFormat::Table | OutputFormat::Csv) {
        let rows: Vec<Value> = flatten("", &summary)
            .into_iter()
            .map(|(k, v)| json!({"metric": k, "value": v}))
            .collect();
        ctx.out.print(&Value::Array(rows), &["metric", "value"])
    } else {
        ctx.out.print(&summary, &[])
    }
}

fn flatten(prefix: &str, v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v)
            })
            .collect(),
        other => vec![(prefix.to_owned(), other.clone())],
    }
}

fn num(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => json!(x as i64),
        Some(x) => json!((x * 1000.0).round() / 1000.0),
        None => Value::Null,
    }
}

fn mib(v: Option<f64>) -> Value {
    num(v.map(|b| (b / 1_048_576.0 * 10.0).round() / 10.0))
}

/// The readable summary: sessions, logins, errors, JVM memory.
pub fn summarize(p: &prom::Parsed) -> Value {
    let cache = |c: &str| {
        p.sum_where("vendor_statistics_approximate_entries", |s| {
            s.label("cache") == Some(c)
        })
    };
    let mut sessions = Map::new();
    for (k, c) in [
        ("user", "sessions"),
        ("client", "clientSessions"),
        ("offline", "offlineSessions"),
        ("offline_client", "offlineClientSessions"),
        ("authentication", "authenticationSessions"),
        ("login_failures", "loginFailures"),
    ] {
        sessions.insert(k.into(), num(cache(c)));
    }

    let mut logins = Map::new();
    // With --event-metrics-user-enabled Keycloak counts login events itself.
    let events = "keycloak_user_events_total";
    if p.named(events).next().is_some() {
        let ev = |e: &str, ok: bool| {
            p.sum_where(events, |s| {
                s.label("event") == Some(e) && (s.label("error").unwrap_or("").is_empty() == ok)
            })
        };
        logins.insert("login_events".into(), num(ev("login", true)));
        logins.insert("login_errors".into(), num(ev("login", false)));
    }
    let token = |outcome: &str| {
        p.sum_where("http_server_requests_seconds_count", |s| {
            s.label("uri").is_some_and(|u| u.ends_with("/token"))
                && s.label("outcome") == Some(outcome)
        })
    };
    logins.insert("token_requests_ok".into(), num(token("SUCCESS")));
    logins.insert("token_requests_refused".into(), num(token("CLIENT_ERROR")));
    let pw = |outcome: &str| {
        p.sum_where(
            "keycloak_credentials_password_hashing_validations_total",
            |s| s.label("outcome") == Some(outcome),
        )
    };
    logins.insert("password_checks_valid".into(), num(pw("valid")));
    logins.insert("password_checks_invalid".into(), num(pw("invalid")));

    let has_http = p
        .named("http_server_requests_seconds_count")
        .next()
        .is_some();
    let http = |pred: &dyn Fn(&prom::Sample) -> bool| {
        p.sum_where("http_server_requests_seconds_count", pred)
            .or(has_http.then_some(0.0))
    };
    let mut errors = Map::new();
    errors.insert("http_requests".into(), num(http(&|_| true)));
    errors.insert(
        "http_4xx".into(),
        num(http(&|s| {
            s.label("status").is_some_and(|c| c.starts_with('4'))
        })),
    );
    errors.insert(
        "http_5xx".into(),
        num(http(&|s| {
            s.label("status").is_some_and(|c| c.starts_with('5'))
        })),
    );
    errors.insert(
        "http_server_errors".into(),
        num(p.sum_where("http_server_errors_total", |_| true)),
    );

    let mem = |name: &str, area: &str| p.sum_where(name, |s| s.label("area") == Some(area));
    let mut jvm = Map::new();
    jvm.insert(
        "heap_used_mib".into(),
        mib(mem("jvm_memory_used_bytes", "heap")),
    );
    jvm.insert(
        "heap_committed_mib".into(),
        mib(mem("jvm_memory_committed_bytes", "heap")),
    );
    jvm.insert(
        "heap_max_mib".into(),
        mib(mem("jvm_memory_max_bytes", "heap")),
    );
    jvm.insert(
        "nonheap_used_mib".into(),
        mib(mem("jvm_memory_used_bytes", "nonheap")),
    );
    jvm.insert(
        "threads_live".into(),
        num(p.sum_where("jvm_threads_live_threads", |_| true)),
    );
    jvm.insert(
        "gc_pauses".into(),
        num(p.sum_where("jvm_gc_pause_seconds_count", |_| true)),
    );
    jvm.insert(
        "gc_pause_seconds".into(),
        num(p.sum_where("jvm_gc_pause_seconds_sum", |_| true)),
    );

    json!({
        "uptime_seconds": num(p.sum_where("process_uptime_seconds", |_| true)),
        "sessions": sessions,
        "logins": logins,
        "errors": errors,
        "jvm": jvm,
        "samples": p.samples.len(),
        "unreadable_lines": p.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_keycloak_names() {
        let text = "\
vendor_statistics_approximate_entries{cache=\"sessions\",node=\"n\"} 12.0
jvm_memory_used_bytes{area=\"heap\",id=\"G1 Old Gen\"} 1048576.0
jvm_memory_used_bytes{area=\"heap\",id=\"Eden\"} 1048576.0
jvm_memory_max_bytes{area=\"heap\",id=\"Eden\"} -1.0
http_server_requests_seconds_count{method=\"POST\",outcome=\"SUCCESS\",status=\"200\",uri=\"/realms/{realm}/protocol/{protocol}/token\"} 16.0
http_server_requests_seconds_count{method=\"GET\",outcome=\"SERVER_ERROR\",status=\"500\",uri=\"/x\"} 2.0
garbage line here
";
        let s = summarize(&prom::parse(text));
        assert_eq!(s["sessions"]["user"], 12);
        assert_eq!(s["jvm"]["heap_used_mib"], 2);
        assert_eq!(s["jvm"]["heap_max_mib"], Value::Null);
        assert_eq!(s["logins"]["token_requests_ok"], 16);
        assert_eq!(s["errors"]["http_5xx"], 2);
        assert_eq!(s["unreadable_lines"], 1);
    }
}
