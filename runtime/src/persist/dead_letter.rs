//! Dead letters: outbox entries the persister cannot write to SQL (not JSON, no task id, data
//! the database refuses, a change that would overwrite a different task). Each one is moved to
//! the stream `{prefix}:deadletter` with the reason, so the rest of the outbox keeps flowing;
//! `/health` reports `degraded` while any wait for review, and `claudebench deadletter`
//! lists, replays (after a fix) or drops them.

use std::collections::BTreeMap;

use claudebench_contract::error::Error;
use redis::streams::StreamRangeReply;
use serde::Serialize;

use crate::bus::Delivery;
use crate::keys::Keys;
use crate::redis::{RedisHandle, redis_error};
use crate::scripts;

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Its id in the dead-letter stream (what `replay` and `drop` take).
    pub id: String,
    /// The stream the entry came from.
    pub stream: String,
    /// The entry's id in that stream.
    pub entry: String,
    /// The event of that stream.
    pub event: String,
    /// Why it could not be written.
    pub reason: String,
    /// When it was moved here (ms since the epoch).
    pub at_ms: u64,
    /// The entry's fields, as they were.
    pub fields: BTreeMap<String, String>,
}

/// The dead letters of one key prefix.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    redis: RedisHandle,
    keys: Keys,
}

impl DeadLetters {
    pub fn new(redis: &RedisHandle, keys: &Keys) -> Self {
        DeadLetters { redis: redis.clone(), keys: keys.clone() }
    }

    /// Moves a copy of `entry` here with `reason` (the caller acknowledges the original after).
    pub async fn add(&self, entry: &Delivery, reason: &str) -> Result<String, Error> {
        let fields: BTreeMap<&str, &str> = entry.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let fields = serde_json::to_string(&fields).map_err(|e| Error::internal(format!("dead letter: {e}")))?;
        let now = claudebench_contract::time::now_ms().to_string();
        let mut conn = self.redis.conn();
        redis::cmd("XADD")
            .arg(self.keys.dead_letters())
            .arg("*")
            .arg(&[
                ("stream", entry.stream_key.as_str()),
                ("entry", entry.id.as_str()),
                ("event", entry.event.as_str()),
                ("reason", reason),
                ("at", now.as_str()),
                ("fields", fields.as_str()),
            ])
            .query_async(&mut conn)
            .await
            .map_err(redis_error)
    }

    /// How many wait for review.
    pub async fn count(&self) -> Result<u64, Error> {
        let mut conn = self.redis.conn();
        redis::cmd("XLEN").arg(self.keys.dead_letters()).query_async(&mut conn).await.map_err(redis_error)
    }

    /// The oldest `limit` dead letters.
    pub async fn list(&self, limit: usize) -> Result<Vec<DeadLetter>, Error> {
        let mut conn = self.redis.conn();
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.keys.dead_letters())
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(limit.clamp(1, i64::MAX as usize))
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(reply.ids.into_iter().map(|e| decode(e.id, &e.map)).collect())
    }

    /// Puts the entry back on the stream it came from (the persister writes it like a new entry,
    /// and an older snapshot than SQL's is still ignored) and removes the dead letter. Returns
    /// the new entry's id.
    pub async fn replay(&self, id: &str) -> Result<String, Error> {
        let letter = self.get(id).await?;
        let mut conn = self.redis.conn();
        let values = scripts::DEAD_LETTER_REPLAY
            .call()
            .key(self.keys.dead_letters())
            .key(&letter.stream)
            .arg(id)
            .run_ok(&mut conn)
            .await?;
        Ok(scripts::field(&values, 0, "dead_letter_replay")?.to_string())
    }

    /// Removes a dead letter without replaying it (reviewed and given up). `false` when there
    /// was none with this id.
    pub async fn remove(&self, id: &str) -> Result<bool, Error> {
        let mut conn = self.redis.conn();
        let n: u64 = redis::cmd("XDEL")
            .arg(self.keys.dead_letters())
            .arg(id)
            .query_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(n > 0)
    }

    async fn get(&self, id: &str) -> Result<DeadLetter, Error> {
        let mut conn = self.redis.conn();
        let reply: StreamRangeReply =
            redis::cmd("XRANGE").arg(self.keys.dead_letters()).arg(id).arg(id).query_async(&mut conn).await.map_err(
                |e| match e.kind() {
                    redis::ErrorKind::Server(_) => Error::not_found(format!("no dead letter {id}: {e}")),
                    _ => redis_error(e),
                },
            )?;
        reply
            .ids
            .into_iter()
            .next()
            .map(|e| decode(e.id, &e.map))
            .ok_or_else(|| Error::not_found(format!("no dead letter {id}")))
    }
}

fn decode(id: String, map: &std::collections::HashMap<String, redis::Value>) -> DeadLetter {
    let text = |name: &str| -> String {
        match map.get(name) {
            Some(redis::Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(redis::Value::SimpleString(s)) => s.clone(),
            _ => String::new(),
        }
    };
    DeadLetter {
        stream: text("stream"),
        entry: text("entry"),
        event: text("event"),
        reason: text("reason"),
        at_ms: text("at").parse().unwrap_or(0),
        fields: serde_json::from_str(&text("fields")).unwrap_or_default(),
        id,
    }
}
