//! The realm's own settings, through the realm's PUT (flow bindings included: flows exist by
//! the time this runs). Only changed top-level keys are sent; `attributes` are merged key by key
//! (exactly the document's with `--exact-attributes`).

use serde_json::{Map, Value};

use super::super::doc::changed_fields;
use super::super::plan::{Action, Change, Op, Path, Verb};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

/// Created by Keycloak's import, which carries every realm key: nothing is unsupported then.
pub struct RealmSettings {
    pub imported: bool,
}

/// Settings applied by another kind.
pub const ELSEWHERE: &[&str] = &[
    "localizationTexts",
    "requiredActions",
    "components",
    "scopeMappings",
    "clientScopeMappings",
    "defaultGroups",
    "defaultDefaultClientScopes",
    "defaultOptionalClientScopes",
];

/// Keys that are not settings to compare: server-assigned, or carried by the roles.
const IGNORED: &[&str] = &["id", "keycloakVersion", "defaultRole", "notBefore"];

/// Keys the realm PUT does not apply and apply does not carry yet.
pub const UNSUPPORTED: &[&str] = &[
    "federatedUsers",
    "applications",
    "oauthClients",
    "clientTemplates",
    "applicationScopeMappings",
];

impl Kind for RealmSettings {
    const NAME: &'static str = "realm";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let s = live.realm_settings().await?;
        Ok(Keyed::from([(cx.realm.to_owned(), Value::Object(s))]))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let settings = &cx.desired["realm"]["settings"];
        let empty = Value::Object(Map::new());
        let l = live.get(cx.realm).unwrap_or(&empty);
        let skip: Vec<&str> = [ELSEWHERE, IGNORED, UNSUPPORTED].concat();
        let mut fields = changed_fields(settings, l, "", &skip);
        let removed = if cx.exact_attributes {
            not_named(settings, l)
        } else {
            Vec::new()
        };
        fields.extend(removed.iter().map(|k| format!("attributes.{k}: removed")));
        let mut c = Change::new(Self::NAME, cx.realm, Action::Unchanged);
        let unsupported: Vec<String> = UNSUPPORTED
            .iter()
            .filter(|k| !self.imported && settings.get(**k).is_some_and(is_set))
            .map(|k| format!("{k} (not carried by apply yet)"))
            .collect();
        c = c.unsupported(unsupported);
        if fields.is_empty() {
            return Ok(vec![c]);
        }
        let mut body = Map::new();
        if let Value::Object(s) = settings {
            for (k, v) in s {
                if fields
                    .iter()
                    .any(|f| f == k || f.starts_with(&format!("{k}.")))
                {
                    body.insert(k.clone(), v.clone());
                }
            }
        }
        // The realm PUT replaces the attributes: send the live ones the document does not name
        // along (all of them, or with --exact-attributes only Keycloak's own).
        if body.contains_key("attributes") || !removed.is_empty() {
            let mut merged = l["attributes"].as_object().cloned().unwrap_or_default();
            merged.retain(|k, _| !removed.contains(k));
            if let Some(Value::Object(d)) = settings.get("attributes") {
                merged.extend(d.clone());
            }
            body.insert("attributes".into(), Value::Object(merged));
        }
        c.action = Action::Update;
        c.fields = fields;
        Ok(vec![c.op(Op::send(
            Verb::Put,
            Path::default(),
            Some(Value::Object(body)),
        ))])
    }
}

/// Realm attributes Keycloak keeps for settings of its own (CIBA, device grant, PAR, the OTP
/// policy's `otpPolicyCodeReusable`): never removed by `--exact-attributes`, as are attributes
/// that mirror a top-level setting of the same name.
const OWN_ATTRIBUTE_PREFIXES: &[&str] = &[
    "ciba",
    "oauth2Device",
    "parRequestUri",
    "realmReusableOtpCode",
];

/// The live attributes the document does not name, that `--exact-attributes` removes.
fn not_named(settings: &Value, live: &Value) -> Vec<String> {
    let want = settings["attributes"].as_object();
    live["attributes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !want.is_some_and(|w| w.contains_key(*k)))
        .filter(|k| live.get(k.as_str()).is_none())
        .filter(|k| !OWN_ATTRIBUTE_PREFIXES.iter().any(|p| k.starts_with(p)))
        .cloned()
        .collect()
}

/// Whether a value says something (not null, not an empty list or object).
fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}
