//! Client scopes, by name, with their protocol mappers.

use super::super::plan::{Change, Path, Seg};
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind, keyed, mappers, simple};
use crate::exit::CliResult;

pub struct ClientScopes;

impl Kind for ClientScopes {
    const NAME: &'static str = "clientScopes";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        Ok(keyed(live.client_scopes().await?, "name"))
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let mut out = Vec::new();
        for (name, d) in &cx.desired["clientScopes"] {
            let item = Path::lit("/client-scopes/").seg(Seg::Scope(name.clone()));
            let l = live.get(name);
            let skip: &[&str] = if l.is_some() {
                &["protocolMappers"]
            } else {
                &[]
            };
            let mut c = simple(
                Self::NAME,
                name,
                d,
                l,
                skip,
                Path::lit("/client-scopes"),
                item.clone(),
            );
            mappers::plan(&mut c, &item, d, l);
            out.push(c);
        }
        Ok(out)
    }
}
