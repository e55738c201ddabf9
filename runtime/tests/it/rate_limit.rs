//! `lua/rate_limit.lua` through `RateLimiter`: GCRA, a burst of `count`, then `count` per window
//! (one call every I = ⌈window / count⌉), shared through Redis. The promise is in
//! `runtime/src/resilience/rate_limit.rs`.

use std::sync::Arc;

use claudebench_generated::error::ErrorCode;
use claudebench_generated::event::RateLimit;
use claudebench_runtime::keys::Keys;
use claudebench_runtime::resilience::{RateDecision, RateLimiter};
use redis::AsyncCommands;

use crate::{fixtures, support};

const HOUR_MS: u64 = 3_600_000;

/// Redis' clock in µs (the limiter's clock).
async fn redis_now_us(conn: &mut impl redis::aio::ConnectionLike) -> u64 {
    let (s, us): (u64, u64) = redis::cmd("TIME").query_async(conn).await.unwrap();
    s * 1_000_000 + us
}

/// The stored theoretical arrival time of `caller` for `event`, µs, if any.
async fn stored_tat(keys: &Keys, event: &str, caller: &str) -> Option<u64> {
    let mut conn = support::redis().await;
    let v: Option<String> = conn.get(keys.rate_limit(event, caller)).await.unwrap();
    v.map(|v| v.parse().expect("the key holds whole µs"))
}

/// Two limiters on two connections of their own: two servers sharing one Redis.
async fn two_servers(keys: &Keys) -> (Arc<RateLimiter>, Arc<RateLimiter>) {
    let (a, b) = (fixtures::handle().await, fixtures::handle().await);
    (Arc::new(RateLimiter::new(&a, keys.clone())), Arc::new(RateLimiter::new(&b, keys.clone())))
}

#[tokio::test]
async fn a_burst_of_count_then_refusals_that_say_when_the_next_call_fits() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    // I = 20 s: nothing refills while the test runs.
    let limit = RateLimit { count: 3, window_ms: 60_000 };

    let mut conn = support::redis().await;
    let started = redis_now_us(&mut conn).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let d = limiter.check("task.create", "alice", &limit).await.unwrap();
        assert!(d.allowed && d.retry_after_ms == 0, "{d:?}");
        remaining.push(d.remaining);
    }
    assert_eq!(remaining, vec![2, 1, 0]);

    let tat = stored_tat(&keys, "task.create", "alice").await.expect("admitted calls are recorded");
    let rejected = limiter.check("task.create", "alice", &limit).await.unwrap();
    let elapsed_ms = (redis_now_us(&mut conn).await - started).div_ceil(1000);
    assert!(!rejected.allowed && rejected.remaining == 0, "{rejected:?}");
    // The next call fits once one interval (20 s) of the burst has been paid off, counted from
    // the burst's first call.
    assert!(rejected.retry_after_ms <= 20_000 && rejected.retry_after_ms + elapsed_ms >= 20_000, "{rejected:?}");

    // Refusals are not recorded.
    for _ in 0..5 {
        assert!(!limiter.check("task.create", "alice", &limit).await.unwrap().allowed);
    }
    assert_eq!(stored_tat(&keys, "task.create", "alice").await, Some(tat));

    // Another caller and another event have buckets of their own.
    assert_eq!(limiter.check("task.create", "bob", &limit).await.unwrap().remaining, 2);
    assert_eq!(limiter.check("task.update", "alice", &limit).await.unwrap().remaining, 2);

    let err = limiter.enforce("task.create", "alice", &limit).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    let retry = err.retry_after_ms.expect("retryAfterMs");
    assert!(retry > 0 && retry <= 20_000, "{retry}");
    assert_eq!(limiter.enforce("task.create", "carol", &limit).await.unwrap().remaining, 2);
}

