//! Surviving Redis data loss while servers run: the epoch marker, task id reservations and
//! recovery.
//!
//! * **Detection.** The epoch marker (`{prefix}:epoch`) exists exactly while Redis holds complete
//!   task state. A Redis that restarted without persistence, failed over to an empty replica or
//!   was flushed has no marker, and every task script refuses to run there (`unavailable`): no
//!   write is acknowledged against lost state, and no id is handed out twice. Every instance
//!   checks the marker a few times a second ([`ensure_epoch`]), and at start.
//! * **Ids.** With SQL, the Redis id counter may only hand out ids up to a limit that was first
//!   reserved in SQL ([`top_up_ids`]). After a loss the counter restarts at the reservation, above
//!   every id ever issued — including ids of tasks that were acknowledged but had not reached
//!   SQL yet, which were lost with Redis.
//! * **Recovery.** One instance (a lock) raises the counter, restores unfinished tasks from SQL
//!   (they come back pending: their workers' claims were lost too), sets a new marker — writes
//!   resume here — and then restores finished tasks, so reads of old tasks work again shortly
//!   after.
//!
//! Without SQL there is nothing to recover from: the first check simply sets the marker.

use std::time::Duration;

use claudebench_contract::error::Error;
use claudebench_runtime::redis::Conn as ConnectionManager;
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::coordination::tasks::Tasks;
use claudebench_runtime::keys::Keys;
use claudebench_runtime::metrics::Metrics;
use claudebench_runtime::persist::{ID_BLOCK, SqlStore, StoredTask, seq_of};
use claudebench_runtime::redis::{RedisHandle, redis_error};
use claudebench_runtime::scripts;

/// How long the recovery lock lives without renewal; the holder renews it between pages.
const LOCK_TTL: Duration = Duration::from_secs(30);
/// Tasks read from SQL per page while restoring.
const PAGE: i64 = 2_000;
/// Restore scripts in flight at once.
const IN_FLIGHT: usize = 32;

/// What one [`ensure_epoch`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochCheck {
    /// The marker was there: Redis holds complete task state.
    Intact,
    /// The marker was missing and this instance recovered (or, without SQL, started) task state.
    Recovered(RecoveryStats),
    /// The marker is missing and another instance is recovering; check again shortly.
    RecoveringElsewhere,
}

/// What a recovery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecoveryStats {
    /// Unfinished tasks put back (pending), before writes resumed.
    pub unfinished: u64,
    /// Finished tasks put back, after writes resumed.
    pub finished: u64,
    /// Tasks Redis still had (left untouched).
    pub present: u64,
    /// Where the id counter restarted (0 without SQL).
    pub counter: i64,
}

/// Checks the epoch marker and, when it is missing, recovers task state from `store` (under a
/// lock, so one instance does it). `metrics` shows "recovering" from the moment the loss is seen
/// until writes resume (before finished tasks are restored).
pub async fn ensure_epoch(
    redis: &RedisHandle,
    keys: &Keys,
    tasks: &Tasks,
    store: Option<&SqlStore>,
    instance: &str,
    metrics: &Metrics,
) -> Result<EpochCheck, Error> {
    let mut con = redis.conn();
    let present: bool = redis::cmd("EXISTS").arg(keys.epoch()).query_async(&mut con).await.map_err(redis_error)?;
    if present {
        metrics.set_recovering(false);
        return Ok(EpochCheck::Intact);
    }
    metrics.set_recovering(true);
    let Some(lock) = RecoveryLock::take(&mut con, keys, instance).await? else {
        return Ok(EpochCheck::RecoveringElsewhere);
    };
    let result = recover(&mut con, keys, tasks, store, &lock, || metrics.set_recovering(false)).await;
    // Released whatever happened (only if still ours): a failed recovery is retried by the next
    // check, here or on another instance.
    let _ = lock.step(&mut con, "release", "").await;
    result.map(EpochCheck::Recovered)
}

/// This recovery's hold on the recovery lock (`lua/recovery_lock.lua`). Its token is unique to
/// the attempt, so a lock lost with Redis and taken again is never mistaken for ours.
struct RecoveryLock {
    keys: Keys,
    token: String,
}

