//! Protocol mappers of a client or client scope, matched by name; a mapper's config is made the
//! document's.

use serde_json::Value;

use super::super::doc::changed_fields;
use super::super::plan::{Change, Op, Path};

/// Adds to `change` a write per document mapper that is missing or differs under `owner`.
pub fn plan(change: &mut Change, owner: &Path, desired: &Value, live: Option<&Value>) {
    let Some(want) = desired.get("protocolMappers").and_then(Value::as_array) else {
        return;
    };
    let Some(live) = live else {
        // Created with the object itself.
        return;
    };
    let have = live["protocolMappers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for m in want {
        let name = m["name"].as_str().unwrap_or("");
        let field = match have.iter().find(|l| l["name"] == name) {
            None => format!("protocol mapper `{name}` added"),
            Some(l) => {
                let mut m2 = m.clone();
                if let Some(o) = m2.as_object_mut() {
                    o.remove("id");
                }
                // A mapper's config is the document's: a key the server has beyond it counts,
                // except one set to "false", which Keycloak reads as unset (its Admin API adds
                // `userinfo.token.claim: false` to some mappers on its own, so comparing those
                // would want to write the mapper on every run).
                let mut f = changed_fields(&m2, l, "", &[]);
                let extra = l["config"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(k, v)| m["config"].get(k).is_none() && v != "false");
                if extra && !f.iter().any(|x| x.starts_with("config")) {
                    f.push("config".into());
                }
                if f.is_empty() {
                    continue;
                }
                format!("protocol mapper `{name}`: {}", f.join(", "))
            }
        };
        change.absorb(
            Change::new(
                &change.section,
                &change.key,
                super::super::plan::Action::Update,
            )
            .fields(vec![field])
            .op(Op::Named {
                list: owner.clone().then("/protocol-mappers/models"),
                name: name.to_owned(),
                body: m.clone(),
            }),
        );
    }
}