#[tokio::test]
async fn retry_after_is_exactly_when_the_call_fits() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    // I = 100 ms, tolerance (count - 1) · I = 100 ms.
    let limit = RateLimit { count: 2, window_ms: 200 };
    let mut conn = support::redis().await;

    // A backlog of 180 ms (of at most 200): the call fits in 80 ms, when the backlog is down to
    // the tolerance.
    let now = redis_now_us(&mut conn).await;
    let _: () = conn.set(keys.rate_limit("e", "c"), now + 180_000).await.unwrap();
    let d = limiter.check("e", "c", &limit).await.unwrap();
    let elapsed_ms = (redis_now_us(&mut conn).await - now).div_ceil(1000);
    assert!(!d.allowed, "{d:?}");
    assert!(d.retry_after_ms <= 80 && d.retry_after_ms + elapsed_ms >= 80, "{d:?}");

    // Waiting that long is enough; the call is then the last of the burst.
    tokio::time::sleep(std::time::Duration::from_millis(d.retry_after_ms)).await;
    let admitted = limiter.check("e", "c", &limit).await.unwrap();
    assert!(admitted.allowed && admitted.remaining == 0, "{admitted:?}");
    let again = limiter.check("e", "c", &limit).await.unwrap();
    assert!(!again.allowed && again.retry_after_ms <= 100, "one interval later: {again:?}");
}

#[tokio::test]
async fn the_steady_rate_refills_one_call_per_interval() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    let limit = RateLimit { count: 2, window_ms: 300 };
    assert!(limiter.check("e", "c", &limit).await.unwrap().allowed);
    assert!(limiter.check("e", "c", &limit).await.unwrap().allowed);
    for _ in 0..3 {
        let rejected = limiter.check("e", "c", &limit).await.unwrap();
        assert!(!rejected.allowed && rejected.retry_after_ms <= 150, "{rejected:?}");
        tokio::time::sleep(std::time::Duration::from_millis(rejected.retry_after_ms)).await;
        let d = limiter.check("e", "c", &limit).await.unwrap();
        assert!(d.allowed, "after retry_after_ms the call fits: {d:?}");
    }
    // An idle window gives the whole burst back; the key is gone by then.
    tokio::time::sleep(std::time::Duration::from_millis(310)).await;
    assert_eq!(stored_tat(&keys, "e", "c").await, None, "a paid-off bucket leaves no key");
    assert_eq!(limiter.check("e", "c", &limit).await.unwrap().remaining, 1);
}

#[tokio::test]
async fn concurrent_callers_on_two_servers_get_exactly_the_burst_each_once() {
    let keys = support::unique_keys();
    let (a, b) = two_servers(&keys).await;
    // I = 90 s: the test runs well within one interval, so exactly the burst fits.
    let limit = RateLimit { count: 40, window_ms: HOUR_MS };
    let calls: Vec<_> = (0..200)
        .map(|n| {
            let limiter = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { limiter.check("burst", "same-caller", &limit).await.unwrap() })
        })
        .collect();
    let mut admitted: Vec<RateDecision> = Vec::new();
    for call in calls {
        let d = call.await.unwrap();
        if d.allowed {
            admitted.push(d);
        } else {
            assert!(d.retry_after_ms > 0 && d.retry_after_ms <= 90_000, "{d:?}");
        }
    }
    assert_eq!(admitted.len(), 40);
    // Each admission saw a different state: the remaining counts are 39, 38, …, 0, each once.
    let mut remaining: Vec<u64> = admitted.iter().map(|d| d.remaining).collect();
    remaining.sort_unstable();
    assert_eq!(remaining, (0..40).collect::<Vec<u64>>());
}

#[tokio::test]
async fn under_sustained_load_from_two_servers_no_more_than_the_promise_is_admitted() {
    let keys = support::unique_keys();
    let (a, b) = two_servers(&keys).await;
    // Burst 5, then one call every 40 ms.
    let limit = RateLimit { count: 5, window_ms: 200 };
    let interval_us = 40_000;
    let mut conn = support::redis().await;
    let started = redis_now_us(&mut conn).await;
    let workers: Vec<_> = (0..16)
        .map(|n| {
            let limiter = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let mut admitted = 0u64;
                for _ in 0..60 {
                    if limiter.check("steady", "one-caller", &limit).await.unwrap().allowed {
                        admitted += 1;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                admitted
            })
        })
        .collect();
    let mut admitted = 0;
    for w in workers {
        admitted += w.await.unwrap();
    }
    let span = redis_now_us(&mut conn).await - started;
    // In any span of t µs at most count + ⌊t / I⌋ calls; the calls all ran inside `span`.
    let bound = 5 + span / interval_us;
    assert!(admitted <= bound, "{admitted} admitted in {span} µs; the promise allows {bound}");
    // And it does hand out the steady rate (callers asked every few ms throughout, so well over
    // half of the intervals found a taker).
    assert!(admitted >= 5 + span / interval_us / 2, "{admitted} admitted in {span} µs");
}