impl RecoveryLock {
    async fn take(con: &mut ConnectionManager, keys: &Keys, instance: &str) -> Result<Option<Self>, Error> {
        static ATTEMPTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let attempt = ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = format!("{instance}@{}#{attempt}", crate::coordination::now_ms());
        let taken: Option<String> = redis::cmd("SET")
            .arg(keys.recovery_lock())
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_TTL.as_millis() as u64)
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(taken.map(|_| RecoveryLock { keys: keys.clone(), token }))
    }

    /// Runs `action` if the lock is still ours; an error when it is not (Redis lost its data
    /// again, or the lock expired): the recovery must stop and start over.
    async fn step(&self, con: &mut ConnectionManager, action: &str, arg: &str) -> Result<(), Error> {
        let values = scripts::RECOVERY_LOCK
            .call()
            .key(self.keys.recovery_lock())
            .key(self.keys.epoch())
            .arg(&self.token)
            .arg(action)
            .arg(arg)
            .run_ok(con)
            .await?;
        if scripts::field(&values, 0, "recovery_lock")? == "1" {
            Ok(())
        } else {
            Err(Error::unavailable("the recovery lost its lock (Redis lost its data again?); recovery starts over"))
        }
    }

    async fn renew(&self, con: &mut ConnectionManager) -> Result<(), Error> {
        self.step(con, "renew", &LOCK_TTL.as_millis().to_string()).await
    }
}

async fn recover(
    con: &mut ConnectionManager,
    keys: &Keys,
    tasks: &Tasks,
    store: Option<&SqlStore>,
    lock: &RecoveryLock,
    on_resume: impl FnOnce(),
) -> Result<RecoveryStats, Error> {
    let mut stats = RecoveryStats::default();
    if let Some(store) = store {
        // SQL first takes every change Redis still holds (the marker alone may have been lost),
        // so no task deleted or changed in Redis comes back in an older form from SQL.
        catch_up(con, keys, store).await?;
        stats.counter = restart_ids(con, keys, store).await?;
        restore_all(con, tasks, store, true, Some(lock), &mut stats).await?;
    }
    let epoch = lock.token.clone();
    lock.step(con, "finish", &epoch).await?;
    on_resume();
    if let Some(store) = store {
        restore_all(con, tasks, store, false, Some(lock), &mut stats).await?;
    }
    tracing::warn!(
        epoch,
        unfinished = stats.unfinished,
        finished = stats.finished,
        present = stats.present,
        counter = stats.counter,
        "task state recovered (Redis had lost it, or this is the deployment's first start)"
    );
    Ok(stats)
}

/// Puts back every task SQL has and Redis lacks (unfinished ones pending), raising the id
/// counter first; the epoch marker is left alone. What recovery does, for an operator's manual
/// repair (`claudebench rehydrate`) and for tests.
pub async fn rehydrate(
    redis: &RedisHandle,
    keys: &Keys,
    tasks: &Tasks,
    store: &SqlStore,
) -> Result<RecoveryStats, Error> {
    let mut con = redis.conn();
    let mut stats = RecoveryStats { counter: restart_ids(&mut con, keys, store).await?, ..Default::default() };
    catch_up(&mut con, keys, store).await?;
    restore_all(&mut con, tasks, store, true, None, &mut stats).await?;
    restore_all(&mut con, tasks, store, false, None, &mut stats).await?;
    Ok(stats)
}

/// Raises the id counter above every id ever issued (reserved), stored (rows older than any
/// reservation) or still counted in Redis, with a fresh reservation above it; returns the
/// counter.
async fn restart_ids(con: &mut ConnectionManager, keys: &Keys, store: &SqlStore) -> Result<i64, Error> {
    let counter: Option<i64> = redis::cmd("GET").arg(keys.task_seq()).query_async(con).await.map_err(redis_error)?;
    let base = store.reserved_ids().await?.max(store.max_seq().await?).max(counter.unwrap_or(0));
    let limit = store.reserve_ids(base, ID_BLOCK).await?;
    raise_ids(con, keys, Some(base), limit).await?;
    Ok(base)
}

