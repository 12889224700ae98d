//! `cloakroom dev up|down|status|init`.

use super::Ctx;
use crate::cli::DevCmd;
use crate::exit::{CliError, CliResult};

pub async fn run(_ctx: &Ctx, _c: DevCmd) -> CliResult {
    Err(CliError::other("not implemented yet"))
}
