//! Protocol mappers of a client or client scope, matched by name.

use serde_json::Value;

use super::super::doc::{changed_fields, same};
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
                // A mapper's config is exactly the document's.
                let mut f = changed_fields(&m2, l, "", &["config"]);
                if m.get("config").is_some_and(|c| !same(c, &l["config"])) {
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
