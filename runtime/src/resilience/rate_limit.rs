//! Per event and caller rate limiting: a sliding-window log in Redis, shared by every instance,
//! checked and recorded atomically in one script call (`lua/rate_limit.lua`).

use std::sync::atomic::{AtomicU64, Ordering};

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::event::RateLimit;

use crate::keys::Keys;
use crate::redis::{Conn, RedisHandle};
use crate::scripts;

/// The answer of one rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    /// Calls left in the current window after this one.
    pub remaining: u64,
    /// When rejected: how long until one more call fits.
    pub retry_after_ms: u64,
}

/// Rate limiter over the shared Redis.
#[derive(Debug)]
pub struct RateLimiter {
    conn: Conn,
    keys: Keys,
    /// Makes this process's window members unique among all instances.
    nonce: String,
    seq: AtomicU64,
}

impl RateLimiter {
    /// A limiter using `redis` and the keys under `keys`.
    pub fn new(redis: &RedisHandle, keys: Keys) -> Self {
        RateLimiter { conn: redis.conn(), keys, nonce: process_nonce(), seq: AtomicU64::new(0) }
    }

    /// Checks and, when allowed, records one call of `event` by `caller` (one round trip).
    pub async fn check(&self, event: &str, caller: &str, limit: &RateLimit) -> Result<RateDecision, Error> {
        let token = format!("{}-{}", self.nonce, self.seq.fetch_add(1, Ordering::Relaxed));
        let mut conn = self.conn.clone();
        let values = scripts::RATE_LIMIT
            .call()
            .key(self.keys.rate_limit(event, caller))
            .arg(limit.count)
            .arg(limit.window_ms.max(1))
            .arg(token)
            .run_ok(&mut conn)
            .await?;
        let number = |n| scripts::int::<i64>(&values, n, "rate_limit");
        let (allowed, remaining, retry_after_ms) = (number(0)?, number(1)?, number(2)?);
        Ok(RateDecision {
            allowed: allowed == 1,
            remaining: remaining.max(0) as u64,
            retry_after_ms: retry_after_ms.max(0) as u64,
        })
    }

    /// Like [`check`](Self::check), but a rejection is the `rate_limited` error (with
    /// `retryAfterMs`), ready for a transport.
    pub async fn enforce(&self, event: &str, caller: &str, limit: &RateLimit) -> Result<RateDecision, Error> {
        let decision = self.check(event, caller, limit).await?;
        if decision.allowed {
            return Ok(decision);
        }
        let mut err = Error::new(
            ErrorCode::RateLimited,
            format!("rate limit exceeded for {event}: {} calls per {} ms", limit.count, limit.window_ms),
        );
        err.retry_after_ms = Some(decision.retry_after_ms);
        Err(err)
    }
}

/// A short string unlikely to be chosen by any other process: the std hasher's random keys
/// mixed with the pid and the clock (no extra dependency for randomness).
pub(crate) fn process_nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    h.write_u128(nanos);
    format!("{:016x}", h.finish())
}
