//! Handler deadlines. Dropping a future cancels it in Rust, so when the deadline passes the
//! handler really stops at its next await point instead of running on after its caller got the
//! `timeout` error.

use std::future::Future;
use std::time::Duration;

use claudebench_contract::error::{Error, ErrorCode};

/// Runs `fut` for at most `timeout_ms`; on expiry the future is dropped (cancelled) and the
/// `timeout` error returned. `timeout_ms == 0` means no deadline.
pub async fn with_timeout<T, F>(event: &str, timeout_ms: u64, fut: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    if timeout_ms == 0 {
        return fut.await;
    }
    match tokio::time::timeout(Duration::from_millis(timeout_ms), fut).await {
        Ok(result) => result,
        Err(_) => Err(Error::new(ErrorCode::Timeout, format!("{event} did not finish within {timeout_ms} ms"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test(start_paused = true)]
    async fn an_expired_handler_is_cancelled_and_reports_timeout() {
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let err = with_timeout("task.create", 50, async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            flag.store(true, Ordering::SeqCst);
            Ok::<_, Error>(())
        })
        .await
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Timeout);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!finished.load(Ordering::SeqCst), "the handler kept running after its deadline");
    }

    #[tokio::test]
    async fn a_fast_handler_returns_its_own_result() {
        assert_eq!(with_timeout("e", 1000, async { Ok::<_, Error>(7) }).await.unwrap(), 7);
        let err = with_timeout("e", 1000, async { Err::<(), _>(Error::not_found("x")) }).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
