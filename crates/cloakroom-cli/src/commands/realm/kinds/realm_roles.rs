//! Realm roles (their composites come later, once every role exists).

use cloakroom::request::encode_segment;

use super::super::plan::{Change, Path};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, simple};
use crate::exit::CliResult;

pub struct RealmRoles;

pub const ROLE_SKIP: &[&str] = &["composites", "composite", "clientRole"];

impl Kind for RealmRoles {
    const NAME: &'static str = "roles";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        let clients = live.client_list().await?;
        let doc = live.roles_doc(&clients).await?;
        Ok(super::super::doc::sections(&serde_json::json!({ "roles": doc }))["roles"].clone())
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (key, d) in cx.desired["roles"].iter() {
            let Some(name) = key.strip_prefix("realm/") else {
                continue;
            };
            out.push(simple(
                Self::NAME,
                key,
                d,
                live.get(key),
                ROLE_SKIP,
                Path::lit("/roles"),
                Path::lit(format!("/roles/{}", encode_segment(name))),
            ));
        }
        Ok(out)
    }
}
