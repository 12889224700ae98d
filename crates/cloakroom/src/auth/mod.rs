//! Credentials and the token manager.
//!
//! A [`Client`](crate::Client) holds one [`Credentials`] value and a token manager that turns it
//! into access tokens: cached, refreshed ahead of expiry, refreshed once for any number of
//! concurrent callers, and re-granted when a refresh token is refused.

mod credentials;
mod token;

pub use credentials::{ClientAuth, Credentials, Otp, TokenProvider};
pub use token::{TokenSet, TokenStats};

pub(crate) use token::TokenManager;
pub(crate) use token::{authenticate_client, parse_token_answer, token_request};
