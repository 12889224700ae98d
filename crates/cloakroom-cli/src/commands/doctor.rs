//! `cloakroom doctor`: can cloakroom work with this server, and with what.
//!
//! It logs in with the usual profile and flags (a typed error and its documented exit code
//! when the server cannot be reached, 6, or refuses the login, 3), reads the server info, and
//! reports what `cloakroom version` reports (the server's version and enabled features, from
//! [`super::version`]) followed by a yes/no list of cloakroom capabilities on this server: the
//! features they need (from the server info) and the operations they use (from the
//! served-surface census, the library's `server_version`). Exit 0 whenever the server answered,
//! whatever the answers are.

use cloakroom::generated::catalog::{OPERATIONS, OperationInfo};
use cloakroom::request::Method;
use cloakroom::server_version;
use serde_json::{Value, json};

use super::{Ctx, version};
use crate::cli::OutputFormat;
use crate::exit::{CliResult, Code};
use crate::output::write_stdout;

pub async fn run(ctx: &Ctx) -> CliResult {
    let settings = ctx.settings()?;
    let server = settings.server()?.to_owned();
    let what = |e: crate::exit::CliError| match e.code {
        Code::Server => e.context(format!("cannot reach Keycloak at {server}")),
        Code::Auth => e.context(format!("cannot log in to Keycloak at {server}")),
        _ => e.context(format!("doctor: {server}")),
    };
    // Logging in is the first request: the token endpoint answers, or says why not.
    let (kc, settings) = ctx.admin().await.map_err(what)?;
    let info = version::server_info(&kc).await.map_err(what)?;
    let login = json!({
        "ok": true,
        "auth_realm": settings.auth_realm,
        "client_id": settings.client_id,
        "grant": settings.grant().as_str(),
        "user": settings.user,
    });
    let doc = report(version::report(kc.base_url(), &info)?, login);
    match ctx.out.format {
        OutputFormat::Json | OutputFormat::Yaml => ctx.out.print(&doc, &[]),
        OutputFormat::Table | OutputFormat::Csv => {
            if ctx.out.quiet {
                return Ok(());
            }
            write_stdout(text(&doc).as_bytes())
        }
    }
}

/// A capability: what it needs of the server.
struct Need {
    id: &'static str,
    label: &'static str,
    /// The server-info feature name and the `--features` flag that turns it on.
    feature: Option<(&'static str, &'static str)>,
    /// The typed operations it uses, by handle (without `Handle`).
    handles: &'static [&'static str],
    note: &'static str,
}

const NEEDS: &[Need] = &[
    Need {
        id: "admin_api_v2_clients",
        label: "Admin API v2 clients",
        feature: Some(("CLIENT_ADMIN_API_V2", "client-admin-api:v2")),
        handles: &["ClientsV2"],
        note: "kc.realm(r).clients_v2()",
    },
    Need {
        id: "organizations",
        label: "organizations",
        feature: Some(("ORGANIZATION", "organization")),
        handles: &["Organizations", "Organization", "OrganizationGroup"],
        note: "each realm also needs organizationsEnabled",
    },
    Need {
        id: "fine_grained_admin_permissions_v2",
        label: "fine-grained admin permissions v2",
        feature: Some(("ADMIN_FINE_GRAINED_AUTHZ_V2", "admin-fine-grained-authz:v2")),
        handles: &[],
        note: "each realm also needs adminPermissionsEnabled",
    },
    Need {
        id: "user_profile",
        label: "user profile",
        feature: None,
        handles: &["UserProfile"],
        note: "kc.realm(r).user_profile()",
    },
    Need {
        id: "console_role_mappings",
        label: "console role-mapping endpoints",
        feature: None,
        handles: &["RoleMappingsUi"],
        note: "effective/available client roles: kc.realm(r).role_mappings_ui()",
    },
    Need {
        id: "workflows",
        label: "workflows",
        feature: Some(("WORKFLOWS", "workflows")),
        handles: &["Workflows", "Workflow"],
        note: "kc.realm(r).workflows()",
    },
];

/// What the census says of `ops` on `version`: `None` when it has not read that version, else
/// the operations it does not serve.
fn not_served<'a>(version: &str, ops: &[&'a OperationInfo]) -> Option<Vec<&'a OperationInfo>> {
    let mut out = Vec::new();
    for op in ops {
        let Ok(m) = op.method.parse::<Method>() else {
            continue;
        };
        match server_version::serves(version, m, op.path) {
            None if !server_version::known_versions().contains(&version) => return None,
            Some(false) => out.push(*op),
            _ => {}
        }
    }
    Some(out)
}

