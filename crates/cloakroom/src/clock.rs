//! The one clock type of the crate. The [`ClientBuilder`](crate::ClientBuilder) holds it and every
//! handle made from the client (token manager, OIDC, UMA, verifiers) reads the same one.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A function telling the current time (injectable so expiry and polling tests are instant).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system clock.
pub(crate) fn system() -> Clock {
    Arc::new(SystemTime::now)
}

/// Seconds since the Unix epoch (negative before it).
pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}