/// Restores every unfinished (or every finished) task of `store`, page by page.
async fn restore_all(
    con: &mut ConnectionManager,
    tasks: &Tasks,
    store: &SqlStore,
    unfinished: bool,
    lock: Option<&RecoveryLock>,
    stats: &mut RecoveryStats,
) -> Result<(), Error> {
    let mut after = 0;
    loop {
        let page = store.tasks_page(unfinished, after, PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = seq_of(&last.id).max(after + 1);
        let restored = restore_page(con, tasks, page).await?;
        if unfinished {
            stats.unfinished += restored.0;
        } else {
            stats.finished += restored.0;
        }
        stats.present += restored.1;
        if let Some(lock) = lock {
            lock.renew(con).await?;
        }
    }
}

/// Writes every task change still in Redis' outbox streams to SQL (idempotent: what SQL has
/// is skipped as stale), so SQL is the newest copy before recovery reads it. After a full loss
/// the streams are empty and this costs nothing; entries that cannot be read are left to the
/// persister, which dead-letters them.
async fn catch_up(con: &mut ConnectionManager, keys: &Keys, store: &SqlStore) -> Result<(), Error> {
    for event in crate::coordination::tasks::TASK_STREAMS {
        let key = keys.stream(event);
        let mut start = "-".to_string();
        loop {
            let page: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(&key)
                .arg(&start)
                .arg("+")
                .arg("COUNT")
                .arg(PAGE)
                .query_async(con)
                .await
                .map_err(redis_error)?;
            let Some(last) = page.ids.last() else { break };
            start = format!("({}", last.id);
            let changes: Vec<_> = page
                .ids
                .into_iter()
                .filter_map(|entry| {
                    claudebench_runtime::persist::change_of(&claudebench_runtime::bus::consumer::delivery(
                        event, &key, entry,
                    ))
                    .ok()
                    .flatten()
                })
                .collect();
            if !changes.is_empty() {
                store.apply(&changes).await?;
            }
        }
    }
    Ok(())
}

/// Restores one page with bounded concurrency: (restored, present).
async fn restore_page(con: &ConnectionManager, tasks: &Tasks, page: Vec<StoredTask>) -> Result<(u64, u64), Error> {
    let results: Vec<bool> = stream::iter(page)
        .map(|task| {
            let mut con = con.clone();
            async move { tasks.restore(&mut con, &task.state).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await?;
    let restored = results.iter().filter(|r| **r).count() as u64;
    Ok((restored, results.len() as u64 - restored))
}

/// Keeps the id limit at least half a block ahead of the counter, reserving in SQL first. Runs
/// on every instance about once a second; concurrent top-ups only reserve more. Returns the new
/// limit when it reserved.
pub async fn top_up_ids(redis: &RedisHandle, keys: &Keys, store: &SqlStore) -> Result<Option<i64>, Error> {
    let mut con = redis.conn();
    let (counter, limit): (Option<i64>, Option<i64>) = redis::cmd("MGET")
        .arg(keys.task_seq())
        .arg(keys.task_seq_limit())
        .query_async(&mut con)
        .await
        .map_err(redis_error)?;
    let counter = counter.unwrap_or(0);
    if limit.is_some_and(|l| l - counter >= ID_BLOCK / 2) {
        return Ok(None);
    }
    let reserved = store.reserve_ids(counter.max(limit.unwrap_or(0)), ID_BLOCK).await?;
    raise_ids(&mut con, keys, None, reserved).await?;
    Ok(Some(reserved))
}

/// Raises the counter to `floor` (when given) and the limit to `limit`; never lowers either.
async fn raise_ids(con: &mut ConnectionManager, keys: &Keys, floor: Option<i64>, limit: i64) -> Result<(), Error> {
    scripts::ID_RANGE_RAISE
        .call()
        .key(keys.task_seq())
        .key(keys.task_seq_limit())
        .arg(floor.map(|f| f.to_string()).unwrap_or_default())
        .arg(limit)
        .run_ok(con)
        .await?;
    Ok(())
}
