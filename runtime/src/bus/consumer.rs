//! Durable consumption of event streams through a Redis consumer group.
//!
//! Each [`GroupConsumer::next_batch`] first re-claims entries another consumer of the group
//! took but never acknowledged for `claim_idle` (it crashed or hangs: XAUTOCLAIM), then reads
//! new entries (XREADGROUP, blocking up to `block`). Entries stay pending until acknowledged,
//! so a consumer killed mid-batch loses nothing. [`GroupConsumer::process`] adds exactly-once
//! processing per group on top through the group's [`DedupWindow`].

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use ::redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use ::redis::{ErrorKind, ServerErrorKind, Value as RedisValue};
use claudebench_contract::error::Error;
use serde_json::Value;

use super::check_event_name;
use super::dedup::{AckTarget, DedupWindow};
use crate::keys::Keys;
use crate::redis::{Conn, RedisHandle, redis_error};

/// Settings of one consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerOptions {
    /// Consumer group name (one per kind of processing, e.g. `persister`).
    pub group: String,
    /// This consumer's name within the group (unique per process, e.g. the instance id).
    pub consumer: String,
    /// Events whose streams are consumed.
    pub events: Vec<String>,
    /// The stream key of each event, when not the event's own stream in the control slot
    /// (a task partition's streams, say); same order as `events`. All in one hash slot: one
    /// read covers them (Redis Cluster refuses a read across slots).
    pub stream_keys: Option<Vec<String>>,
    /// Most entries returned per stream by one read.
    pub batch: usize,
    /// Longest wait for new entries in one read.
    pub block: Duration,
    /// Entries pending this long with another consumer are taken over.
    pub claim_idle: Duration,
    /// How long processed ids are remembered (exactly-once window).
    pub dedup_max_age: Duration,
    /// How many processed ids are remembered at most.
    pub dedup_max_count: u64,
}

impl ConsumerOptions {
    /// Defaults: batches of 100, 1 s blocking reads, re-claim after 30 s, remember 24 h / 100k ids.
    pub fn new(group: impl Into<String>, consumer: impl Into<String>, events: Vec<String>) -> Self {
        ConsumerOptions {
            group: group.into(),
            consumer: consumer.into(),
            events,
            stream_keys: None,
            batch: 100,
            block: Duration::from_secs(1),
            claim_idle: Duration::from_secs(30),
            dedup_max_age: Duration::from_secs(86_400),
            dedup_max_count: 100_000,
        }
    }
}

/// One stream entry delivered to this consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The event whose stream the entry belongs to.
    pub event: String,
    /// The stream key.
    pub stream_key: String,
    /// The entry id (`<ms>-<seq>`).
    pub id: String,
    /// The entry's fields (see `lua/lib/publish.lua`: event, payload, ts, entity, state, deleted).
    pub fields: HashMap<String, String>,
    /// Whether this is a take-over of an entry another consumer never acknowledged.
    pub reclaimed: bool,
}

impl Delivery {
    /// A field of the entry.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The decoded `payload` field (`null` when absent).
    pub fn payload(&self) -> Result<Value, Error> {
        match self.field("payload") {
            None => Ok(Value::Null),
            Some(raw) => serde_json::from_str(raw)
                .map_err(|e| Error::internal(format!("entry {} of {}: payload is not JSON: {e}", self.id, self.event))),
        }
    }

    /// The id under which the exactly-once window records this entry.
    pub fn dedup_id(&self) -> String {
        format!("{}:{}", self.event, self.id)
    }

    /// `(ms, seq)` of the entry id, for ordering entries of different streams.
    pub fn id_parts(&self) -> (u64, u64) {
        parse_entry_id(&self.id)
    }
}

/// Splits `<ms>-<seq>`; malformed parts count as 0.
pub fn parse_entry_id(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// A member of a consumer group reading the streams of some events.
pub struct GroupConsumer {
    redis: RedisHandle,
    conn: Conn,
    /// Dedicated connection for blocking reads; rebuilt after a failure.
    blocking: Option<Conn>,
    options: ConsumerOptions,
    streams: Vec<(String, String)>,
    /// XAUTOCLAIM cursor per stream key.
    claim_cursor: HashMap<String, String>,
    /// When stale entries of other consumers were last looked for (on a timer, not per read).
    last_reclaim: Option<std::time::Instant>,
    /// Whether this consumer's own un-acked entries must be read again (at start: a restarted
    /// consumer with the same name; after a failed batch).
    own_pending: bool,
    dedup: DedupWindow,
}

impl std::fmt::Debug for GroupConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupConsumer").field("options", &self.options).finish()
    }
}

