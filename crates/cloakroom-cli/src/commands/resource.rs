//! `get|create|update|delete <resource>`.

use super::Ctx;
use crate::cli::{CreateArgs, DeleteArgs, GetArgs, UpdateArgs};
use crate::exit::{CliError, CliResult};

pub async fn get(_ctx: &Ctx, _a: GetArgs) -> CliResult {
    Err(CliError::other("not implemented yet"))
}
pub async fn create(_ctx: &Ctx, _a: CreateArgs) -> CliResult {
    Err(CliError::other("not implemented yet"))
}
pub async fn update(_ctx: &Ctx, _a: UpdateArgs) -> CliResult {
    Err(CliError::other("not implemented yet"))
}
pub async fn delete(_ctx: &Ctx, _a: DeleteArgs) -> CliResult {
    Err(CliError::other("not implemented yet"))
}
