//! The outbox drain: a consumer group over the streams of persisted events, writing their
//! entity changes to SQL and acknowledging only after the commit.

use std::future::Future;
use std::time::Duration;

use claudebench_generated::error::Error;
use serde_json::Value;

use super::store::{ApplyStats, ChangeOrder, SqlStore, TaskChange, int_field};
use crate::bus::{ConsumerOptions, Delivery, GroupConsumer};
use crate::keys::Keys;
use crate::redis::RedisHandle;

/// The consumer group every persister joins (one SQL write per entry across all instances).
pub const PERSISTER_GROUP: &str = "persister";

/// Drains entity changes from event streams into SQL.
#[derive(Debug)]
pub struct Persister {
    consumer: GroupConsumer,
    store: SqlStore,
}

impl Persister {
    /// A persister named `consumer` (unique per process) over the streams of `events`.
    pub async fn new(
        redis: &RedisHandle,
        keys: &Keys,
        store: SqlStore,
        events: Vec<String>,
        consumer: &str,
    ) -> Result<Self, Error> {
        Self::with_options(redis, keys, store, ConsumerOptions::new(PERSISTER_GROUP, consumer, events)).await
    }

    /// A persister with explicit consumer options (batch size, blocking, take-over delay).
    pub async fn with_options(
        redis: &RedisHandle,
        keys: &Keys,
        store: SqlStore,
        options: ConsumerOptions,
    ) -> Result<Self, Error> {
        let consumer = GroupConsumer::new(redis, keys, options).await?;
        Ok(Persister { consumer, store })
    }

    /// Processes one batch: read (own un-acked entries first, then stale ones of dead
    /// persisters, then new ones), write every change in one SQL transaction, then acknowledge.
    /// Returns the number of entries acknowledged. On failure nothing is acknowledged, and the
    /// next step retries the same entries.
    pub async fn step(&mut self) -> Result<(usize, ApplyStats), Error> {
        let batch = self.consumer.next_batch().await?;
        if batch.is_empty() {
            return Ok((0, ApplyStats::default()));
        }
        let changes: Vec<TaskChange> = batch.iter().filter_map(change_of).collect();
        let stats = if changes.is_empty() {
            ApplyStats::default()
        } else {
            match self.store.apply(&changes).await {
                Ok(stats) => stats,
                Err(e) => {
                    self.consumer.retry_pending();
                    return Err(e);
                }
            }
        };
        self.consumer.ack(&batch).await?;
        Ok((batch.len(), stats))
    }

    /// Runs until `shutdown` completes, backing off after failures (SQL or Redis down).
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                result = self.step() => match result {
                    Ok(_) => backoff = Duration::from_millis(100),
                    Err(e) => {
                        tracing::warn!(error = %e, "persister step failed; entries stay pending and are retried");
                        tokio::select! {
                            _ = &mut shutdown => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
    }

    /// The store written to.
    pub fn store(&self) -> &SqlStore {
        &self.store
    }
}

/// The SQL change an entry carries, if any. Entries of other entities are logged and skipped
/// (acknowledged): only tasks have a table.
fn change_of(d: &Delivery) -> Option<TaskChange> {
    let entity = d.field("entity")?;
    if entity != "task" {
        tracing::debug!(entity, event = %d.event, "no table for this entity; entry skipped");
        return None;
    }
    let (entry_ms, entry_seq) = d.id_parts();
    if let Some(id) = d.field("deleted") {
        let order = ChangeOrder { version: i64::MAX, entry_ms: entry_ms as i64, entry_seq: entry_seq as i64 };
        return Some(TaskChange::Delete { id: id.to_string(), order });
    }
    let raw = d.field("state")?;
    let state: Value = match serde_json::from_str(raw) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            tracing::error!(event = %d.event, id = %d.id, "task state is not a JSON object; entry skipped");
            return None;
        }
    };
    let Some(id) = state.get("id").and_then(Value::as_str).map(str::to_string) else {
        tracing::error!(event = %d.event, id = %d.id, "task state has no id; entry skipped");
        return None;
    };
    let order = ChangeOrder {
        version: int_field(&state, "version").unwrap_or(0),
        entry_ms: entry_ms as i64,
        entry_seq: entry_seq as i64,
    };
    Some(TaskChange::Upsert { id, state, order })
}
