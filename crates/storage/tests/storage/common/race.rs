//! Running copies of a future at the same instant.

use portico_storage::Storage;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// Runs `n` copies of `f` at once (released together by a barrier) and returns their results.
pub async fn race<T, F, Fut>(s: &Storage, n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Storage, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (b, fut) = (barrier.clone(), f(s.clone(), i));
        set.spawn(async move {
            b.wait().await;
            fut.await
        });
    }
    set.join_all().await
}
