//! Surviving Redis data loss while servers run: the epoch markers, task id reservations and
//! recovery, per task partition (on a Redis Cluster one master can lose its partitions while
//! the others keep theirs).
//!
//! * **Detection.** A partition's epoch marker exists exactly while Redis holds the partition's
//!   complete task state. A Redis that restarted without persistence, failed over to an empty
//!   replica or was flushed has no marker, and every task script refuses to change tasks there
//!   (`unavailable`): no write is acknowledged against lost state, and no id is handed out
//!   twice. Every instance checks the markers a few times a second ([`ensure_epoch`]), and at
//!   start.
//! * **Ids.** With SQL, each partition's id counter may only hand out ids up to a limit that
//!   was first reserved in SQL ([`top_up_ids`]). After a loss the counter restarts at the
//!   reservation, above every id ever issued — including ids of tasks that were acknowledged but
//!   had not reached SQL yet, which were lost with Redis.
//! * **Recovery.** One instance (a lock in the control slot) recovers each partition that lost
//!   its marker: SQL first takes what the partition's outbox still holds, the counter is raised,
//!   unfinished tasks come back (pending: their workers' claims were lost too), finished ones
//!   are marked retired in SQL (SQL answers for them from now on, as for any finished task that
//!   left Redis), and a new marker is set — guarded by a token in the partition itself, so a
//!   partition that lost its data again meanwhile is not reopened.
//!
//! Without SQL there is nothing to recover from: the first check simply sets the markers.

use std::time::Duration;

use claudebench_contract::error::Error;
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::aio::ConnectionLike;

use crate::coordination::tasks::{TASK_STREAMS, Tasks};
use claudebench_runtime::keys::{Keys, PartitionKeys};
use claudebench_runtime::metrics::Metrics;
use claudebench_runtime::persist::{ID_BLOCK, SqlStore, StoredTask, seq_of};
use claudebench_runtime::redis::{RedisHandle, redis_error};
use claudebench_runtime::scripts::{self, Lua};

/// `lua/partition_epoch.lua`.
static PARTITION_EPOCH: Lua = claudebench_runtime::lua!("partition_epoch");
/// The scripts of this module, for loading at start.
pub static SCRIPTS: [&Lua; 1] = [&PARTITION_EPOCH];

/// How long the recovery lock lives without renewal; the holder renews it between pages.
const LOCK_TTL: Duration = Duration::from_secs(30);
/// Tasks read from SQL per page while restoring.
const PAGE: i64 = 2_000;
/// Restore scripts in flight at once.
const IN_FLIGHT: usize = 32;

/// What one [`ensure_epoch`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochCheck {
    /// Every marker was there: Redis holds complete task state.
    Intact,
    /// Markers were missing and this instance recovered (or, without SQL, started) those
    /// partitions.
    Recovered(RecoveryStats),
    /// Markers are missing and another instance is recovering; check again shortly.
    RecoveringElsewhere,
}

/// What a recovery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecoveryStats {
    /// Partitions recovered.
    pub partitions: u64,
    /// Unfinished tasks put back (pending).
    pub unfinished: u64,
    /// Finished tasks now answered for by SQL alone (marked retired).
    pub finished: u64,
    /// Tasks Redis still had (left untouched).
    pub present: u64,
    /// Where the id counters restarted (the highest id reserved or stored; 0 without SQL).
    pub counter: i64,
}

/// Checks every partition's epoch marker and recovers, from `store`, the partitions that lost
/// it (under a lock, so one instance does it). `metrics` shows "recovering" from the moment a
/// loss is seen until writes resume.
pub async fn ensure_epoch(
    redis: &RedisHandle,
    keys: &Keys,
    tasks: &Tasks,
    store: Option<&SqlStore>,
    instance: &str,
    metrics: &Metrics,
) -> Result<EpochCheck, Error> {
    let mut con = redis.conn();
    let lost = lost_partitions(&mut con, tasks).await?;
    if lost.is_empty() {
        metrics.set_recovering(false);
        return Ok(EpochCheck::Intact);
    }
    metrics.set_recovering(true);
    // A server with another partition count must not recover (into its own layout) what it
    // would then hand out a second time; the count is checked again here because the Redis
    // copy of the record may have been lost with the markers.
    check_partition_count(&mut con, keys, tasks, store).await?;
    let Some(lock) = RecoveryLock::take(&mut con, keys, instance).await? else {
        return Ok(EpochCheck::RecoveringElsewhere);
    };
    let mut stats = RecoveryStats::default();
    let result = recover_all(&mut con, &lost, tasks, store, &lock, &mut stats).await;
    // Released whatever happened (only if still ours): a failed recovery is retried by the next
    // check, here or on another instance.
    let _ = lock.step(&mut con, "release", "").await;
    result?;
    metrics.set_recovering(false);
    tracing::warn!(?stats, "task state recovered (Redis had lost it, or this is the deployment's first start)");
    Ok(EpochCheck::Recovered(stats))
}

