//! Protocol mappers of a client or client scope, matched by name. Config keys the document
//! leaves out are the server's to fill.

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
                // Only the config keys the document states are compared: Keycloak fills in
                // defaults for the others (`userinfo.token.claim`, `introspection.token.claim`,
                // depending on the mapper type and on how it was created), so comparing the
                // whole config would want to write every mapper on every run. A write sends the
                // document's config as it is.
                let f = changed_fields(&m2, l, "", &[]);
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
