//! When a call is sent again.
//!
//! Only calls that are safe to repeat are retried: GET, PUT, DELETE, HEAD and OPTIONS, plus a
//! POST the caller explicitly marked with [`Request::retry_post`](crate::request::Request::retry_post).
//! They are retried after a transport failure (connection refused or reset, timeout) and after
//! 429, 502, 503 or 504, with capped exponential backoff and full jitter; a `Retry-After` in
//! seconds from the server is honoured up to the policy's maximum delay. Creates (POST) are never
//! resent on their own: a lost answer could otherwise create the same user twice.

use std::time::Duration;

use rand::Rng;

/// How often and how patiently idempotent calls are retried.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: u32,
    /// Backoff before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound for one backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// A policy with `max_retries` retries and the default delays.
    pub fn with_max_retries(max_retries: u32) -> Self {
        Self {
            max_retries,
            ..Self::default()
        }
    }

    /// Sets the delays.
    pub fn delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max;
        self
    }

    /// The wait before retry number `attempt + 1`: uniform in `[0, min(max, base * 2^attempt)]`.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let nanos = cap.as_nanos().min(u64::MAX as u128) as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 0..40 {
            assert!(p.backoff(attempt) <= p.max_delay);
        }
        assert!(p.backoff(0) <= Duration::from_millis(100));
        assert_eq!(RetryPolicy::none().max_retries, 0);
    }
}
