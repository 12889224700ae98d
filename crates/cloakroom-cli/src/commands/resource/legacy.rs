//! LEGACY: the raw-path paging helpers `commands/realm/*` and `commands/dev.rs` still import.
//! The resource commands no longer use them; delete this file once those modules reach the
//! server through the library's typed handles (issue 14 item 2).

use cloakroom::Client;
use cloakroom::request::encode_segment;
use serde_json::Value;

use crate::exit::{CliError, CliResult};

pub use cloakroom::admin::merge_patch;

/// Items per page when listing.
pub const PAGE: usize = 100;

pub fn realm_base(realm: &str) -> String {
    format!("/admin/realms/{}", encode_segment(realm))
}

/// Fetches every page of a `first`/`max` listing (or up to `limit` items), calling `f` per page.
pub async fn for_each_page(
    kc: &Client,
    path: &str,
    query: &[(String, String)],
    page_size: usize,
    limit: Option<usize>,
    mut f: impl FnMut(Vec<Value>) -> CliResult,
) -> CliResult<usize> {
    let page_size = page_size.max(1);
    let mut first = 0usize;
    let mut seen = 0usize;
    let mut previous_head: Option<Value> = None;
    loop {
        let want = match limit {
            Some(l) if l <= seen => break,
            Some(l) => page_size.min(l - seen),
            None => page_size,
        };
        let mut call = kc.raw().get(path).query("first", first).query("max", want);
        for (k, v) in query {
            call = call.query(k, v);
        }
        let page: Value = call.send_json().await?;
        let Value::Array(items) = page else {
            return Err(CliError::server(format!(
                "expected a list from GET {path}, got something else"
            )));
        };
        let n = items.len();
        if n == 0 {
            break;
        }
        let head = items.first().cloned();
        if first > 0 && head == previous_head {
            tracing::warn!(path, "the server ignored paging; stopping after one page");
            break;
        }
        previous_head = head;
        seen += n;
        f(items)?;
        if n < want {
            break;
        }
        first += n;
    }
    Ok(seen)
}

pub async fn list_all(
    kc: &Client,
    path: &str,
    query: &[(String, String)],
    limit: Option<usize>,
) -> CliResult<Vec<Value>> {
    let mut all = Vec::new();
    for_each_page(kc, path, query, PAGE, limit, |items| {
        all.extend(items);
        Ok(())
    })
    .await?;
    Ok(all)
}