#[tokio::test]
async fn a_zero_limit_rejects_everything_without_recording() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    let limit = RateLimit { count: 0, window_ms: 1000 };
    for _ in 0..3 {
        let d = limiter.check("e", "c", &limit).await.unwrap();
        assert_eq!(d, RateDecision { allowed: false, remaining: 0, retry_after_ms: 1000 });
    }
    assert_eq!(stored_tat(&keys, "e", "c").await, None);
    let err = limiter.enforce("e", "c", &limit).await.unwrap_err();
    assert_eq!((err.code, err.retry_after_ms), (ErrorCode::RateLimited, Some(1000)));
}

#[tokio::test]
async fn huge_limits_and_windows_neither_overflow_nor_fail() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());

    let unlimited = RateLimit { count: u64::MAX, window_ms: 1 };
    for _ in 0..100 {
        let d = limiter.check("e", "unlimited", &unlimited).await.unwrap();
        assert!(d.allowed && d.remaining > 1 << 50, "{d:?}");
    }
    let both = RateLimit { count: u64::MAX, window_ms: u64::MAX };
    assert!(limiter.check("e", "both", &both).await.unwrap().allowed);

    // One call per u64::MAX ms: the second waits (practically) forever, and says so.
    let forever = RateLimit { count: 1, window_ms: u64::MAX };
    assert_eq!(limiter.check("e", "forever", &forever).await.unwrap().remaining, 0);
    let d = limiter.check("e", "forever", &forever).await.unwrap();
    assert!(!d.allowed && d.retry_after_ms > 1 << 50, "{d:?}");
    let err = limiter.enforce("e", "forever", &forever).await.unwrap_err();
    assert!(err.retry_after_ms.unwrap() > 1 << 50);
    // That key never expires (the test Redis outlives the test).
    let _: () = support::redis().await.del(keys.rate_limit("e", "forever")).await.unwrap();

    // A window of 0 counts as 1 ms.
    let zero_window = RateLimit { count: 1, window_ms: 0 };
    assert!(limiter.check("e", "zero-window", &zero_window).await.unwrap().allowed);
    let d = limiter.check("e", "zero-window", &zero_window).await.unwrap();
    assert!(d.allowed || d.retry_after_ms == 1, "{d:?}");
}

#[tokio::test]
async fn redis_clock_steps_neither_block_callers_for_long_nor_grant_more_than_a_burst() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    // I = 100 ms.
    let limit = RateLimit { count: 3, window_ms: 300 };
    let mut conn = support::redis().await;
    let now = redis_now_us(&mut conn).await;

    // Redis' clock went back a day after the key was written: the TAT is a day ahead. The caller
    // waits one interval at most, not a day.
    let _: () = conn.set(keys.rate_limit("e", "back"), now + 86_400_000_000).await.unwrap();
    let d = limiter.check("e", "back", &limit).await.unwrap();
    assert!(!d.allowed && d.retry_after_ms <= 100, "{d:?}");
    tokio::time::sleep(std::time::Duration::from_millis(d.retry_after_ms)).await;
    assert!(limiter.check("e", "back", &limit).await.unwrap().allowed);

    // The clock jumped forward (or the key is stale): an old TAT is an empty bucket, one burst.
    let _: () = conn.set(keys.rate_limit("e", "forward"), now - 86_400_000_000).await.unwrap();
    let mut admitted = 0;
    for _ in 0..5 {
        admitted += u8::from(limiter.check("e", "forward", &limit).await.unwrap().allowed);
    }
    assert_eq!(admitted, 3);
}

#[tokio::test]
async fn a_key_left_by_the_sliding_window_log_counts_as_no_key() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let limiter = RateLimiter::new(&redis, keys.clone());
    let mut conn = support::redis().await;
    let _: () = conn.zadd(keys.rate_limit("e", "c"), "1-old", 1).await.unwrap();
    let d = limiter.check("e", "c", &RateLimit { count: 2, window_ms: 60_000 }).await.unwrap();
    assert!(d.allowed && d.remaining == 1, "{d:?}");
    assert!(stored_tat(&keys, "e", "c").await.is_some());
}