impl GroupConsumer {
    /// Joins (creating where needed) the group on every stream, from the streams' beginning.
    pub async fn new(redis: &RedisHandle, keys: &Keys, options: ConsumerOptions) -> Result<Self, Error> {
        for event in &options.events {
            check_event_name(event)?;
        }
        if options.events.is_empty() {
            return Err(Error::internal("a consumer needs at least one event stream"));
        }
        let streams = match &options.stream_keys {
            Some(k) if k.len() == options.events.len() => {
                options.events.iter().cloned().zip(k.iter().cloned()).collect()
            }
            Some(_) => return Err(Error::internal("a consumer needs one stream key per event")),
            None => options.events.iter().map(|e| (e.clone(), keys.stream(e))).collect(),
        };
        let dedup = DedupWindow::new(redis, keys, &options.group, options.dedup_max_age, options.dedup_max_count);
        let consumer = GroupConsumer {
            redis: redis.clone(),
            conn: redis.conn(),
            blocking: None,
            options,
            streams,
            claim_cursor: HashMap::new(),
            last_reclaim: None,
            own_pending: true,
            dedup,
        };
        consumer.ensure_groups().await?;
        Ok(consumer)
    }

    /// The consumer's settings.
    pub fn options(&self) -> &ConsumerOptions {
        &self.options
    }

