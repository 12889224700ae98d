//! One file per kind of realm object. Each kind reads its live objects (keyed like the
//! document) and plans one [`Change`] per document object; the writes are data ([`Op`]) that
//! `execute` runs.

use std::collections::BTreeMap;

use serde_json::Value;

use super::doc::{Sections, changed_values, describe, without};
use super::plan::{Action, Change, Op, Path};
use super::snapshot::Live;
use crate::exit::CliResult;

pub mod authz;
pub mod client_roles;
pub mod client_scopes;
pub mod clients;
pub mod components;
pub mod composites;
pub mod flow_update;
pub mod flows;
pub mod groups;
pub mod identity_providers;
pub mod localization;
pub mod mappers;
pub mod organizations;
pub mod realm_links;
pub mod realm_roles;
pub mod realm_settings;
pub mod required_actions;
pub mod users;

/// Keyed objects of one kind.
pub type Keyed = BTreeMap<String, Value>;

/// What a kind plans against.
pub struct Cx<'a> {
    /// The whole document, by section.
    pub desired: &'a Sections,
    /// The realm's name.
    pub realm: &'a str,
    /// Set a user's password from the document on update too.
    pub reset_passwords: bool,
    /// Make the realm's attributes exactly the document's (default: merged key by key).
    pub exact_attributes: bool,
}

/// A kind of realm object.
pub trait Kind {
    /// A name for messages.
    const NAME: &'static str;
    /// The live objects, keyed like the document (nothing is read when the realm is absent).
    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed>;
    /// One change per document object of this kind.
    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, reader: &Live<'_>) -> CliResult<Vec<Change>>;
}

/// The usual plan of a flat object: created by POST to `create`, or patched at `item`.
pub fn simple(
    section: &str,
    key: &str,
    desired: &Value,
    live: Option<&Value>,
    skip: &[&str],
    create: Path,
    item: Path,
) -> Change {
    let body = without(desired, skip);
    match live {
        None => Change::new(section, key, Action::Create).op(Op::send(
            super::plan::Verb::Post,
            create,
            Some(body),
        )),
        Some(l) => {
            let fields = describe(&changed_values(&body, l, "", &[]));
            if fields.is_empty() {
                Change::new(section, key, Action::Unchanged)
            } else {
                Change::new(section, key, Action::Update)
                    .fields(fields)
                    .op(Op::Patch {
                        path: item,
                        patch: body,
                    })
            }
        }
    }
}

/// Keys a list of objects by a string field.
pub fn keyed(items: Vec<Value>, field: &str) -> Keyed {
    items
        .into_iter()
        .filter_map(|v| Some((v[field].as_str()?.to_owned(), v)))
        .collect()
}
