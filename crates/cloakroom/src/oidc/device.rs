//! Device authorization grant (RFC 8628).

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::OidcClient;
use crate::auth::TokenSet;
use crate::error::{AuthError, Error, Result};
use crate::secret::Secret;

const T_DEVICE: &str = "/realms/{realm}/protocol/openid-connect/auth/device";

/// A started device login: show [`user_code`](Self::user_code) and
/// [`verification_uri`](Self::verification_uri) to the user, then
/// [`poll`](OidcClient::poll_device).
#[derive(Clone)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// The code the client polls with.
    pub device_code: Secret,
    /// The code the user types.
    pub user_code: String,
    /// Where the user goes.
    pub verification_uri: String,
    /// The same with the code filled in.
    pub verification_uri_complete: Option<String>,
    /// Lifetime of the codes.
    pub expires_in: Duration,
    /// Minimum time between polls.
    pub interval: Duration,
    /// When the authorization was received (by the provider's clock).
    pub issued_at: SystemTime,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Answer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

impl OidcClient {
    /// Starts a device login (the client needs "OAuth 2.0 Device Authorization Grant" enabled).
    pub async fn device_authorization(&self, scope: Option<&str>) -> Result<DeviceAuthorization> {
        let mut form = Vec::new();
        super::push_opt(&mut form, "scope", scope);
        let req = self.form_request("auth/device", T_DEVICE, form)?;
        let resp = self.oidc.oauth_send(req, "device_authorization").await?;
        let a: Answer = resp.json()?;
        Ok(DeviceAuthorization {
            device_code: Secret::new(a.device_code),
            user_code: a.user_code,
            verification_uri: a.verification_uri,
            verification_uri_complete: a.verification_uri_complete,
            expires_in: Duration::from_secs(a.expires_in),
            interval: Duration::from_secs(a.interval.unwrap_or(5).max(1)),
            issued_at: self.oidc.now(),
        })
    }

    /// Polls the token endpoint until the user approves: waits `interval` between polls, keeps
    /// going on `authorization_pending`, adds 5 s to the interval on `slow_down`, and stops with
    /// an [`Error::Auth`] whose [`oauth_error`](AuthError::oauth_error) is `expired_token`
    /// (also when the codes' lifetime passes on our clock) or `access_denied`.
    pub async fn poll_device(&self, device: &DeviceAuthorization) -> Result<TokenSet> {
        let deadline = device.issued_at + device.expires_in;
        let mut interval = device.interval;
        loop {
            (self.oidc.inner.sleeper)(interval).await;
            if self.oidc.now() >= deadline {
                return Err(self.device_error(
                    "expired_token",
                    "the device code expired before the user approved the login",
                ));
            }
            let form = vec![
                (
                    "grant_type".into(),
                    "urn:ietf:params:oauth:grant-type:device_code".into(),
                ),
                (
                    "device_code".into(),
                    device.device_code.expose_secret().to_owned(),
                ),
            ];
            match self.token(form, "device_code", false).await {
                Ok(t) => return Ok(t),
                Err(Error::Auth(e)) => match e.oauth_error() {
                    Some("authorization_pending") => {}
                    Some("slow_down") => {
                        interval += Duration::from_secs(5);
                        tracing::debug!(interval_s = interval.as_secs(), "device flow: slow_down");
                    }
                    _ => return Err(Error::Auth(e)),
                },
                Err(e) => return Err(e),
            }
        }
    }

    fn device_error(&self, code: &str, description: &str) -> Error {
        Error::Auth(Box::new(AuthError {
            realm: self.oidc.realm().to_owned(),
            grant: "device_code".into(),
            status: None,
            error: Some(code.into()),
            description: Some(description.into()),
            cause: None,
        }))
    }
}
