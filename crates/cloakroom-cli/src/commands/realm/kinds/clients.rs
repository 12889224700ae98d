//! Clients, by clientId, with their protocol mappers and default/optional client scopes (their
//! authorization settings come last, once users and groups exist: see `authz`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::doc::names;
use super::super::plan::{Action, Change, Op, Path, Seg};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed, mappers, simple};
use crate::exit::CliResult;

pub struct Clients;

/// Parts of a client written through their own endpoints.
const SEPARATE: &[&str] = &[
    "protocolMappers",
    "defaultClientScopes",
    "optionalClientScopes",
    "authorizationSettings",
];

impl Kind for Clients {
    const NAME: &'static str = "clients";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let list = live.client_list().await?;
        let mut out = Vec::new();
        for mut c in list {
            // The secret stays (a document's secret compares with it; a masked one never
            // differs); authorization settings are compared by `authz`.
            if let Some(m) = c.as_object_mut() {
                m.remove("registrationAccessToken");
            }
            super::super::snapshot::strip(&mut c);
            out.push(c);
        }
        Ok(keyed(out, "clientId"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        let settings = &cx.desired["realm"]["settings"];
        for (cid, d) in &cx.desired["clients"] {
            let item = Path::lit("/clients/").seg(Seg::Client(cid.clone()));
            let l = live.get(cid);
            let d = &as_imported(d, l, settings, &cx.desired["clientScopes"]);
            let skip: &[&str] = if l.is_some() {
                SEPARATE
            } else {
                &["authorizationSettings"]
            };
            let mut c = simple(
                Self::NAME,
                cid,
                d,
                l,
                skip,
                Path::lit("/clients"),
                item.clone(),
            );
            if l.is_none() {
                c = c.op(backchannel_again(&item, d));
            }
            mappers::plan(&mut c, &item, d, l);
            scopes(&mut c, cid, d, l);
            out.push(c);
        }
        Ok(out)
    }
}

/// Attribute Keycloak's importer gives a client whose document does not set it: `+` (post-logout
/// redirects allowed to the client's redirect URIs).
const POST_LOGOUT: &str = "post.logout.redirect.uris";

/// Attribute the server manages.
const REALM_CLIENT: &str = "realm_client";

/// Boolean attributes that are false when unset (Keycloak reads them with
/// `Boolean.parseBoolean`) but that its Admin API sets on every client it creates.
const BACKCHANNEL_OFF: &[&str] = &[
    "backchannel.logout.session.required",
    "backchannel.logout.revoke.offline.tokens",
];

/// The client as Keycloak's importer reads it:
/// - a new client without `post.logout.redirect.uris` gets `+`;
/// - a new client without its own default/optional client scopes gets the document's realm
///   defaults (`defaultDefaultClientScopes` / `defaultOptionalClientScopes`), as the importer
///   does, not the live realm's (which are written later and may still be the built-in set);
///   a client with a service account also keeps `service_account` if the document defines it.
fn as_imported(
    d: &Value,
    live: Option<&Value>,
    settings: &Value,
    doc_scopes: &BTreeMap<String, Value>,
) -> Value {
    let mut d = d.clone();
    let Some(m) = d.as_object_mut() else {
        return d;
    };
    // Keycloak decides this one itself (true for the clients that hold a realm's admin roles);
    // an export taken before that carries "false".
    if let Some(Value::Object(a)) = m.get_mut("attributes") {
        a.remove(REALM_CLIENT);
    }
    // Only for a new client: an existing one that lacks the attribute (Keycloak's own built-in
    // clients do) would otherwise be updated by every apply of its own export.
    if live.is_none() {
        let attrs = m
            .entry("attributes")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(a) = attrs.as_object_mut() {
            a.entry(POST_LOGOUT)
                .or_insert_with(|| Value::String("+".into()));
            // The Admin API turns these on for a new client; the importer leaves them unset,
            // which Keycloak reads as false.
            for k in BACKCHANNEL_OFF {
                a.entry(*k).or_insert_with(|| Value::String("false".into()));
            }
        }
    }
    if live.is_none() {
        let sa = m.get("serviceAccountsEnabled") == Some(&Value::Bool(true))
            && doc_scopes.contains_key("service_account");
        for (field, realm_field) in [
            ("defaultClientScopes", "defaultDefaultClientScopes"),
            ("optionalClientScopes", "defaultOptionalClientScopes"),
        ] {
            if m.contains_key(field) {
                continue;
            }
            let Some(Value::Array(names)) = settings.get(realm_field) else {
                continue;
            };
            let mut names = names.clone();
            if sa && field == "defaultClientScopes" {
                names.push(Value::String("service_account".into()));
            }
            m.insert(field.to_owned(), Value::Array(names));
        }
    }
    d
}

/// Keycloak turns `backchannel.logout.session.required` on while it creates a client with a
/// service account or authorization services, whatever the body says; a second write right
/// after the creation sets both backchannel attributes as the (importer-read) document has them.
fn backchannel_again(item: &Path, d: &Value) -> Op {
    let attrs: serde_json::Map<String, Value> = BACKCHANNEL_OFF
        .iter()
        .filter_map(|k| Some(((*k).to_owned(), d["attributes"].get(*k)?.clone())))
        .collect();
    Op::Patch {
        path: item.clone(),
        patch: serde_json::json!({ "attributes": attrs }),
    }
}

/// Default and optional client scopes, by name, made exactly the document's.
fn scopes(change: &mut Change, cid: &str, d: &Value, live: Option<&Value>) {
    for (field, kind) in [
        ("defaultClientScopes", "default"),
        ("optionalClientScopes", "optional"),
    ] {
        let Some(want) = d.get(field) else {
            continue;
        };
        let want = names(Some(want));
        let have = names(live.and_then(|l| l.get(field)));
        if live.is_some() && want == have {
            continue;
        }
        let mut fields = Vec::new();
        if live.is_some() {
            fields.extend(want.difference(&have).map(|n| format!("{field} + {n}")));
            fields.extend(have.difference(&want).map(|n| format!("{field} - {n}")));
        }
        change.absorb(
            Change::new(Clients::NAME, cid, Action::Update)
                .fields(fields)
                .op(Op::ClientScopes {
                    client: cid.to_owned(),
                    kind,
                    want: want.into_iter().collect(),
                }),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_new_client_is_read_as_the_importer_does() {
        let settings = json!({"defaultDefaultClientScopes": ["profile"],
            "defaultOptionalClientScopes": ["store"]});
        let scopes = BTreeMap::from([("service_account".to_owned(), json!({}))]);
        let d = json!({"clientId": "api", "serviceAccountsEnabled": true});
        let got = as_imported(&d, None, &settings, &scopes);
        assert_eq!(got["attributes"][POST_LOGOUT], "+");
        assert_eq!(got["attributes"][BACKCHANNEL_OFF[0]], "false");
        assert_eq!(
            got["defaultClientScopes"],
            json!(["profile", "service_account"])
        );
        assert_eq!(got["optionalClientScopes"], json!(["store"]));
    }

    #[test]
    fn an_existing_client_and_explicit_values_are_left_alone() {
        let settings = json!({"defaultDefaultClientScopes": ["profile"]});
        let scopes = BTreeMap::new();
        let d = json!({"clientId": "api", "defaultClientScopes": ["email"],
            "attributes": {"post.logout.redirect.uris": "https://x/*",
                "backchannel.logout.session.required": "true",
                "backchannel.logout.revoke.offline.tokens": "true"}});
        let got = as_imported(&d, None, &settings, &scopes);
        assert_eq!(got, d);
        let bare = json!({"clientId": "api"});
        let live = json!({"clientId": "api", "attributes": {}});
        assert_eq!(as_imported(&bare, Some(&live), &settings, &scopes), bare);
    }
}
