//! A string that never shows itself by accident.

use std::fmt;

/// A secret value: a password, client secret, OTP code or token.
///
/// `Debug` prints `Secret([redacted])`; there is no `Display` and no `Serialize`. Reading the
/// value takes an explicit [`Secret::expose_secret`] call, which is easy to find in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().into_boxed_str())
    }

    /// The secret itself. Call it only where the value must leave the process (a request body).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(
            format!("{:#?}", Some(&s)),
            "Some(\n    Secret([redacted]),\n)"
        );
        assert_eq!(s.expose_secret(), "hunter2");
    }
}
