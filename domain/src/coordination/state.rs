//! Versioned global state and global metrics aggregation.

use claudebench_contract::error::Error;
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::script::{Lua, eval_ok, field, lua, parse_json, redis_error};
use super::tasks::Tasks;
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

static SYNC: Lua = lua!("state_sync");
static METRICS: Lua = lua!("metrics_aggregate");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 2] = [&SYNC, &METRICS];

/// The shared state document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSnapshot {
    /// Bumped by every sync; never resets.
    pub version: u64,
    pub data: Value,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

/// Cluster-wide metrics computed from the indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalMetrics {
    /// Registered (not failed, not unregistered) instances.
    pub instances: u64,
    /// Registered instances with a heartbeat within the failure timeout.
    pub alive_instances: u64,
    pub failed_instances: u64,
    /// Tasks waiting on the global queue.
    pub queue_depth: u64,
    pub pending: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub failed: u64,
    pub total_tasks: u64,
    /// Tasks in live instances' queues.
    pub total_load: u64,
    /// Mean absolute deviation of live instances' queue lengths (0 = perfectly even).
    pub load_balance: f64,
    pub updated_at: String,
}

/// Global state and metrics under one key prefix.
#[derive(Debug, Clone)]
pub struct GlobalState {
    keys: Keys,
    config: CoordinationConfig,
    /// Where task counts and queue lengths come from.
    tasks: Tasks,
}

impl GlobalState {
    pub fn new(keys: Keys, config: CoordinationConfig, tasks: Tasks) -> Self {
        GlobalState { keys, config, tasks }
    }

    /// Replace the state document; with `expected_version`, only if it is still that version
    /// (`conflict` otherwise). Returns the new version.
    pub async fn sync<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        data: &Value,
        updated_by: &str,
        expected_version: Option<u64>,
    ) -> Result<u64, Error> {
        let json = serde_json::to_string(data).map_err(|e| Error::internal(format!("state not serialisable: {e}")))?;
        let args = [
            json,
            updated_by.to_string(),
            iso_millis(now_ms()),
            expected_version.map(|v| v.to_string()).unwrap_or_default(),
        ];
        let v = eval_ok(con, &SYNC, &[self.keys.global_state()], &args).await?;
        field(&v, 0, "state_sync")?.parse().map_err(|_| Error::internal("state_sync: version is not a number"))
    }

    /// The current document (version 0 and `null` before the first sync).
    pub async fn get<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<StateSnapshot, Error> {
        let (version, data, updated_at, updated_by): (Option<u64>, Option<String>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(self.keys.global_state())
                .arg("version")
                .arg("data")
                .arg("updatedAt")
                .arg("updatedBy")
                .query_async(con)
                .await
                .map_err(redis_error)?;
        let data = match data {
            Some(d) => parse_json(&d, "state")?,
            None => Value::Null,
        };
        Ok(StateSnapshot { version: version.unwrap_or(0), data, updated_at, updated_by })
    }

    /// Recompute the global metrics (stored in `keys.global_metrics()` and returned).
    pub async fn aggregate_metrics<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<GlobalMetrics, Error> {
        // Registered instances are read first so their queues can be declared as keys; the
        // script re-checks liveness.
        let instances: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.keys.instances())
            .arg(0)
            .arg(-1)
            .query_async(con)
            .await
            .map_err(redis_error)?;
        let now = now_ms();
        let cutoff = now.saturating_sub(i64::try_from(self.config.failure_timeout_ms).unwrap_or(i64::MAX));
        let counts = self.tasks.counts(con).await?;
        let keys = vec![self.keys.global_metrics(), self.keys.instances(), self.keys.instances_failed()];
        let mut args = vec![
            iso_millis(now),
            cutoff.to_string(),
            counts.queue_depth.to_string(),
            counts.pending.to_string(),
            counts.in_progress.to_string(),
            counts.completed.to_string(),
            counts.failed.to_string(),
        ];
        for i in instances {
            let load = self.tasks.queue_length(con, &i).await?;
            args.push(i);
            args.push(load.to_string());
        }
        let v = eval_ok(con, &METRICS, &keys, &args).await?;
        parse_json(field(&v, 0, "metrics_aggregate")?, "metrics_aggregate")
    }
}