/// Recovers `lost` partitions under one id reservation: the ids of every partition restart
/// above one base, so creation order across partitions stays close to id order.
async fn recover_all<C: ConnectionLike + Send + Clone>(
    con: &mut C,
    lost: &[&PartitionKeys],
    tasks: &Tasks,
    store: Option<&SqlStore>,
    lock: &RecoveryLock,
    stats: &mut RecoveryStats,
) -> Result<(), Error> {
    let ids = match store {
        Some(store) => Some(reserve_above_everything(con, tasks, store).await?),
        None => None,
    };
    for part in lost {
        recover(con, part, tasks, store, ids, lock, stats).await?;
    }
    Ok(())
}

/// Task partition counts: ids route to partitions by the count, so a deployment keeps the one
/// it first ran with. Recorded in SQL (which outlives Redis) when there is SQL, and in Redis
/// (for deployments without SQL, and for a fast check): another count is refused with a
/// message naming both.
pub async fn check_partition_count<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    tasks: &Tasks,
    store: Option<&SqlStore>,
) -> Result<(), Error> {
    let count = tasks.partitions().count();
    let refuse = |recorded: u32, where_: &str| {
        Error::new(
            claudebench_contract::error::ErrorCode::Validation,
            format!(
                "CLAUDEBENCH_PARTITIONS={count}, but this deployment (prefix {}) keeps its tasks in {recorded} \
                 partitions ({where_}); start with CLAUDEBENCH_PARTITIONS={recorded} (the count is fixed for \
                 a deployment)",
                keys.prefix()
            ),
        )
    };
    if let Some(store) = store {
        let recorded = store.partition_count(count).await?;
        if recorded != count {
            return Err(refuse(recorded, "recorded in SQL"));
        }
    }
    let key = keys.partition_count();
    let _: bool = redis::cmd("SET").arg(&key).arg(count).arg("NX").query_async(con).await.map_err(redis_error)?;
    let recorded: Option<u32> = redis::cmd("GET").arg(&key).query_async(con).await.map_err(redis_error)?;
    match recorded {
        Some(n) if n != count => Err(refuse(n, "recorded in Redis")),
        _ => Ok(()),
    }
}

/// The partitions whose epoch marker is missing.
async fn lost_partitions<'a, C: ConnectionLike + Send>(
    con: &mut C,
    tasks: &'a Tasks,
) -> Result<Vec<&'a PartitionKeys>, Error> {
    let mut lost = Vec::new();
    for part in tasks.partitions().all() {
        let present: bool = redis::cmd("EXISTS").arg(part.epoch()).query_async(con).await.map_err(redis_error)?;
        if !present {
            lost.push(part);
        }
    }
    Ok(lost)
}

/// This recovery's hold on the recovery lock (`lua/recovery_lock.lua`). Its token is unique to
/// the attempt, so a lock lost with Redis and taken again is never mistaken for ours.
struct RecoveryLock {
    keys: Keys,
    token: String,
}