fn op_line(op: &OperationInfo) -> String {
    format!("{} {}", op.method, op.path)
}

fn capability(need: &Need, version: &str, enabled: &[String]) -> Value {
    let ops: Vec<&OperationInfo> = OPERATIONS
        .iter()
        .filter(|op| need.handles.contains(&op.handle))
        .collect();
    let feature_on = need
        .feature
        .map(|(name, _)| enabled.iter().any(|f| f == name));
    let lacking = not_served(version, &ops);
    let (available, mut detail) = match (feature_on, &lacking) {
        (Some(false), _) => (
            Some(false),
            format!(
                "feature {} is off (start Keycloak with --features={})",
                need.feature.map(|f| f.1).unwrap_or(""),
                need.feature.map(|f| f.1).unwrap_or("")
            ),
        ),
        (_, Some(l)) if !l.is_empty() => (
            Some(false),
            format!(
                "{} of its {} operations are not served by Keycloak {version}: {}",
                l.len(),
                ops.len(),
                l.iter().map(|o| op_line(o)).collect::<Vec<_>>().join(", ")
            ),
        ),
        (_, None) if !ops.is_empty() => (
            None,
            format!(
                "the census has not read Keycloak {version}: cloakroom sends the calls and the server decides"
            ),
        ),
        (on, _) => (
            Some(true),
            match (on, ops.len()) {
                (Some(true), 0) => {
                    format!("feature {} is on", need.feature.map(|f| f.1).unwrap_or(""))
                }
                (Some(true), n) => format!(
                    "feature {} is on; all {n} operations served",
                    need.feature.map(|f| f.1).unwrap_or("")
                ),
                (_, n) => format!("all {n} operations served"),
            },
        ),
    };
    detail.push_str(&format!(" ({})", need.note));
    json!({
        "id": need.id,
        "label": need.label,
        "available": available,
        "feature": need.feature.map(|f| f.1),
        "operations": ops.len(),
        "not_served": lacking.map(|l| l.iter().map(|o| op_line(o)).collect::<Vec<_>>()),
        "detail": detail,
    })
}

/// The doctor's document: `version`'s report (`doc`) with how it logged in and the capability
/// list in place of `version`'s capability flags.
pub fn report(mut doc: Value, login: Value) -> Value {
    let version = doc["server"]["version"].as_str().unwrap_or("").to_owned();
    let enabled: Vec<String> = doc["features"]["enabled"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_owned))
        .collect();
    let mut caps: Vec<Value> = NEEDS
        .iter()
        .map(|n| capability(n, &version, &enabled))
        .collect();
    // The operations cloakroom types that this version does not serve (cloakroom refuses them
    // with Error::NotServed before sending). All typed operations are served by 26.7.3.
    let typed = &doc["capabilities"];
    let total = typed["typed_operations"].as_u64().unwrap_or(0);
    let (available, mut detail) = match typed["typed_not_served_count"].as_u64() {
        Some(0) => (
            Some(true),
            format!("all {total} typed operations are served by Keycloak {version}"),
        ),
        Some(n) => (
            Some(false),
            format!(
                "{n} of {total} typed operations (all served by 26.7.3) are not served by \
                 Keycloak {version}; cloakroom refuses them with Error::NotServed before sending"
            ),
        ),
        None => (
            None,
            format!(
                "the census has not read Keycloak {version} (it knows {}): nothing is refused in advance",
                server_version::known_versions().join(", ")
            ),
        ),
    };
    // Typed or not: the admin endpoints another version the census read serves and this one
    // does not (on 26.7.3, the 26.5.6 spelling of the v2 client paths).
    let elsewhere = server_version::not_served_count(&version, "/admin/");
    if let Some(n) = elsewhere.filter(|n| *n > 0) {
        detail.push_str(&format!(
            " (the census lists {n} admin endpoints another known version serves and this one does not)"
        ));
    }
    caps.push(json!({
        "id": "typed_operations_served",
        "label": "every typed operation served",
        "available": available,
        "operations": total,
        "not_served": typed["typed_not_served"],
        "admin_endpoints_only_other_versions_serve": elsewhere,
        "detail": detail,
    }));
    doc["login"] = login;
    doc["capabilities"] = Value::Array(caps);
    doc
}

