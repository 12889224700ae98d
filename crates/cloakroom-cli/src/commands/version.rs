//! `cloakroom version`: cloakroom's version, the server's version and enabled features, and
//! which cloakroom capabilities that server supports (from the served-surface census).

use cloakroom::request::{Method, Request};
use cloakroom::server_version;
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::OutputFormat;
use crate::exit::{CliError, CliResult};

const SERVERINFO: &str = "/admin/serverinfo";

pub async fn run(ctx: &Ctx) -> CliResult {
    let (kc, _) = ctx.admin().await?;
    let info = server_info(&kc).await?;
    let doc = report(kc.base_url(), &info)?;
    match ctx.out.format {
        OutputFormat::Json | OutputFormat::Yaml => ctx.out.print(&doc, &[]),
        OutputFormat::Table | OutputFormat::Csv => {
            if !ctx.out.quiet {
                print!("{}", text(&doc));
            }
            Ok(())
        }
    }
}

/// The server's `/admin/serverinfo` answer.
pub async fn server_info(kc: &cloakroom::Client) -> CliResult<Value> {
    Ok(kc
        .send(Request::new(Method::Get, SERVERINFO, SERVERINFO))
        .await?
        .json()?)
}

/// The enabled feature names: `features[].enabled`, sorted.
fn enabled_features(info: &Value) -> Vec<String> {
    let mut out: Vec<String> = info["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["enabled"].as_bool() == Some(true))
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

/// The report as a document: the `-o json` answer, and what the text is printed from.
pub fn report(url: &str, info: &Value) -> CliResult<Value> {
    let version = info["systemInfo"]["version"]
        .as_str()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CliError::other("the server info has no systemInfo.version"))?;
    let features = enabled_features(info);
    let on = |name: &str| features.iter().any(|f| f == name);
    let typed = cloakroom::generated::catalog::OPERATIONS.len();
    let lacking = server_version::typed_not_served(version);
    let lacking_list: Option<Vec<String>> = lacking.as_ref().map(|ops| {
        ops.iter()
            .map(|op| format!("{} {}", op.method, op.path))
            .collect()
    });
    Ok(json!({
        "cloakroom": env!("CARGO_PKG_VERSION"),
        "server": {
            "url": url,
            "version": version,
            "profile": info["profileInfo"]["name"],
        },
        "features": {
            "enabled": features,
            "disabled": info["profileInfo"]["disabledFeatures"],
        },
        "capabilities": {
            "census_knows_version": lacking.is_some(),
            "census_versions": server_version::known_versions(),
            "typed_operations": typed,
            "typed_not_served_count": lacking.as_ref().map(Vec::len),
            "typed_not_served": lacking_list,
            "organizations": on("ORGANIZATION"),
            "workflows": on("WORKFLOWS"),
            "admin_api_v2_clients": on("CLIENT_ADMIN_API_V2"),
            "fine_grained_admin_permissions_v2": on("ADMIN_FINE_GRAINED_AUTHZ_V2"),
        },
    }))
}

fn yes_no(v: &Value) -> &'static str {
    if v.as_bool() == Some(true) {
        "yes"
    } else {
        "no"
    }
}

/// The first lines of the human-readable report: cloakroom, the server, its enabled features.
pub fn header(doc: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let enabled: Vec<String> = doc["features"]["enabled"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    format!(
        "cloakroom {}\nserver    Keycloak {} at {}\nfeatures  {} enabled: {}\n",
        s(&doc["cloakroom"]),
        s(&doc["server"]["version"]),
        s(&doc["server"]["url"]),
        enabled.len(),
        enabled.join(", "),
    )
}

/// The human-readable report.
pub fn text(doc: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let caps = &doc["capabilities"];
    let mut out = header(doc);
    let typed = caps["typed_operations"].as_u64().unwrap_or(0);
    match caps["typed_not_served_count"].as_u64() {
        Some(0) => out.push_str(&format!(
            "typed     all {typed} typed operations are served by this version\n"
        )),
        Some(n) => {
            out.push_str(&format!(
                "typed     {n} of {typed} typed operations are not served by this version \
                 (they fail with a \"not served\" error before sending):\n"
            ));
            for op in caps["typed_not_served"].as_array().into_iter().flatten() {
                out.push_str(&format!("            {}\n", s(op)));
            }
        }
        None => out.push_str(&format!(
            "typed     {typed} typed operations; the census has not read this version \
             (it knows {}), so none is refused in advance\n",
            caps["census_versions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(s)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    for (label, key) in [
        ("organizations", "organizations"),
        ("workflows", "workflows"),
        ("Admin API v2 (clients)", "admin_api_v2_clients"),
        (
            "fine-grained admin permissions v2",
            "fine_grained_admin_permissions_v2",
        ),
    ] {
        out.push_str(&format!("          {label}: {}\n", yes_no(&caps[key])));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(version: &str) -> Value {
        json!({
            "systemInfo": {"version": version},
            "profileInfo": {"name": "default", "disabledFeatures": ["SCIM_API"]},
            "features": [
                {"name": "ORGANIZATION", "enabled": true},
                {"name": "WORKFLOWS", "enabled": false},
            ],
        })
    }

    #[test]
    fn an_older_known_version_lists_what_it_lacks() {
        let doc = report("http://kc", &info("26.4.7")).unwrap();
        let caps = &doc["capabilities"];
        assert!(caps["typed_not_served_count"].as_u64().unwrap() > 0);
        assert_eq!(caps["organizations"], true);
        assert_eq!(caps["workflows"], false);
        let t = text(&doc);
        assert!(t.contains("Keycloak 26.4.7 at http://kc"), "{t}");
        assert!(t.contains("organizations/{org-id}/groups"), "{t}");
    }

    #[test]
    fn an_unknown_version_refuses_nothing() {
        let doc = report("http://kc", &info("99.0.0")).unwrap();
        assert_eq!(doc["capabilities"]["census_knows_version"], false);
        assert!(doc["capabilities"]["typed_not_served_count"].is_null());
        assert!(text(&doc).contains("none is refused in advance"));
    }

    #[test]
    fn a_server_info_without_version_is_an_error() {
        assert!(report("http://kc", &json!({})).is_err());
    }
}
