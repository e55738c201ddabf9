//! Rebuilding Redis' task state from SQL after Redis lost its data (a restart without
//! persistence, a private server, a failover to an empty replica).

use ::redis::aio::ConnectionManager;
use claudebench_generated::error::Error;
use serde_json::Value;

use super::store::{SqlStore, StoredTask, int_field, str_field};
use crate::keys::Keys;
use crate::redis::{RedisHandle, redis_error};

/// What [`rehydrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RehydrateStats {
    /// Tasks written back into Redis.
    pub restored: u64,
    /// Tasks Redis still had (left untouched: Redis is the newer copy).
    pub present: u64,
}

/// Loads every stored task that Redis does not have back into Redis with [`restore_task`].
/// Tasks Redis still has are never overwritten. Nothing is published (the streams already
/// carried these changes once).
pub async fn rehydrate(store: &SqlStore, redis: &RedisHandle, keys: &Keys) -> Result<RehydrateStats, Error> {
    rehydrate_with(store, redis, keys, restore_task).await
}

/// [`rehydrate`] with another way of writing one task back (e.g. the coordination core's own
/// index layout); `restore` adds the commands for one task to the pipeline.
pub async fn rehydrate_with(
    store: &SqlStore,
    redis: &RedisHandle,
    keys: &Keys,
    restore: impl Fn(&Keys, &StoredTask, &mut ::redis::Pipeline),
) -> Result<RehydrateStats, Error> {
    let tasks = store.tasks().await?;
    let mut conn = redis.conn();
    let mut stats = RehydrateStats::default();
    for chunk in tasks.chunks(200) {
        let mut exists = ::redis::pipe();
        for task in chunk {
            exists.exists(keys.task(&task.id));
        }
        let present: Vec<bool> = exists.query_async(&mut conn).await.map_err(redis_error)?;
        let mut write = ::redis::pipe();
        write.atomic();
        for (task, present) in chunk.iter().zip(present) {
            if present {
                stats.present += 1;
            } else {
                restore(keys, task, &mut write);
                stats.restored += 1;
            }
        }
        write_pipeline(&mut conn, &write).await?;
    }
    Ok(stats)
}

async fn write_pipeline(conn: &mut ConnectionManager, pipe: &::redis::Pipeline) -> Result<(), Error> {
    pipe.query_async::<()>(conn).await.map_err(redis_error)
}

/// The Redis commands that restore one task: its hash (every top-level field of the stored
/// state; strings as they are, other values as JSON), its place in the all-tasks and per-status
/// indexes (scored by creation time, ms), and, when pending and unassigned, the pending queue
/// (score: higher priority first, then older first — `-priority * 10^13 + createdAtMs`).
pub fn restore_task(keys: &Keys, task: &StoredTask, pipe: &mut ::redis::Pipeline) {
    let Value::Object(fields) = &task.state else { return };
    let key = keys.task(&task.id);
    let pairs: Vec<(String, String)> = fields
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                k.clone(),
                match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            )
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    pipe.hset_multiple(&key, &pairs).ignore();
    let created_ms = created_at_ms(&task.state);
    pipe.zadd(keys.tasks_all(), &task.id, created_ms).ignore();
    pipe.zadd(keys.tasks_by_status(&task.status), &task.id, created_ms).ignore();
    let unassigned = task.assigned_to.as_deref().is_none_or(str::is_empty);
    if task.status == "pending" && unassigned {
        let score = -(task.priority as f64) * 1e13 + created_ms as f64;
        pipe.zadd(keys.tasks_pending(), &task.id, score).ignore();
    }
}

/// Creation time in ms: `createdAtMs`, else a numeric `createdAt`, else 0.
fn created_at_ms(state: &Value) -> i64 {
    int_field(state, "createdAtMs")
        .or_else(|| int_field(state, "createdAt"))
        .or_else(|| str_field(state, "createdAt").and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}