fn yes_no(v: &Value) -> &'static str {
    match v.as_bool() {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// The human-readable report.
pub fn text(doc: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let login = &doc["login"];
    let who = match login["user"].as_str() {
        Some(u) => format!("user {u}"),
        None => format!("client {}", s(&login["client_id"])),
    };
    let mut out = version::header(doc);
    out.push_str(&format!(
        "login     yes: {} grant as {who} in realm {} (client {})\n",
        s(&login["grant"]),
        s(&login["auth_realm"]),
        s(&login["client_id"]),
    ));
    out.push_str("capabilities\n");
    let caps = doc["capabilities"].as_array().cloned().unwrap_or_default();
    let width = caps.iter().map(|c| s(&c["label"]).len()).max().unwrap_or(0);
    for c in &caps {
        out.push_str(&format!(
            "  {:<7} {:<width$}  {}\n",
            yes_no(&c["available"]),
            s(&c["label"]),
            s(&c["detail"]),
        ));
        if c["available"] == false {
            for op in c["not_served"].as_array().into_iter().flatten() {
                out.push_str(&format!("            not served: {}\n", s(op)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(version: &str, features: &[(&str, bool)]) -> Value {
        json!({
            "systemInfo": {"version": version},
            "profileInfo": {"name": "default", "disabledFeatures": []},
            "features": features
                .iter()
                .map(|(n, on)| json!({"name": n, "enabled": on}))
                .collect::<Vec<_>>(),
        })
    }

    fn doctor(version: &str, features: &[(&str, bool)]) -> Value {
        let i = info(version, features);
        let login = json!({"ok": true, "auth_realm": "master", "client_id": "admin-cli",
                           "grant": "password", "user": "admin"});
        report(version::report("http://kc", &i).unwrap(), login)
    }

    fn cap<'a>(doc: &'a Value, id: &str) -> &'a Value {
        doc["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {doc:#}"))
    }

    #[test]
    fn features_and_the_census_decide_each_capability() {
        let doc = doctor(
            "26.7.3",
            &[
                ("CLIENT_ADMIN_API_V2", true),
                ("ORGANIZATION", true),
                ("ADMIN_FINE_GRAINED_AUTHZ_V2", false),
                ("WORKFLOWS", true),
            ],
        );
        assert_eq!(cap(&doc, "admin_api_v2_clients")["available"], true);
        assert_eq!(cap(&doc, "organizations")["available"], true);
        let fgap = cap(&doc, "fine_grained_admin_permissions_v2");
        assert_eq!(fgap["available"], false);
        assert!(
            fgap["detail"]
                .as_str()
                .unwrap()
                .contains("--features=admin-fine-grained-authz:v2"),
            "{fgap}"
        );
        assert_eq!(cap(&doc, "user_profile")["available"], true);
        let ui = cap(&doc, "console_role_mappings");
        assert_eq!(ui["available"], true);
        assert_eq!(ui["operations"], 10);
        assert_eq!(cap(&doc, "typed_operations_served")["available"], true);
        let t = text(&doc);
        assert!(
            t.contains("login     yes: password grant as user admin"),
            "{t}"
        );
        assert!(
            t.contains("  no      fine-grained admin permissions v2"),
            "{t}"
        );
        assert!(
            t.contains("  yes     console role-mapping endpoints"),
            "{t}"
        );
    }

    #[test]
    fn an_older_version_lacks_operations_even_with_the_feature_on() {
        let doc = doctor(
            "26.4.7",
            &[("ORGANIZATION", true), ("CLIENT_ADMIN_API_V2", true)],
        );
        let orgs = cap(&doc, "organizations");
        assert_eq!(orgs["available"], false, "{orgs}");
        assert!(
            orgs["not_served"].as_array().unwrap().iter().any(|o| o
                .as_str()
                .unwrap()
                .contains("/organizations/{org-id}/groups")),
            "{orgs}"
        );
        // 26.4.7 has no v2 client endpoints at the path cloakroom types.
        assert_eq!(cap(&doc, "admin_api_v2_clients")["available"], false);
        assert_eq!(cap(&doc, "typed_operations_served")["available"], false);
        assert!(text(&doc).contains("not served: GET /admin/realms/{realm}/organizations/"));
    }

    #[test]
    fn an_unknown_version_is_unknown_not_no() {
        let doc = doctor("99.0.0", &[("CLIENT_ADMIN_API_V2", false)]);
        assert!(cap(&doc, "user_profile")["available"].is_null());
        assert!(cap(&doc, "typed_operations_served")["available"].is_null());
        // A feature that is off is off whatever the version.
        assert_eq!(cap(&doc, "admin_api_v2_clients")["available"], false);
        assert!(text(&doc).contains("  unknown user profile"));
    }
}
