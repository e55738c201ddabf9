//! The outbox drain: a consumer group over the streams of persisted events, writing their
//! entity changes to SQL and acknowledging only after the commit.
//!
//! Failures split in two. An outage (SQL unreachable, a deadlock, a lock timeout, Redis down)
//! leaves the batch pending and retries it with backoff: nothing is skipped. An entry that can
//! never be written (not a task change, data the database refuses, a change that would overwrite
//! a different task) is found — by halving the batch until the refused change is alone — and
//! moved to the dead letters with the reason; everything else in the batch is written.

use std::future::Future;
use std::time::Duration;

use claudebench_contract::error::Error;
use serde_json::Value;

use super::dead_letter::DeadLetters;
use super::store::{ApplyStats, ChangeOrder, SqlStore, TaskChange, int_field, refused_data};
use crate::bus::{ConsumerOptions, Delivery, GroupConsumer};
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::redis::RedisHandle;

/// The consumer group every persister joins (one SQL write per entry across all instances).
pub const PERSISTER_GROUP: &str = "persister";

/// Entries read per stream in one step: large batches become few multi-row statements, which
/// is what lets SQL keep up with the full create rate.
const BATCH: usize = 1_000;

/// Entries another persister read but has not acknowledged for this long are taken over: its
/// process most likely died. Writes are idempotent, so taking over from one that was only slow
/// costs a duplicate write, never a wrong row.
const TAKE_OVER_AFTER: Duration = Duration::from_secs(5);

/// Drains entity changes from event streams into SQL.
#[derive(Debug)]
pub struct Persister {
    consumer: GroupConsumer,
    store: SqlStore,
    dead_letters: DeadLetters,
    metrics: Option<std::sync::Arc<Metrics>>,
}

/// What one [`Persister::step`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepStats {
    /// Entries acknowledged.
    pub entries: usize,
    /// What the SQL writes did.
    pub applied: ApplyStats,
    /// Entries moved to the dead letters.
    pub dead_lettered: usize,
}

impl Persister {
    /// A persister named `consumer` (unique per process) over the streams of `events`: each
    /// event's own stream, or the key `stream_keys` gives it (same order, one hash slot).
    pub async fn new(
        redis: &RedisHandle,
        keys: &Keys,
        store: SqlStore,
        events: Vec<String>,
        stream_keys: Option<Vec<String>>,
        consumer: &str,
    ) -> Result<Self, Error> {
        let mut options = ConsumerOptions::new(PERSISTER_GROUP, consumer, events);
        options.stream_keys = stream_keys;
        options.batch = BATCH;
        options.claim_idle = TAKE_OVER_AFTER;
        Self::with_options(redis, keys, store, options).await
    }

    /// A persister with explicit consumer options (batch size, blocking, take-over delay).
    pub async fn with_options(
        redis: &RedisHandle,
        keys: &Keys,
        store: SqlStore,
        options: ConsumerOptions,
    ) -> Result<Self, Error> {
        let consumer = GroupConsumer::new(redis, keys, options).await?;
        Ok(Persister { consumer, store, dead_letters: DeadLetters::new(redis, keys), metrics: None })
    }

