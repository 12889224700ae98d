//! A blocking facade over the async client (feature `blocking`).
//!
//! [`blocking::Client`](Client) owns a small Tokio runtime and runs any cloakroom future to
//! completion on it:
//!
//! ```no_run
//! # fn main() -> cloakroom::Result<()> {
//! use cloakroom::{Credentials, blocking};
//! let kc = blocking::Client::new(
//!     cloakroom::Client::builder("http://127.0.0.1:8080")
//!         .credentials(Credentials::password("admin", "admin")),
//! )?;
//! let token = kc.wait(kc.inner().access_token())?;
//! # Ok(()) }
//! ```
//!
//! Called from inside an async runtime it returns [`Error::BlockingInAsyncContext`] instead of
//! deadlocking or panicking.

use std::future::Future;
use std::sync::Arc;

use crate::client::ClientBuilder;
use crate::error::{Error, Result};

/// A client whose calls block the current thread.
#[derive(Clone, Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Client {
    /// Builds the async client from `builder` and a runtime with one worker thread, which keeps
    /// pooled connections alive between calls.
    pub fn new(builder: ClientBuilder) -> Result<Self> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInAsyncContext);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cloakroom-blocking")
            .enable_all()
            .build()
            .map_err(|e| Error::config(format!("could not start the blocking runtime: {e}")))?;
        let inner = {
            let _guard = runtime.enter();
            builder.build()?
        };
        Ok(Self {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    /// The async client, to build calls with.
    pub fn inner(&self) -> &crate::Client {
        &self.inner
    }

    /// Runs a cloakroom future to completion on this client's runtime.
    pub fn wait<T, F>(&self, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInAsyncContext);
        }
        self.runtime.block_on(fut)
    }
}

impl std::ops::Deref for Client {
    type Target = crate::Client;
    fn deref(&self) -> &crate::Client {
        &self.inner
    }
}
