//! Tests on every Keycloak version of the matrix: an operation the test server's version does
//! not serve must fail with the typed `Error::NotServed` naming it and that version (the tests'
//! clients are told the version, see `support::kc::builder`); one it serves must work. Never a
//! skip.

use std::fmt::Debug;

use cloakroom::request::Method;
use cloakroom::{Error, Result};

use crate::support::server::test_server;

/// Whether the test server's version serves `method template` (`true` when the census says
/// nothing about that version or operation).
pub fn served(method: Method, template: &str) -> bool {
    match &test_server().version {
        Some(v) => cloakroom::server_version::serves(v, method, template) != Some(false),
        None => true,
    }
}

/// `Some(value)` when the server serves `method template` (the call must then have worked);
/// `None` after asserting that the call was refused with `Error::NotServed` naming the
/// operation and the server's version.
pub fn served_or_refused<T: Debug>(method: Method, template: &str, result: Result<T>) -> Option<T> {
    if served(method, template) {
        return Some(result.unwrap_or_else(|e| panic!("{} {template}: {e:?}", method.as_str())));
    }
    let version = test_server().version.unwrap_or_default();
    match result {
        Err(Error::NotServed {
            method: m,
            template: t,
            server_version,
            ..
        }) => {
            assert_eq!((m, t), (method, template), "the refused operation");
            assert_eq!(server_version, version, "the version named");
            None
        }
        other => panic!(
            "{} {template} is not served by Keycloak {version}: expected Error::NotServed, got {other:?}",
            method.as_str()
        ),
    }
}

/// Whether the test server's version is at least `major.minor` (true when it is not known: the
/// harness's default, the newest version).
pub fn at_least(major: u32, minor: u32) -> bool {
    let Some(v) = test_server().version else {
        return true;
    };
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}
