//! `cloakroom token` (alias `login`).

use serde_json::json;

use super::Ctx;
use crate::auth::{Want, decode_jwt, now};
use crate::cli::{TokenArgs, TokenFormat};
use crate::exit::CliResult;
use crate::output::line;

pub async fn run(ctx: &Ctx, a: TokenArgs) -> CliResult {
    let auth = ctx.auth()?;
    // `token`/`login` is where a person logs in: device and browser logins may start here.
    auth.interactive
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let want = if a.fresh { Want::Fresh } else { Want::Any };
    let o = auth.token(want).await?;
    let e = &o.entry;
    match a.format {
        TokenFormat::Raw => line(&e.access_token),
        TokenFormat::Header => line(format!("Authorization: Bearer {}", e.access_token)),
        TokenFormat::Json => {
            let (header, claims) = decode_jwt(&e.access_token)
                .unwrap_or((serde_json::Value::Null, serde_json::Value::Null));
            let t = now();
            let v = json!({
                "access_token": e.access_token,
                "token_type": e.token_type,
                "scope": e.scope,
                "expires_at": e.expires_at,
                "expires_in": e.expires_at.map(|x| x.saturating_sub(t)),
                "refresh_expires_at": e.refresh_expires_at,
                "has_refresh_token": e.refresh_token.is_some(),
                "source": o.source.as_str(),
                "server": e.server,
                "auth_realm": e.auth_realm,
                "client_id": e.client_id,
                "grant": e.grant,
                "header_unverified": header,
                "claims_unverified": claims,
                "note": "header and claims are decoded locally and NOT verified",
            });
            line(serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()))
        }
    }
}