    /// Creates the group on every stream (and the stream itself) unless it exists.
    pub async fn ensure_groups(&self) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        for (_, key) in &self.streams {
            let created: Result<(), _> = ::redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(key)
                .arg(&self.options.group)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut conn)
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(redis_error(e)),
            }
        }
        Ok(())
    }

    /// The next entries to process: stale entries of dead consumers first, else new ones
    /// (waiting up to `block`). Empty when nothing arrived in time.
    pub async fn next_batch(&mut self) -> Result<Vec<Delivery>, Error> {
        match self.next_batch_inner().await {
            Err(e) if e.message.contains("NOGROUP") => {
                // The stream (and its group) vanished, e.g. Redis restarted empty: re-create.
                self.ensure_groups().await?;
                self.next_batch_inner().await
            }
            other => other,
        }
    }

    /// Makes the next [`next_batch`](Self::next_batch) return this consumer's own
    /// un-acknowledged entries again (call it after failing to process a batch).
    pub fn retry_pending(&mut self) {
        self.own_pending = true;
    }

    async fn next_batch_inner(&mut self) -> Result<Vec<Delivery>, Error> {
        if self.own_pending {
            let own = self.read_group(false).await?;
            if !own.is_empty() {
                return Ok(own);
            }
            self.own_pending = false;
        }
        // Entries only become stale after `claim_idle`, so looking twice per period is enough.
        let due = self.last_reclaim.is_none_or(|t| t.elapsed() >= self.options.claim_idle / 2);
        if due {
            let reclaimed = self.reclaim_stale().await?;
            if !reclaimed.is_empty() {
                return Ok(reclaimed);
            }
            self.last_reclaim = Some(std::time::Instant::now());
        }
        self.read_group(true).await
    }

    async fn reclaim_stale(&mut self) -> Result<Vec<Delivery>, Error> {
        let mut conn = self.conn.clone();
        let mut out = Vec::new();
        for (event, key) in &self.streams {
            let cursor = self.claim_cursor.get(key).cloned().unwrap_or_else(|| "0-0".to_string());
            let reply: Result<StreamAutoClaimReply, _> = ::redis::cmd("XAUTOCLAIM")
                .arg(key)
                .arg(&self.options.group)
                .arg(&self.options.consumer)
                .arg(self.options.claim_idle.as_millis() as u64)
                .arg(&cursor)
                .arg("COUNT")
                .arg(self.options.batch)
                .query_async(&mut conn)
                .await;
            let reply = match reply {
                Ok(r) => r,
                Err(e)
                    if e.kind() == ErrorKind::Server(ServerErrorKind::ResponseError) && e.code() == Some("NOGROUP") =>
                {
                    continue;
                }
                Err(e) => return Err(redis_error(e)),
            };
            self.claim_cursor.insert(key.clone(), reply.next_stream_id.clone());
            out.extend(reply.claimed.into_iter().map(|entry| to_delivery(event, key, entry, true)));
        }
        Ok(out)
    }

    /// XREADGROUP: new entries (`>`, blocking) or this consumer's own pending ones (`0`).
    async fn read_group(&mut self, new_entries: bool) -> Result<Vec<Delivery>, Error> {
        let mut cmd = ::redis::cmd("XREADGROUP");
        cmd.arg("GROUP").arg(&self.options.group).arg(&self.options.consumer).arg("COUNT").arg(self.options.batch);
        if new_entries {
            cmd.arg("BLOCK").arg(self.options.block.as_millis().max(1) as u64);
        }
        cmd.arg("STREAMS");
        for (_, key) in &self.streams {
            cmd.arg(key);
        }
        for _ in &self.streams {
            cmd.arg(if new_entries { ">" } else { "0" });
        }
        let reply: Result<Option<StreamReadReply>, _> = if new_entries {
            if self.blocking.is_none() {
                self.blocking = Some(self.redis.blocking_connection(self.options.block).await?);
            }
            let Some(conn) = self.blocking.as_mut() else {
                return Ok(Vec::new());
            };
            cmd.query_async(conn).await
        } else {
            cmd.query_async(&mut self.conn.clone()).await
        };
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                if e.is_unrecoverable_error() || e.is_io_error() || e.is_timeout() {
                    self.blocking = None;
                }
                return Err(redis_error(e));
            }
        };
        let mut out = Vec::new();
        let mut vanished = Vec::new();
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            let Some((event, key)) = self.streams.iter().find(|(_, k)| *k == stream.key) else {
                continue;
            };
            for entry in stream.ids {
                let delivery = to_delivery(event, key, entry, !new_entries);
                // A pending entry trimmed from the stream comes back without fields: there is
                // nothing left to process, so it is only acknowledged.
                if delivery.fields.is_empty() { vanished.push(delivery) } else { out.push(delivery) }
            }
        }
        if !vanished.is_empty() {
            self.ack(&vanished).await?;
        }
        Ok(out)
    }

    /// Acknowledges entries (they will not be delivered again).
    pub async fn ack(&self, deliveries: &[Delivery]) -> Result<(), Error> {
        let mut by_stream: HashMap<&str, Vec<&str>> = HashMap::new();
        for d in deliveries {
            by_stream.entry(d.stream_key.as_str()).or_default().push(d.id.as_str());
        }
        let mut conn = self.conn.clone();
        for (key, ids) in by_stream {
            let _: u64 = ::redis::cmd("XACK")
                .arg(key)
                .arg(&self.options.group)
                .arg(&ids)
                .query_async(&mut conn)
                .await
                .map_err(redis_error)?;
        }
        Ok(())
    }

    /// Entries of each consumed stream the group has not read yet, plus those read but not yet
    /// acknowledged (for the stream lag gauge). A stream whose lag Redis cannot tell (entries
    /// were deleted) counts its pending entries only.
    pub async fn lag(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut conn = self.conn.clone();
        let mut out = Vec::new();
        for (event, key) in &self.streams {
            out.push((event.clone(), group_backlog(&mut conn, key, &self.options.group).await?.entries));
        }
        Ok(out)
    }

    /// The group's exactly-once window.
    pub fn dedup(&self) -> &DedupWindow {
        &self.dedup
    }

    /// Processes one batch exactly once per group: entries the window already knows are only
    /// acknowledged; the others run `handler` and, on success, are recorded and acknowledged
    /// atomically. A failing handler leaves its entry pending, so it is re-delivered (after
    /// `claim_idle`). Returns how many entries ran the handler.
    ///
    /// Exactly-once holds for the handler's effect when that effect is recorded before the
    /// handler returns; a crash between the effect and the record re-runs the handler, so
    /// effects outside Redis should be idempotent (the persister's upserts are).
    pub async fn process<F, Fut>(&mut self, mut handler: F) -> Result<usize, Error>
    where
        F: FnMut(Delivery) -> Fut,
        Fut: Future<Output = Result<(), Error>>,
    {
        let batch = self.next_batch().await?;
        let mut ran = 0;
        for delivery in batch {
            let dedup_id = delivery.dedup_id();
            let target =
                AckTarget { stream_key: &delivery.stream_key, group: &self.options.group, entry_id: &delivery.id };
            if self.dedup.contains(&dedup_id).await? {
                self.dedup.record(&dedup_id, Some(target)).await?;
                continue;
            }
            let (stream_key, id) = (delivery.stream_key.clone(), delivery.id.clone());
            match handler(delivery).await {
                Ok(()) => {
                    ran += 1;
                    let target = AckTarget { stream_key: &stream_key, group: &self.options.group, entry_id: &id };
                    if self.dedup.record(&dedup_id, Some(target)).await? {
                        tracing::warn!(%dedup_id, "entry was processed concurrently by another consumer");
                    }
                }
                Err(e) => {
                    tracing::warn!(%dedup_id, error = %e, "handler failed; the entry stays pending for re-delivery");
                }
            }
        }
        Ok(ran)
    }
}

