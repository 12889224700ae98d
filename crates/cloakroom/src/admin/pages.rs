//! Every page, not just the first hundred.
//!
//! Keycloak's list endpoints take `first`/`max` offsets, default to 100 items and report no
//! total. [`pages`] walks them until a short page, lazily, as a stream. Items created or deleted
//! while a listing runs can shift the offsets, so a concurrent writer may cause an item to be
//! skipped or seen twice; sort by a stable key and de-duplicate if that matters.
//!
//! An endpoint that ignores `first` would answer its first page forever; when a later page
//! starts with the same item as the page before it, the walk stops with a warning.

use std::future::Future;
use std::pin::Pin;

use futures_util::Stream;
use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::error::Result;

/// A boxed stream of results, returned by the `.stream()` methods.
pub type Pages<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send>>;

/// The page size used when the caller sets none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Streams all items of a paged listing. `fetch(first, max)` gets one page.
pub fn pages<T, F, Fut>(page_size: u32, fetch: F) -> Pages<T>
where
    T: PartialEq + Clone + Send + 'static,
    F: FnMut(u32, u32) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Vec<T>>> + Send + 'static,
{
    let size = page_size.max(1);
    let state = (fetch, 0u32, false, None::<T>);
    let s = stream::try_unfold(state, move |(mut fetch, first, done, head)| async move {
        if done {
            return Ok::<_, crate::Error>(None);
        }
        let page = fetch(first, size).await?;
        if first > 0 && !page.is_empty() && page.first() == head.as_ref() {
            tracing::warn!(
                first,
                "the server ignored `first` and repeated a page; stopping"
            );
            return Ok(None);
        }
        let n = page.len() as u32;
        let next_done = n < size;
        let next_head = page.first().cloned();
        Ok(Some((
            stream::iter(page.into_iter().map(Ok)),
            (fetch, first.saturating_add(n), next_done, next_head),
        )))
    })
    .try_flatten();
    s.boxed()
}

/// Collects a stream of results into a vector, stopping at the first error.
pub async fn collect_all<T>(s: Pages<T>) -> Result<Vec<T>> {
    s.try_collect().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn walks_until_a_short_page() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let all: Vec<u32> = collect_all(pages(10, move |first, max| {
            c.fetch_add(1, Ordering::SeqCst);
            async move { Ok((first..(first + max).min(25)).collect()) }
        }))
        .await
        .unwrap();
        assert_eq!(all, (0..25).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn exact_multiple_costs_one_empty_page_and_errors_stop() {
        let all: Vec<u32> = collect_all(pages(5, |first, max| async move {
            Ok((first..(first + max).min(10)).collect())
        }))
        .await
        .unwrap();
        assert_eq!(all.len(), 10);
        let err = collect_all::<u32>(pages(5, |_, _| async {
            Err(crate::Error::InvalidInput("boom".into()))
        }))
        .await;
        assert!(err.is_err());
    }

    #[tokio::test]
    async fn a_server_that_ignores_first_is_walked_once() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let all: Vec<u32> = collect_all(pages(3, move |_first, max| {
            c.fetch_add(1, Ordering::SeqCst);
            async move { Ok((0..max).collect()) }
        }))
        .await
        .unwrap();
        assert_eq!(all, [0, 1, 2]);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
