//! Batch coordination: one processor at a time per batch (a lock with owner and TTL), progress
//! the owner really advances, and release on completion (or on giving up, keeping the progress
//! for whoever resumes).

use claudebench_contract::error::{Error, ErrorCode};
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};

use super::script::{Lua, eval_ok, field, lua, redis_error};
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

static ACQUIRE: Lua = lua!("batch_acquire");
static PROGRESS: Lua = lua!("batch_progress");
static FINISH: Lua = lua!("batch_finish", "publish");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 3] = [&ACQUIRE, &PROGRESS, &FINISH];

/// Why [`Batches::acquire`] answered as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    /// The caller holds the lock now.
    Acquired,
    /// Another processor holds a valid lock.
    Held,
    /// The batch is already done.
    Completed,
}

/// Answer of [`Batches::acquire`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchLock {
    pub acquired: bool,
    pub state: LockState,
    /// The holder (the caller when acquired; empty if none).
    pub owner: String,
    /// Items processed so far (kept across a takeover, so work resumes).
    pub processed: u64,
    pub total: u64,
}

/// Progress of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchProgress {
    pub processed: u64,
    pub total: u64,
}

/// Batches under one key prefix.
#[derive(Debug, Clone)]
pub struct Batches {
    keys: Keys,
    config: CoordinationConfig,
}

fn n(v: &[String], i: usize) -> Result<u64, Error> {
    field(v, i, "batch")?.parse().map_err(|_| Error::internal("batch script: not a number"))
}

fn check(batch_id: &str, processor: &str) -> Result<(), Error> {
    if batch_id.is_empty() || processor.is_empty() {
        return Err(Error::new(ErrorCode::Validation, "batch id and processor id must not be empty"));
    }
    Ok(())
}

impl Batches {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Batches { keys, config }
    }

    /// Try to become the processor of `batch_id` (`total` items) for `lock_ttl_ms`. Refused
    /// while someone else holds a valid lock; a lapsed lock is taken over.
    pub async fn acquire<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
        processor: &str,
        total: u64,
        lock_ttl_ms: u64,
    ) -> Result<BatchLock, Error> {
        let v = self.lock_step(con, &ACQUIRE, batch_id, processor, total, lock_ttl_ms).await?;
        let state = match field(&v, 1, "batch_acquire")? {
            "acquired" => LockState::Acquired,
            "completed" => LockState::Completed,
            _ => LockState::Held,
        };
        Ok(BatchLock {
            acquired: field(&v, 0, "batch_acquire")? == "1",
            state,
            owner: field(&v, 2, "batch_acquire")?.to_string(),
            processed: n(&v, 3)?,
            total: n(&v, 4)?,
        })
    }

    /// The owner records that `processed` items are done (monotonic, capped at the total) and
    /// extends its lock. `conflict` if the caller does not hold the lock, `not_found` if unknown.
    pub async fn progress<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
        processor: &str,
        processed: u64,
        lock_ttl_ms: u64,
    ) -> Result<BatchProgress, Error> {
        let v = self.lock_step(con, &PROGRESS, batch_id, processor, processed, lock_ttl_ms).await?;
        Ok(BatchProgress { processed: n(&v, 0)?, total: n(&v, 1)? })
    }

    /// The owner finishes the batch and frees the lock; publishes `batch.completed`.
    pub async fn complete<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
        processor: &str,
        processed: u64,
    ) -> Result<BatchProgress, Error> {
        self.finish(con, batch_id, processor, processed, true).await
    }

    /// The owner gives up without finishing: the lock is freed at once and the progress kept.
    pub async fn release<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
        processor: &str,
        processed: u64,
    ) -> Result<BatchProgress, Error> {
        self.finish(con, batch_id, processor, processed, false).await
    }

    /// Acquire and progress take the same arguments: the processor, a count (the total, or the
    /// items done), the lock's time to live, the time and the record's retention.
    async fn lock_step<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        script: &Lua,
        batch_id: &str,
        processor: &str,
        count: u64,
        lock_ttl_ms: u64,
    ) -> Result<Vec<String>, Error> {
        check(batch_id, processor)?;
        let args = [
            processor.to_string(),
            count.to_string(),
            lock_ttl_ms.max(1).to_string(),
            iso_millis(now_ms()),
            self.config.batch_retention_ms.to_string(),
        ];
        eval_ok(con, script, &[self.keys.batch(batch_id)], &args).await
    }

    async fn finish<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
        processor: &str,
        processed: u64,
        completed: bool,
    ) -> Result<BatchProgress, Error> {
        check(batch_id, processor)?;
        let now = now_ms();
        let keys = [self.keys.batch(batch_id), self.keys.stream("batch.completed")];
        let args = [
            processor.to_string(),
            if completed { "1" } else { "0" }.to_string(),
            processed.to_string(),
            now.to_string(),
            iso_millis(now),
            self.config.batch_retention_ms.to_string(),
            self.config.stream_maxlen.to_string(),
            self.keys.channel("batch.completed"),
            batch_id.to_string(),
        ];
        let v = eval_ok(con, &FINISH, &keys, &args).await?;
        Ok(BatchProgress { processed: n(&v, 0)?, total: n(&v, 1)? })
    }

    /// Current progress and status (`processing`, `released`, `completed`) of a batch, if known.
    pub async fn status<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
    ) -> Result<Option<(String, BatchProgress)>, Error> {
        let v: (Option<String>, Option<u64>, Option<u64>) = redis::cmd("HMGET")
            .arg(self.keys.batch(batch_id))
            .arg("status")
            .arg("processed")
            .arg("total")
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(v.0.map(|s| (s, BatchProgress { processed: v.1.unwrap_or(0), total: v.2.unwrap_or(0) })))
    }

    /// Who completed a batch, while its record is kept (`batch_retention_ms`); `None` for a
    /// batch that is unknown, expired or not completed.
    pub async fn completed_by<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        batch_id: &str,
    ) -> Result<Option<String>, Error> {
        let by: Option<String> = redis::cmd("HGET")
            .arg(self.keys.batch(batch_id))
            .arg("completedBy")
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(by.filter(|s| !s.is_empty()))
    }
}