/// A stream entry read outside the group (e.g. by `XRANGE`) as a [`Delivery`].
pub fn delivery(event: &str, key: &str, entry: StreamId) -> Delivery {
    to_delivery(event, key, entry, false)
}

fn to_delivery(event: &str, key: &str, entry: StreamId, reclaimed: bool) -> Delivery {
    let fields = entry
        .map
        .into_iter()
        .filter_map(|(k, v)| match v {
            RedisValue::BulkString(bytes) => String::from_utf8(bytes).ok().map(|s| (k, s)),
            RedisValue::SimpleString(s) => Some((k, s)),
            RedisValue::Int(i) => Some((k, i.to_string())),
            _ => None,
        })
        .collect();
    Delivery { event: event.to_string(), stream_key: key.to_string(), id: entry.id, fields, reclaimed }
}

/// What a consumer group still has to process on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Entries never delivered plus entries delivered but not acknowledged.
    pub entries: u64,
    /// Time (ms since the epoch, from its id) of the oldest of them; `None` when there is none.
    pub oldest_ms: Option<u64>,
}

/// The backlog of consumer group `group` on `stream_key`; empty when the stream or the group
/// does not exist yet.
pub async fn group_backlog<C: ::redis::aio::ConnectionLike + Send>(
    conn: &mut C,
    stream_key: &str,
    group: &str,
) -> Result<Backlog, Error> {
    let groups: ::redis::streams::StreamInfoGroupsReply =
        match ::redis::cmd("XINFO").arg("GROUPS").arg(stream_key).query_async(conn).await {
            Ok(g) => g,
            Err(e) if e.code() == Some("ERR") => return Ok(Backlog::default()), // no such stream yet
            Err(e) => return Err(redis_error(e)),
        };
    let Some(g) = groups.groups.iter().find(|g| g.name == group) else { return Ok(Backlog::default()) };
    let entries = (g.lag.unwrap_or(0) + g.pending) as u64;
    if entries == 0 {
        return Ok(Backlog::default());
    }
    let oldest = if g.pending > 0 {
        let summary: ::redis::streams::StreamPendingReply =
            ::redis::cmd("XPENDING").arg(stream_key).arg(group).query_async(conn).await.map_err(redis_error)?;
        match summary {
            ::redis::streams::StreamPendingReply::Data(d) => Some(d.start_id),
            _ => None,
        }
    } else {
        let next: ::redis::streams::StreamRangeReply = ::redis::cmd("XRANGE")
            .arg(stream_key)
            .arg(format!("({}", g.last_delivered_id))
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query_async(conn)
            .await
            .map_err(redis_error)?;
        next.ids.into_iter().next().map(|e| e.id)
    };
    Ok(Backlog { entries, oldest_ms: oldest.map(|id| parse_entry_id(&id).0) })
}
