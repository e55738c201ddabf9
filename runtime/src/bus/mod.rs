//! The event bus: every event is appended to a durable stream (`{cb}:stream:<event>`, capped)
//! and announced on a pub/sub channel (`cb:events:<event>`) in one script call.
//!
//! * live delivery: [`EventBus::subscribe`] with glob patterns (`task.*`), bounded buffering;
//! * durable delivery: [`consumer::GroupConsumer`] (consumer groups, acks, re-delivery of stale
//!   entries, exactly-once processing per group through [`dedup::DedupWindow`]);
//! * ordering per key: [`partition::PartitionLog`].

pub mod consumer;
pub mod dedup;
pub mod partition;
pub mod subscribe;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use claudebench_contract::error::Error;
use serde_json::Value;

use crate::keys::Keys;
use crate::redis::RedisHandle;
use crate::scripts;

pub use consumer::{ConsumerOptions, Delivery, GroupConsumer};
pub use dedup::DedupWindow;
pub use partition::{PartitionEntry, PartitionLog};
pub use subscribe::{BusMessage, Subscription};

/// A persisted entity change carried by an event's stream entry (the outbox record).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EntityChange<'a> {
    /// The entity's full state after the change (upserted into SQL).
    State { entity: &'a str, state: &'a Value },
    /// The entity with this id was removed.
    Deleted { entity: &'a str, id: &'a str },
}

/// Publishing and subscribing to events.
#[derive(Debug, Clone)]
pub struct EventBus {
    redis: RedisHandle,
    keys: Keys,
    maxlen: u64,
}

impl EventBus {
    /// A bus over `redis`, keys under `keys`, every stream capped near `maxlen` entries.
    pub fn new(redis: &RedisHandle, keys: Keys, maxlen: u64) -> Self {
        EventBus { redis: redis.clone(), keys, maxlen: maxlen.max(1) }
    }

    /// The key builder in use.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The Redis handle in use.
    pub fn redis(&self) -> &RedisHandle {
        &self.redis
    }

    /// Appends `event` to its stream and announces it, in one round trip; returns the entry id.
    pub async fn publish(&self, event: &str, payload: &Value) -> Result<String, Error> {
        self.publish_with(event, payload, None).await
    }

    /// Like [`publish`](Self::publish), with the entity change the persister writes to SQL.
    pub async fn publish_change(
        &self,
        event: &str,
        payload: &Value,
        change: EntityChange<'_>,
    ) -> Result<String, Error> {
        self.publish_with(event, payload, Some(change)).await
    }

    async fn publish_with(
        &self,
        event: &str,
        payload: &Value,
        change: Option<EntityChange<'_>>,
    ) -> Result<String, Error> {
        check_event_name(event)?;
        let (entity, state, deleted) = match change {
            None => (String::new(), String::new(), String::new()),
            Some(EntityChange::State { entity, state }) => (entity.to_string(), state.to_string(), String::new()),
            Some(EntityChange::Deleted { entity, id }) => (entity.to_string(), String::new(), id.to_string()),
        };
        let mut conn = self.redis.conn();
        let values = scripts::PUBLISH
            .call()
            .key(self.keys.stream(event))
            .arg(self.keys.channel(event))
            .arg(self.maxlen)
            .arg(event)
            .arg(payload.to_string())
            .arg(entity)
            .arg(state)
            .arg(deleted)
            .run_ok(&mut conn)
            .await?;
        Ok(scripts::field(&values, 0, "publish")?.to_string())
    }

    /// Trims the streams of `events` (`lua/outbox_trim.lua`): entries older than `retention`,
    /// and entries beyond the bus's cap, go — except, when `unread_by` names a consumer group,
    /// any entry that group has not acknowledged (a stream without that group is left whole).
    /// Returns how many entries were removed. Meant for a periodic job.
    pub async fn trim(&self, events: &[&str], unread_by: Option<&str>, retention: Duration) -> Result<u64, Error> {
        let streams: Vec<String> = events.iter().map(|e| self.keys.stream(e)).collect();
        self.trim_streams(&streams, unread_by, retention).await
    }

    /// [`trim`](Self::trim) for streams named by key (e.g. a task partition's).
    pub async fn trim_streams(
        &self,
        streams: &[String],
        unread_by: Option<&str>,
        retention: Duration,
    ) -> Result<u64, Error> {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        let min_id = format!("{}-0", now_ms.saturating_sub(retention.as_millis() as u64));
        let mut conn = self.redis.conn();
        let mut removed = 0u64;
        for key in streams {
            let values = scripts::OUTBOX_TRIM
                .call()
                .key(key)
                .arg(unread_by.unwrap_or(""))
                .arg(self.maxlen)
                .arg(&min_id)
                .run_ok(&mut conn)
                .await?;
            let n: u64 = scripts::int(&values, 0, "outbox_trim")?;
            removed += n;
        }
        Ok(removed)
    }

    /// Live events whose names match any of `patterns` (globs: `task.*`, `*`), buffered up to
    /// `capacity` messages; when the subscriber falls behind, newer messages are dropped (and
    /// counted) instead of buffering without bound.
    pub async fn subscribe(&self, patterns: &[&str], capacity: usize) -> Result<Subscription, Error> {
        for p in patterns {
            check_event_pattern(p)?;
        }
        let channels = patterns.iter().map(|p| self.keys.channel(p)).collect();
        subscribe::subscribe(self.redis.clone(), channels, capacity).await
    }
}

/// Event names are `domain.action` style identifiers; anything else is refused before it can
/// corrupt a key or the JSON the prelude builds around it.
pub fn check_event_name(event: &str) -> Result<(), Error> {
    let ok = !event.is_empty()
        && event.len() <= 200
        && event.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok { Ok(()) } else { Err(Error::internal(format!("invalid event name {event:?}"))) }
}

fn check_event_pattern(pattern: &str) -> Result<(), Error> {
    let ok = !pattern.is_empty()
        && pattern.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':' | b'*' | b'?'));
    if ok { Ok(()) } else { Err(Error::internal(format!("invalid event pattern {pattern:?}"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_that_could_break_keys_or_json_are_refused() {
        assert!(check_event_name("task.created").is_ok());
        assert!(check_event_name("").is_err());
        assert!(check_event_name("a\"b").is_err());
        assert!(check_event_name("task.*").is_err());
        assert!(check_event_pattern("task.*").is_ok());
        assert!(check_event_pattern("a b").is_err());
    }
}
