//! Exit codes and the CLI's error type.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | other error (Keycloak validation error, health DOWN, differences with `--exit-code`) |
//! | 2 | usage error (arguments, unreadable or malformed input file, bad configuration) |
//! | 3 | authentication or authorization failure (token endpoint refused, 401, 403) |
//! | 4 | not found (404) |
//! | 5 | conflict (409, or a concurrent change detected by `update`) |
//! | 6 | server or transport error (5xx, connection refused, timeout, TLS, undecodable answer) |
//! | 130 | interrupted (Ctrl-C or SIGTERM during an export; nothing was written) |

use std::fmt;

/// A documented exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Other = 1,
    Usage = 2,
    Auth = 3,
    NotFound = 4,
    Conflict = 5,
    Server = 6,
    Interrupted = 130,
}

/// An error the CLI reports: a one-line message, optional detail lines and a hint.
#[derive(Debug)]
pub struct CliError {
    pub code: Code,
    pub message: String,
    pub details: Vec<String>,
    pub hint: Option<String>,
    /// The server may answer the same request later (a gateway's 502/503/504, 429, or a
    /// connection that broke): whether it took effect is unknown.
    pub retryable: bool,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
            hint: None,
            retryable: false,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Code::Other, message)
    }
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Code::Auth, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Code::Conflict, message)
    }
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(Code::Server, message)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }
    /// Prefixes the message with what was being done.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
    pub fn io(what: impl fmt::Display, e: std::io::Error) -> Self {
        Self::usage(format!("{what}: {e}"))
    }
    pub fn exit_code(&self) -> i32 {
        self.code as i32
    }

    /// Writes the error to stderr.
    pub fn report(&self, color: bool) {
        let (red, bold, dim, reset) = if color {
            ("\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m")
        } else {
            ("", "", "", "")
        };
        eprintln!("{red}{bold}error{reset}{bold}:{reset} {}", self.message);
        for d in &self.details {
            eprintln!("  {d}");
        }
        if let Some(h) = &self.hint {
            eprintln!("{dim}hint: {h}{reset}");
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// So that a token provider can hand a `CliError` to the library and get it back.
impl std::error::Error for CliError {}

impl From<cloakroom::Error> for CliError {
    fn from(e: cloakroom::Error) -> Self {
        // A token request that a gateway could not pass on counts too.
        let retryable = e.is_retryable()
            || matches!(&e, cloakroom::Error::Auth(a)
                if matches!(a.status, Some(502..=504)) || (a.status.is_none() && a.cause.is_some()));
        let mut err = Self::from_library(e);
        err.retryable = retryable;
        err
    }
}

impl CliError {
    fn from_library(e: cloakroom::Error) -> Self {
        use cloakroom::Error as E;
        let e = match e {
            // The CLI's own token provider failed: report its error, exit code and hint.
            E::TokenProvider(inner) => {
                return match inner.downcast::<CliError>() {
                    Ok(mine) => *mine,
                    Err(other) => CliError::auth(format!("token renewal failed: {other}")),
                };
            }
            other => other,
        };
        match &e {
            E::Auth(a) => {
                let mut err = CliError::auth(e.to_string());
                if a.status.is_none() && a.cause.is_some() {
                    // The token endpoint was not reached at all.
                    err.code = Code::Server;
                } else if a.oauth_error() == Some("invalid_grant") {
                    err.hint = Some(
                        "check the user name and password (and OTP), or log in again with `cloakroom login --fresh`"
                            .into(),
                    );
                } else if a.oauth_error() == Some("invalid_client")
                    || a.oauth_error() == Some("unauthorized_client")
                {
                    err.hint = Some("check --client-id and the client secret".into());
                }
                err
            }
            E::Api(api) => {
                let code = match api.status {
                    401 | 403 => Code::Auth,
                    404 => Code::NotFound,
                    409 => Code::Conflict,
                    408 | 429 | 500..=599 => Code::Server,
                    _ => Code::Other,
                };
                let mut err = CliError::new(code, e.to_string());
                if let Some(field) = api.field() {
                    err.details.push(format!("field: {field}"));
                }
                if !api.params().is_empty() {
                    err.details
                        .push(format!("params: {}", api.params().join(", ")));
                }
                // User-profile validation answers `{"errors":[{field, errorMessage, params}]}`.
                let many = validation_errors(&api.body_text);
                if api.message().is_none() {
                    if let Some((field, msg, _)) = many.first() {
                        err.message = format!("{}: {msg} (field `{field}`)", err.message);
                    }
                }
                for (field, msg, params) in &many {
                    let p = if params.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", params.join(", "))
                    };
                    err.details.push(format!("field `{field}`: {msg}{p}"));
                }
                if api.message().is_none() && many.is_empty() && !api.body_text.trim().is_empty() {
                    let text: String = api.body_text.chars().take(300).collect();
                    err.details.push(format!("answer: {}", text.trim()));
                }
                match api.status {
                    401 => {
                        err.hint =
                            Some("the token was refused; try `cloakroom login --fresh`".into())
                    }
                    403 => {
                        err.hint = Some(
                            "the token is valid but lacks the admin role this call needs".into(),
                        )
                    }
                    _ => {}
                }
                err
            }
            E::Transport(_) => CliError::server(e.to_string()).with_hint(
                "is the server URL right and the server running? (--server, CLOAKROOM_SERVER)",
            ),
            E::Decode(_) => CliError::server(e.to_string()),
            E::Config(_) | E::InvalidInput(_) => CliError::usage(e.to_string()),
            E::ConcurrentChange(_) => {
                CliError::conflict(e.to_string()).with_hint("run the command again")
            }
            _ => CliError::other(e.to_string()),
        }
    }
}

/// The `errors` list of a user-profile validation answer: (field, message, params).
fn validation_errors(body: &str) -> Vec<(String, String, Vec<String>)> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let Some(items) = v.get("errors").and_then(|e| e.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|i| {
            let text = |k: &str| i.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
            let params = i
                .get("params")
                .and_then(|p| p.as_array())
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| x.to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            (text("field"), text("errorMessage"), params)
        })
        .collect()
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::other(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_provider_error_comes_back_as_it_was() {
        let mine = CliError::auth("the session expired").with_hint("run `cloakroom login`");
        let back = CliError::from(cloakroom::Error::token_provider(mine));
        assert_eq!(back.code, Code::Auth);
        assert_eq!(back.message, "the session expired");
        assert_eq!(back.hint.as_deref(), Some("run `cloakroom login`"));
        let other = CliError::from(cloakroom::Error::token_provider("vault sealed"));
        assert_eq!(other.code, Code::Auth);
        assert!(other.message.contains("vault sealed"), "{}", other.message);
    }

    #[test]
    fn a_concurrent_change_is_a_conflict() {
        let e = CliError::from(cloakroom::Error::ConcurrentChange("the user".into()));
        assert_eq!(e.exit_code(), 5);
    }
}
