//! `cloakroom api METHOD PATH`: any Admin REST call.

use std::str::FromStr;

use cloakroom::request::Method;
use serde_json::Value;

use super::{Ctx, parse_pairs, read_data_arg};
use crate::cli::{ApiArgs, OutputFormat};
use crate::exit::{CliError, CliResult};

/// Makes an absolute path: `/x` stays, `x` becomes `/admin/x`; `{realm}` is the target realm.
pub fn resolve_path(path: &str, realm: &str) -> String {
    let p = path.replace("{realm}", &cloakroom::request::encode_segment(realm));
    if p.starts_with('/') {
        p
    } else {
        format!("/admin/{p}")
    }
}

pub async fn run(ctx: &Ctx, a: ApiArgs) -> CliResult {
    let method = Method::from_str(&a.method).map_err(|e| CliError::usage(e.to_string()))?;
    let query = parse_pairs(&a.query, "query parameter")?;
    let body = match &a.data {
        Some(d) => {
            let text = read_data_arg(d)?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| CliError::usage(format!("the request body is not valid JSON: {e}")))?;
            Some(v)
        }
        None => None,
    };
    let (kc, settings) = ctx.admin().await?;
    let path = resolve_path(&a.path, settings.target_realm());
    let mut call = kc.raw().call(method, path.clone());
    for (k, v) in query {
        call = call.query(k, v);
    }
    if let Some(b) = &body {
        call = call.json(b);
    }
    let resp = call.send().await?;
    if let Some(loc) = resp.location() {
        ctx.out
            .note(format!("HTTP {} Location: {loc}", resp.status()));
    } else {
        tracing::info!(status = resp.status(), "{method} {path}");
    }
    if resp.bytes().iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let is_json = resp.content_type().is_some_and(|c| c.contains("json"));
    match serde_json::from_slice::<Value>(resp.bytes()) {
        Ok(v) if is_json || ctx.out.explicit => {
            // Raw answers are JSON unless a format was asked for.
            let mut out = ctx.out.clone();
            if !out.explicit {
                out.format = OutputFormat::Json;
            }
            out.print(&v, &[])
        }
        _ => crate::output::write_stdout(resp.bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve() {
        assert_eq!(resolve_path("/admin/realms", "x"), "/admin/realms");
        assert_eq!(
            resolve_path("realms/{realm}/users", "a b"),
            "/admin/realms/a%20b/users"
        );
    }
}