impl RecoveryLock {
    async fn take<C: ConnectionLike + Send>(con: &mut C, keys: &Keys, instance: &str) -> Result<Option<Self>, Error> {
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
    async fn step<C: ConnectionLike + Send>(&self, con: &mut C, action: &str, arg: &str) -> Result<(), Error> {
        let values = scripts::RECOVERY_LOCK
            .call()
            .key(self.keys.recovery_lock())
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

    async fn renew<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<(), Error> {
        self.step(con, "renew", &LOCK_TTL.as_millis().to_string()).await
    }
}

/// Recovers one partition that lost its marker; with SQL, its counter restarts at `ids`
/// (base, limit) from [`reserve_above_everything`].
async fn recover<C: ConnectionLike + Send + Clone>(
    con: &mut C,
    part: &PartitionKeys,
    tasks: &Tasks,
    store: Option<&SqlStore>,
    ids: Option<(i64, i64)>,
    lock: &RecoveryLock,
    stats: &mut RecoveryStats,
) -> Result<(), Error> {
    let token = format!("{}/{}", lock.token, part.index());
    partition_epoch(con, part, &token, "begin").await?;
    if let (Some(store), Some((base, limit))) = (store, ids) {
        // SQL first takes every change Redis still holds (the marker alone may have been lost),
        // so no task deleted or changed in Redis comes back in an older form from SQL.
        catch_up(con, part, store).await?;
        raise_ids(con, part, Some(last_id_at_or_below(base, part)), limit).await?;
        stats.counter = stats.counter.max(base);
        restore_unfinished(con, part, tasks, store, Some(lock), stats).await?;
        retire_absent(con, part, store, stats).await?;
    }
    if !partition_epoch(con, part, &token, "finish").await? {
        return Err(Error::unavailable(format!(
            "task partition {} lost its data again during recovery; recovery starts over",
            part.index()
        )));
    }
    stats.partitions += 1;
    Ok(())
}

/// Lets SQL alone answer for the finished tasks of one partition that Redis lacks (their rows
/// are marked retired, at the version SQL holds); tasks Redis still holds stay as they are.
async fn retire_absent<C: ConnectionLike + Send>(
    con: &mut C,
    part: &PartitionKeys,
    store: &SqlStore,
    stats: &mut RecoveryStats,
) -> Result<(), Error> {
    let mut after = 0;
    loop {
        let page = store.tasks_page(false, (part.count(), part.index()), after, PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = seq_of(&last.id).max(after + 1);
        let mut pipe = redis::pipe();
        for t in &page {
            pipe.exists(part.task(&t.id));
        }
        let present: Vec<bool> = pipe.query_async(con).await.map_err(redis_error)?;
        let absent: Vec<(String, i64)> =
            page.iter().zip(present).filter(|(_, here)| !here).map(|(t, _)| (t.id.clone(), t.order.version)).collect();
        stats.present += (page.len() - absent.len()) as u64;
        stats.finished += store.retire(&absent).await?.len() as u64;
    }
}

/// Runs `lua/partition_epoch.lua`; `false` when finishing found the token gone.
async fn partition_epoch<C: ConnectionLike + Send>(
    con: &mut C,
    part: &PartitionKeys,
    token: &str,
    action: &str,
) -> Result<bool, Error> {
    let v = PARTITION_EPOCH
        .call()
        .key(format!("{}:recovering", part.epoch()))
        .key(part.epoch())
        .arg(token)
        .arg(action)
        .arg(LOCK_TTL.as_millis() as u64 * 10)
        .run_ok(con)
        .await?;
    Ok(scripts::field(&v, 0, "partition_epoch")? == "1")
}

/// Puts back every unfinished task SQL has and Redis lacks, and lets SQL alone answer for the
/// finished tasks Redis lacks, raising the id counters first; the epoch markers are left alone.
/// What recovery does, for an operator's manual repair (`claudebench rehydrate`) and for tests.
pub async fn rehydrate(redis: &RedisHandle, tasks: &Tasks, store: &SqlStore) -> Result<RecoveryStats, Error> {
    let mut con = redis.conn();
    let mut stats = RecoveryStats::default();
    let (base, limit) = reserve_above_everything(&mut con, tasks, store).await?;
    stats.counter = base;
    for part in tasks.partitions().all() {
        raise_ids(&mut con, part, Some(last_id_at_or_below(base, part)), limit).await?;
        catch_up(&mut con, part, store).await?;
        restore_unfinished(&mut con, part, tasks, store, None, &mut stats).await?;
        retire_absent(&mut con, part, store, &mut stats).await?;
        stats.partitions += 1;
    }
    Ok(stats)
}

/// One id reservation above every id ever issued (reserved), stored (rows older than any
/// reservation) or counted in any partition: the base every restarted counter starts above, and
/// the new limit.
async fn reserve_above_everything<C: ConnectionLike + Send>(
    con: &mut C,
    tasks: &Tasks,
    store: &SqlStore,
) -> Result<(i64, i64), Error> {
    let mut base = store.reserved_ids().await?.max(store.max_seq().await?);
    for part in tasks.partitions().all() {
        let counter: Option<i64> = redis::cmd("GET").arg(part.seq()).query_async(con).await.map_err(redis_error)?;
        base = base.max(counter.unwrap_or(0));
    }
    let limit = store.reserve_ids(base, ID_BLOCK).await?;
    Ok((base, limit))
}

/// The largest id number of `part` (`≡ index mod count`) not above `n` (the create script hands
/// out the counter plus the count next, so the first new id is above `n`).
fn last_id_at_or_below(n: i64, part: &PartitionKeys) -> i64 {
    let count = i64::from(part.count());
    n - (n - i64::from(part.index())).rem_euclid(count)
}

/// Restores every unfinished task of one partition that `store` has, page by page.
async fn restore_unfinished<C: ConnectionLike + Send + Clone>(
    con: &mut C,
    part: &PartitionKeys,
    tasks: &Tasks,
    store: &SqlStore,
    lock: Option<&RecoveryLock>,
    stats: &mut RecoveryStats,
) -> Result<(), Error> {
    let mut after = 0;
    loop {
        let page = store.tasks_page(true, (part.count(), part.index()), after, PAGE).await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = seq_of(&last.id).max(after + 1);
        let (restored, present) = restore_page(con, tasks, page).await?;
        stats.unfinished += restored;
        stats.present += present;
        if let Some(lock) = lock {
            lock.renew(con).await?;
        }
    }
}

/// Writes every task change still in one partition's outbox streams to SQL (idempotent: what
/// SQL has is skipped as stale), so SQL is the newest copy before recovery reads it. After a
/// full loss the streams are empty and this costs nothing; entries that cannot be read are left
/// to the persister, which dead-letters them.
async fn catch_up<C: ConnectionLike + Send>(con: &mut C, part: &PartitionKeys, store: &SqlStore) -> Result<(), Error> {
    for event in TASK_STREAMS {
        let key = part.stream(event);
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
async fn restore_page<C: ConnectionLike + Send + Clone>(
    con: &C,
    tasks: &Tasks,
    page: Vec<StoredTask>,
) -> Result<(u64, u64), Error> {
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

/// Keeps every partition's id limit at least half a block ahead of the highest counter,
/// reserving in SQL first. Runs on every instance about once a second; concurrent top-ups only
/// reserve more. Returns the new limit when it reserved.
pub async fn top_up_ids(redis: &RedisHandle, tasks: &Tasks, store: &SqlStore) -> Result<Option<i64>, Error> {
    let mut con = redis.conn();
    let (mut highest, mut top_limit) = (0i64, 0i64);
    let mut lowest_limit: Option<i64> = None;
    let mut missing_limit = false;
    for part in tasks.partitions().all() {
        let (counter, limit): (Option<i64>, Option<i64>) = redis::cmd("MGET")
            .arg(part.seq())
            .arg(part.seq_limit())
            .query_async(&mut con)
            .await
            .map_err(redis_error)?;
        highest = highest.max(counter.unwrap_or(0));
        match limit {
            Some(l) => {
                lowest_limit = Some(lowest_limit.map_or(l, |m| m.min(l)));
                top_limit = top_limit.max(l);
            }
            None => missing_limit = true,
        }
    }
    if !missing_limit && lowest_limit.is_some_and(|l| l - highest >= ID_BLOCK / 2) {
        return Ok(None);
    }
    let reserved = store.reserve_ids(highest.max(top_limit), ID_BLOCK).await?;
    for part in tasks.partitions().all() {
        raise_ids(&mut con, part, None, reserved).await?;
    }
    Ok(Some(reserved))
}

/// Raises one partition's counter to `floor` (when given) and its limit to `limit`; never
/// lowers either.
async fn raise_ids<C: ConnectionLike + Send>(
    con: &mut C,
    part: &PartitionKeys,
    floor: Option<i64>,
    limit: i64,
) -> Result<(), Error> {
    scripts::ID_RANGE_RAISE
        .call()
        .key(part.seq())
        .key(part.seq_limit())
        .arg(floor.map(|f| f.to_string()).unwrap_or_default())
        .arg(limit)
        .run_ok(con)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use claudebench_runtime::keys::Partitions;

    #[test]
    fn a_restarted_counter_hands_out_ids_above_the_base_in_its_own_partition() {
        let parts = Partitions::new(&Keys::new("cb"), 3);
        for base in [0i64, 1, 2, 3, 10, 1_000_000, 1_000_001] {
            for part in parts.all() {
                let last = last_id_at_or_below(base, part);
                assert!(last <= base && base - last < 3, "{base} {last}");
                assert_eq!(last.rem_euclid(3), i64::from(part.index()));
                // The next id the create script hands out.
                assert!(last + 3 > base);
            }
        }
    }
}
