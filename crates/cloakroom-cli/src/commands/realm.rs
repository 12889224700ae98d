//! `cloakroom realm export|apply|diff`.

use super::Ctx;
use crate::cli::RealmCmd;
use crate::exit::{CliError, CliResult};

pub async fn run(_ctx: &Ctx, _c: RealmCmd) -> CliResult {
    Err(CliError::other("not implemented yet"))
}
