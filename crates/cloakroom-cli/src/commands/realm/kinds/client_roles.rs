//! Client roles, planned after the clients exist (Keycloak adds some itself, such as
//! `uma_protection` when authorization services are switched on).

use cloakroom::request::encode_segment;

use super::super::plan::{Change, Path, Seg};
use super::super::snapshot::Live;
use super::realm_roles::{ROLE_SKIP, RealmRoles};
use super::{Cx, Keyed, Kind, simple};
use crate::exit::CliResult;

pub struct ClientRoles;

impl Kind for ClientRoles {
    const NAME: &'static str = "roles";

    async fn read_live(&self, cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        RealmRoles.read_live(cx, live).await
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (key, d) in cx.desired["roles"].iter() {
            let Some((cid, name)) = key
                .strip_prefix("client/")
                .and_then(|rest| rest.rsplit_once('/'))
            else {
                continue;
            };
            let base = Path::lit("/clients/").seg(Seg::Client(cid.to_owned()));
            out.push(simple(
                Self::NAME,
                key,
                d,
                live.get(key),
                ROLE_SKIP,
                base.clone().then("/roles"),
                base.then(format!("/roles/{}", encode_segment(name))),
            ));
        }
        Ok(out)
    }
}
