//! `lua/rate_limit.lua` through `RateLimiter`.

use claudebench_generated::error::ErrorCode;
use claudebench_generated::event::RateLimit;
use claudebench_runtime::resilience::RateLimiter;
use redis::AsyncCommands;

use crate::{fixtures, support};

#[tokio::test]
async fn calls_beyond_the_limit_are_rejected_with_a_retry_delay() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    let limit = RateLimit { count: 3, window_ms: 60_000 };

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let d = limiter.check("task.create", "alice", &limit).await.unwrap();
        assert!(d.allowed);
        remaining.push(d.remaining);
    }
    assert_eq!(remaining, vec![2, 1, 0]);

    let rejected = limiter.check("task.create", "alice", &limit).await.unwrap();
    assert!(!rejected.allowed);
    assert!(rejected.retry_after_ms > 59_000 && rejected.retry_after_ms <= 60_000, "{rejected:?}");

    // Rejections are not recorded: the window still holds exactly the three admitted calls.
    let mut conn = support::redis().await;
    let n: u64 = conn.zcard(keys.rate_limit("task.create", "alice")).await.unwrap();
    assert_eq!(n, 3);

    // Another caller and another event have windows of their own.
    assert!(limiter.check("task.create", "bob", &limit).await.unwrap().allowed);
    assert!(limiter.check("task.update", "alice", &limit).await.unwrap().allowed);

    let err = limiter.enforce("task.create", "alice", &limit).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert!(err.retry_after_ms.is_some());
}

#[tokio::test]
async fn the_window_slides() {
    let redis = fixtures::handle().await;
    let limiter = RateLimiter::new(&redis, support::unique_keys());
    let limit = RateLimit { count: 2, window_ms: 300 };
    assert!(limiter.check("e", "c", &limit).await.unwrap().allowed);
    assert!(limiter.check("e", "c", &limit).await.unwrap().allowed);
    let rejected = limiter.check("e", "c", &limit).await.unwrap();
    assert!(!rejected.allowed && rejected.retry_after_ms <= 300);
    tokio::time::sleep(std::time::Duration::from_millis(rejected.retry_after_ms + 20)).await;
    assert!(limiter.check("e", "c", &limit).await.unwrap().allowed);
}

#[tokio::test]
async fn concurrent_calls_never_exceed_the_limit_and_each_admitted_call_is_recorded_once() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = std::sync::Arc::new(RateLimiter::new(&redis, keys.clone()));
    let limit = RateLimit { count: 40, window_ms: 60_000 };
    let calls = (0..100).map(|_| {
        let limiter = limiter.clone();
        tokio::spawn(async move { limiter.check("burst", "same-caller", &limit).await })
    });
    let mut allowed = 0;
    for call in calls {
        if call.await.unwrap().unwrap().allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 40);
    let mut conn = support::redis().await;
    let n: u64 = conn.zcard(keys.rate_limit("burst", "same-caller")).await.unwrap();
    assert_eq!(n, 40, "every admitted call is one unique window member");
}

#[tokio::test]
async fn a_zero_limit_rejects_everything() {
    let redis = fixtures::handle().await;
    let limiter = RateLimiter::new(&redis, support::unique_keys());
    let d = limiter.check("e", "c", &RateLimit { count: 0, window_ms: 1000 }).await.unwrap();
    assert!(!d.allowed);
    assert_eq!(d.retry_after_ms, 1000);
}
