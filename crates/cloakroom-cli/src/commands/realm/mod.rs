//! `cloakroom realm export|apply|diff`.
//!
//! The realm document is Keycloak's own realm-representation shape (`realm`, `roles`, `groups`,
//! `clients`, `clientScopes`, `identityProviders`, `identityProviderMappers`,
//! `authenticationFlows`, `authenticatorConfig`, `users`), with the ids the server assigns left
//! out: objects are matched by their natural keys (username, clientId, group path, role name,
//! alias), so a document applies to any realm and compares across realms.

mod apply;
mod diff;
mod doc;
mod execute;
mod export;
mod flow_write;
#[cfg(test)]
mod fuzz;
mod kinds;
mod ops;
mod plan;
mod prune;
mod resolve;
mod session;
mod snapshot;
mod snapshot_links;
mod source;

use super::Ctx;
use crate::cli::RealmCmd;
use crate::exit::CliResult;

pub async fn run(ctx: &Ctx, c: RealmCmd) -> CliResult {
    match c {
        RealmCmd::Export(a) => export::run(ctx, a).await,
        RealmCmd::Apply(a) => apply::run(ctx, a).await,
        RealmCmd::Diff(a) => diff::run(ctx, a).await,
    }
}
