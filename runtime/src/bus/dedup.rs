//! The processed-id window of one consumer group (exactly-once processing).
//!
//! Delivery through a consumer group is at-least-once: an entry whose consumer died before
//! acking is delivered again. The window remembers which ids a group has already processed, for
//! a bounded time and count, so a re-delivery is recognised and acknowledged without running
//! its side effect twice. Recording an id and acking its entry happen in one script
//! (`lua/exactly_once.lua`), so they cannot disagree.

use std::time::Duration;

use ::redis::AsyncCommands;
use claudebench_contract::error::Error;

use crate::keys::Keys;
use crate::redis::{Conn, RedisHandle, redis_error};
use crate::scripts;

/// Where a processed entry is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckTarget<'a> {
    pub stream_key: &'a str,
    pub group: &'a str,
    pub entry_id: &'a str,
}

/// A bounded window of processed ids.
#[derive(Debug, Clone)]
pub struct DedupWindow {
    conn: Conn,
    key: String,
    max_age: Duration,
    max_count: u64,
}

impl DedupWindow {
    /// The window of consumer group `group`, remembering ids for `max_age` and at most
    /// `max_count` of them (the oldest are forgotten first).
    pub fn new(redis: &RedisHandle, keys: &Keys, group: &str, max_age: Duration, max_count: u64) -> Self {
        DedupWindow { conn: redis.conn(), key: keys.dedup(group), max_age, max_count: max_count.max(1) }
    }

    /// Whether `id` was already processed (a read; it records nothing).
    pub async fn contains(&self, id: &str) -> Result<bool, Error> {
        let mut conn = self.conn.clone();
        let score: Option<f64> = conn.zscore(&self.key, id).await.map_err(redis_error)?;
        Ok(score.is_some())
    }

    /// Records `id` as processed and, with `ack`, acknowledges its stream entry in the same
    /// atomic step. Returns whether the id had already been processed (a duplicate).
    pub async fn record(&self, id: &str, ack: Option<AckTarget<'_>>) -> Result<bool, Error> {
        let mut conn = self.conn.clone();
        let mut call = scripts::EXACTLY_ONCE.call();
        call.key(&self.key);
        if let Some(target) = ack {
            call.key(target.stream_key);
        }
        call.arg(id).arg(self.max_age.as_millis().max(1) as u64).arg(self.max_count);
        if let Some(target) = ack {
            call.arg(target.group).arg(target.entry_id);
        }
        let values = call.run_ok(&mut conn).await?;
        Ok(scripts::field(&values, 0, "exactly_once")? == "1")
    }
}