    /// Counts dead letters in `metrics` (what `/health` and `/metrics` show).
    pub fn with_metrics(mut self, metrics: std::sync::Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Processes one batch: read (own un-acked entries first, then stale ones of dead
    /// persisters, then new ones), write every change in one SQL transaction, move what can
    /// never be written to the dead letters, then acknowledge. On an outage nothing is
    /// acknowledged, and the next step retries the same entries.
    pub async fn step(&mut self) -> Result<StepStats, Error> {
        let batch = self.consumer.next_batch().await?;
        if batch.is_empty() {
            return Ok(StepStats::default());
        }
        // The changes, and beside them the batch entry each came from.
        let (mut changes, mut entries) = (Vec::with_capacity(batch.len()), Vec::with_capacity(batch.len()));
        let mut poison: Vec<(usize, String)> = Vec::new();
        for (i, d) in batch.iter().enumerate() {
            match change_of(d) {
                Ok(Some(change)) => {
                    changes.push(change);
                    entries.push(i);
                }
                Ok(None) => {}
                Err(reason) => poison.push((i, reason)),
            }
        }
        let (applied, refused) = match self.write(&changes, &entries).await {
            Ok(done) => done,
            Err(e) => {
                self.consumer.retry_pending();
                return Err(e);
            }
        };
        poison.extend(refused);
        for (i, reason) in &poison {
            let d = &batch[*i];
            tracing::error!(stream = %d.stream_key, entry = %d.id, reason, "outbox entry moved to the dead letters");
            if let Err(e) = self.dead_letters.add(d, reason).await {
                self.consumer.retry_pending();
                return Err(e);
            }
            if let Some(m) = &self.metrics {
                m.dead_lettered();
            }
        }
        self.consumer.ack(&batch).await?;
        Ok(StepStats { entries: batch.len(), applied, dead_lettered: poison.len() })
    }

    /// Writes `changes` (`entries[i]` is the batch entry of `changes[i]`). Returns what was
    /// written and the entries refused for good, with the reason.
    async fn write(
        &self,
        changes: &[TaskChange],
        entries: &[usize],
    ) -> Result<(ApplyStats, Vec<(usize, String)>), Error> {
        if changes.is_empty() {
            return Ok((ApplyStats::default(), Vec::new()));
        }
        match self.store.apply(changes).await {
            Ok(mut stats) => {
                let refused = std::mem::take(&mut stats.rejected).into_iter().map(|(j, r)| (entries[j], r)).collect();
                Ok((stats, refused))
            }
            Err(e) if !refused_data(&e) => Err(e),
            Err(e) if changes.len() == 1 => {
                // Refused data, or an outage that looked like it: only a database that still
                // answers can have refused this change.
                self.store.ping().await?;
                Ok((ApplyStats::default(), vec![(entries[0], e.message)]))
            }
            Err(_) => {
                let half = changes.len() / 2;
                let (mut stats, mut refused) = Box::pin(self.write(&changes[..half], &entries[..half])).await?;
                let (more, more_refused) = Box::pin(self.write(&changes[half..], &entries[half..])).await?;
                stats.written += more.written;
                stats.stale += more.stale;
                refused.extend(more_refused);
                Ok((stats, refused))
            }
        }
    }

    /// Runs until `shutdown` completes, backing off after failures (SQL or Redis down).
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                result = timed(self.step()) => match result {
                    (Ok(stats), took) => {
                        if stats.entries > 0 {
                            tracing::debug!(entries = stats.entries, written = stats.applied.written, ms = took.as_millis() as u64, "persister step");
                        }
                        backoff = Duration::from_millis(100);
                    }
                    (Err(e), _) => {
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

async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let started = std::time::Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

/// The SQL change an entry carries: `Ok(None)` for entries without an entity change (plain
/// events) or of an entity without a table, `Err(reason)` for an entry that claims to carry a
/// task change but cannot be read as one.
pub fn change_of(d: &Delivery) -> Result<Option<TaskChange>, String> {
    let Some(entity) = d.field("entity") else { return Ok(None) };
    if entity != "task" {
        tracing::debug!(entity, event = %d.event, "no table for this entity; entry skipped");
        return Ok(None);
    }
    let (entry_ms, entry_seq) = d.id_parts();
    if let Some(id) = d.field("deleted") {
        if id.is_empty() {
            return Err("a task deletion without a task id".to_string());
        }
        let order = ChangeOrder { version: i64::MAX, entry_ms: entry_ms as i64, entry_seq: entry_seq as i64 };
        return Ok(Some(TaskChange::Delete { id: id.to_string(), order }));
    }
    let Some(raw) = d.field("state") else {
        return Err("a task change without a state (or with a state that is not UTF-8)".to_string());
    };
    let state: Value = match serde_json::from_str(raw) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Err("the task state is not a JSON object".to_string()),
        Err(e) => return Err(format!("the task state is not JSON: {e}")),
    };
    let id = match state.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => return Err("the task state has no id".to_string()),
    };
    let order = ChangeOrder {
        version: int_field(&state, "version").unwrap_or(0),
        entry_ms: entry_ms as i64,
        entry_seq: entry_seq as i64,
    };
    Ok(Some(TaskChange::Upsert { id, state, order }))
}
