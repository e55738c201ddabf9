//! Per event and caller rate limiting: GCRA on one Redis key per event and caller, shared by every
//! instance, checked and recorded atomically in one script call (`lua/rate_limit.lua`).
//!
//! # The promise
//!
//! For a limit of `count` calls per `window_ms`, per event and per caller:
//!
//! - **Burst:** a caller that has been idle for a window may make `count` calls at once.
//! - **Steady rate:** after that, one more call fits every `I = ⌈window_ms · 1000 / count⌉` µs,
//!   i.e. `count` per window (rounded down to whole µs per call, never up).
//! - **Bound:** in any span of `t` µs, at most `count + ⌊t / I⌋` calls are admitted, across every
//!   server sharing the Redis, however many arrive concurrently. (So a window can see up to
//!   `2 · count − 1` calls: a full burst, then the steady rate refilling it.)
//! - **Rejections cost nothing:** a refused call is not recorded.
//! - **`retry_after_ms`** of a refusal is exactly how long until that call would be admitted if
//!   nobody else calls meanwhile, rounded up to whole milliseconds (at least 1).
//! - **`remaining`** of an admission is how many more calls would be admitted right now.
//! - **`count` 0** refuses every call without asking Redis; its `retry_after_ms` is the window.
//!
//! Time is Redis' clock (`TIME`), so servers with skewed clocks agree. If Redis' clock steps back,
//! a caller is held at most as long as a full burst would hold it; a step forward refills buckets.

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::event::RateLimit;

use crate::keys::Keys;
use ::redis::aio::ConnectionLike;

use crate::redis::{Conn, RedisHandle};
use crate::scripts;

/// The answer of one rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    /// Calls that would still be admitted right now, after this one (0 when rejected).
    pub remaining: u64,
    /// When rejected: how long until this call would be admitted (whole ms, at least 1).
    pub retry_after_ms: u64,
}

/// A rate limit the pipeline leaves to the handler, which checks it inside the script that makes
/// its change (`lua/lib/gcra.lua`, same promise): one Redis round trip per call instead of two.
/// A handler that cannot fold it in (its change lands in another slot than the caller's key)
/// checks it first with [`OwnLimit::enforce_on`].
/// The pipeline hands one over only to events whose handlers say they check it
/// ([`EventHandlers::checks_own_rate_limit`](crate::pipeline::EventHandlers::checks_own_rate_limit)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnLimit {
    pub event: &'static str,
    /// The caller's identity ([`RequestMeta::caller_key`](crate::context::RequestMeta::caller_key)).
    pub caller: String,
    pub limit: RateLimit,
}

impl OwnLimit {
    /// The script's `count` and `window_ms` arguments; a limit of 0 calls is refused here,
    /// without asking Redis (as [`RateLimiter::check`] does).
    pub fn script_args(&self) -> Result<(u64, u64), Error> {
        let window_ms = self.limit.window_ms.max(1);
        if self.limit.count == 0 {
            return Err(refusal(self.event, &self.limit, window_ms));
        }
        Ok((self.limit.count, window_ms))
    }

    /// Checks and records the call with the pipeline's own script, on `con` (the handler could not
    /// fold the check into its script); a refusal is the `rate_limited` error.
    pub async fn enforce_on<C: ConnectionLike + Send>(&self, con: &mut C, keys: &Keys) -> Result<(), Error> {
        let decision = check_on(con, keys, self.event, &self.caller, &self.limit).await?;
        if decision.allowed { Ok(()) } else { Err(refusal(self.event, &self.limit, decision.retry_after_ms)) }
    }

    /// The script's refusal as the caller sees it: `rate_limited` with the script's wait
    /// (`retry_after_ms` of `e`); any other error passes unchanged.
    pub fn explain(&self, e: Error) -> Error {
        match e.code {
            ErrorCode::RateLimited => refusal(self.event, &self.limit, e.retry_after_ms.unwrap_or(1)),
            _ => e,
        }
    }
}

/// [`RateLimiter::check`] on any connection.
async fn check_on<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    event: &str,
    caller: &str,
    limit: &RateLimit,
) -> Result<RateDecision, Error> {
    let window_ms = limit.window_ms.max(1);
    if limit.count == 0 {
        return Ok(RateDecision { allowed: false, remaining: 0, retry_after_ms: window_ms });
    }
    let values = scripts::RATE_LIMIT
        .call()
        .key(keys.rate_limit(event, caller))
        .arg(limit.count)
        .arg(window_ms)
        .run_ok(con)
        .await?;
    let allowed: u8 = scripts::int(&values, 0, "rate_limit")?;
    let remaining: u64 = scripts::int(&values, 1, "rate_limit")?;
    let retry_after_ms: u64 = scripts::int(&values, 2, "rate_limit")?;
    Ok(RateDecision {
        allowed: allowed == 1,
        remaining: remaining.min(limit.count - 1),
        retry_after_ms: if allowed == 1 { 0 } else { retry_after_ms.max(1) },
    })
}

/// The `rate_limited` error of `event` (with `retryAfterMs`), ready for a transport.
fn refusal(event: &str, limit: &RateLimit, retry_after_ms: u64) -> Error {
    let mut err = Error::new(
        ErrorCode::RateLimited,
        format!("rate limit exceeded for {event}: {} calls per {} ms per caller", limit.count, limit.window_ms),
    );
    err.retry_after_ms = Some(retry_after_ms.max(1));
    err
}

/// Rate limiter over the shared Redis.
#[derive(Debug)]
pub struct RateLimiter {
    conn: Conn,
    keys: Keys,
}

impl RateLimiter {
    /// A limiter using `redis` and the keys under `keys`.
    pub fn new(redis: &RedisHandle, keys: Keys) -> Self {
        RateLimiter { conn: redis.conn(), keys }
    }

    /// Checks and, when allowed, records one call of `event` by `caller` (one round trip, none
    /// for a limit of 0).
    pub async fn check(&self, event: &str, caller: &str, limit: &RateLimit) -> Result<RateDecision, Error> {
        check_on(&mut self.conn.clone(), &self.keys, event, caller, limit).await
    }

    /// Like [`check`](Self::check), but a rejection is the `rate_limited` error (with
    /// `retryAfterMs`), ready for a transport.
    pub async fn enforce(&self, event: &str, caller: &str, limit: &RateLimit) -> Result<RateDecision, Error> {
        let decision = self.check(event, caller, limit).await?;
        if decision.allowed {
            return Ok(decision);
        }
        Err(refusal(event, limit, decision.retry_after_ms))
    }
}
