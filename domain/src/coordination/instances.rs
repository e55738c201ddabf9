//! Instance registry and failure detection.
//!
//! Liveness truth is the `instances` sorted set (score = last heartbeat, ms), which never
//! expires; the per-instance record expires (refreshed by heartbeats) only as garbage collection,
//! and always later than the failure timeout. So a dead worker is always found by
//! [`Instances::sweep_failed`], which re-queues its tasks exactly once.

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_generated::types::HealthStatus;
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};

use super::script::{Lua, MAX_RETRIES, Reply, contention, eval, eval_ok, field, lua, parse_json, redis_error};
use super::tasks::task_layout;
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

static REGISTER: Lua = lua!("instance_register", "publish");
static HEARTBEAT: Lua = lua!("instance_heartbeat");
static UNREGISTER: Lua = lua!("instance_unregister", "publish", "task_record");
static SWEEP: Lua = lua!("instance_sweep", "publish", "task_record");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 4] = [&REGISTER, &HEARTBEAT, &UNREGISTER, &SWEEP];

/// Most instances one sweep script handles (the rest are picked up by the next sweep call).
const SWEEP_BATCH: usize = 64;

/// A registered instance as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    pub id: String,
    pub roles: Vec<String>,
    /// `ACTIVE` or `FAILED`.
    pub status: String,
    /// Last heartbeat, ms since the epoch.
    pub last_seen: i64,
    pub last_heartbeat: String,
    pub registered_at: Option<String>,
}

/// Answer of [`Instances::register`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// The instance was already registered (roles and liveness were refreshed).
    pub reregistered: bool,
}

/// One instance declared failed by a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedInstance {
    pub id: String,
    /// Its last heartbeat, ms since the epoch.
    pub last_seen: i64,
    pub tasks_reassigned: u64,
    /// The task ids put back on the pending queue.
    pub requeued: Vec<String>,
}

/// A registered instance as the liveness set and its record show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenInstance {
    pub id: String,
    /// Its last registration or heartbeat, ms since the epoch.
    pub last_seen: i64,
    /// Empty once its record expired (before the sweep got to it).
    pub roles: Vec<String>,
}

/// Registered instances by heartbeat age (see [`health`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InstanceCounts {
    pub total: u64,
    pub healthy: u64,
    pub degraded: u64,
}

/// Health of an instance from the age of its last heartbeat, as the spec's `HealthStatus`
/// defines it: healthy within the heartbeat (failure) timeout, degraded within twice that, else
/// unhealthy.
pub fn health(last_seen_ms: i64, now_ms: i64, timeout_ms: u64) -> HealthStatus {
    let timeout = i64::try_from(timeout_ms).unwrap_or(i64::MAX);
    let age = now_ms.saturating_sub(last_seen_ms);
    if age <= timeout {
        HealthStatus::Healthy
    } else if age <= timeout.saturating_mul(2) {
        HealthStatus::Degraded
    } else {
        HealthStatus::Unhealthy
    }
}

/// The instance registry under one key prefix.
#[derive(Debug, Clone)]
pub struct Instances {
    keys: Keys,
    config: CoordinationConfig,
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::new(ErrorCode::Validation, "instance id must not be empty"));
    }
    Ok(())
}

impl Instances {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Instances { keys, config }
    }

    /// The configuration in force (failure timeout, capacity), for callers that classify
    /// liveness or size leases the same way the registry does.
    pub fn config(&self) -> &CoordinationConfig {
        &self.config
    }

    /// The roles currently recorded (raw JSON as stored, and parsed), read before a script that
    /// must declare those roles' sets.
    async fn read_roles<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
    ) -> Result<(String, Vec<String>), Error> {
        let raw: Option<String> =
            redis::cmd("HGET").arg(self.keys.instance(id)).arg("roles").query_async(con).await.map_err(redis_error)?;
        let raw = raw.unwrap_or_default();
        // An unreadable stored value is treated as no roles; the script compares the raw string.
        let roles = if raw.is_empty() { Vec::new() } else { serde_json::from_str(&raw).unwrap_or_default() };
        Ok((raw, roles))
    }

    /// Register (or re-register) an instance with its roles; stale role memberships are removed.
    /// A previously failed instance becomes alive again (its old tasks stay with their new
    /// owners). Publishes `instance.registered`.
    pub async fn register<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        roles: &[String],
    ) -> Result<Registration, Error> {
        check_id(id)?;
        if roles.iter().any(|r| r.is_empty()) {
            return Err(Error::new(ErrorCode::Validation, "roles must not be empty strings"));
        }
        let mut unique: Vec<String> = Vec::with_capacity(roles.len());
        for r in roles {
            if !unique.contains(r) {
                unique.push(r.clone());
            }
        }
        let roles_json = serde_json::to_string(&unique).map_err(|e| Error::internal(e.to_string()))?;
        for _ in 0..MAX_RETRIES {
            let (raw_old, old) = self.read_roles(con, id).await?;
            let now = now_ms();
            let mut keys = vec![
                self.keys.instance(id),
                self.keys.instances(),
                self.keys.instances_failed(),
                self.keys.stream("instance.registered"),
            ];
            keys.extend(unique.iter().map(|r| self.keys.role(r)));
            keys.extend(old.iter().map(|r| self.keys.role(r)));
            let args = vec![
                id.to_string(),
                roles_json.clone(),
                now.to_string(),
                iso_millis(now),
                self.config.effective_record_ttl_ms().to_string(),
                self.config.stream_maxlen.to_string(),
                self.keys.channel("instance.registered"),
                raw_old,
                unique.len().to_string(),
            ];
            match eval(con, &REGISTER, &keys, &args).await? {
                Reply::Ok(v) => {
                    return Ok(Registration { reregistered: field(&v, 0, "instance_register")? == "1" });
                }
                Reply::Retry => continue,
            }
        }
        Err(contention("system.register"))
    }

    /// Refresh liveness; `false` for unknown, unregistered or failed instances (they must
    /// register again).
    pub async fn heartbeat<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<bool, Error> {
        check_id(id)?;
        let now = now_ms();
        let keys = vec![self.keys.instance(id), self.keys.instances(), self.keys.instances_failed()];
        let args =
            vec![id.to_string(), now.to_string(), iso_millis(now), self.config.effective_record_ttl_ms().to_string()];
        let v = eval_ok(con, &HEARTBEAT, &keys, &args).await?;
        Ok(field(&v, 0, "instance_heartbeat")? == "1")
    }

    /// Leave cleanly: unfinished tasks go back to the pending queue, then the instance and its
    /// role memberships disappear. Returns the re-queued task ids. `not_found` if unknown.
    pub async fn unregister<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Vec<String>, Error> {
        check_id(id)?;
        for _ in 0..MAX_RETRIES {
            let (raw, roles) = self.read_roles(con, id).await?;
            let now = now_ms();
            let mut keys = task_layout(&self.keys);
            keys.extend([
                self.keys.stream("task.updated"),
                self.keys.stream("instance.unregistered"),
                self.keys.instance(id),
                self.keys.instances(),
                self.keys.instances_failed(),
                self.keys.worker_queue(id),
                self.keys.tasks_by_assignee(id),
            ]);
            keys.extend(roles.iter().map(|r| self.keys.role(r)));
            let args = vec![
                id.to_string(),
                now.to_string(),
                iso_millis(now),
                self.config.stream_maxlen.to_string(),
                self.keys.channel("task.updated"),
                self.keys.channel("instance.unregistered"),
                raw,
            ];
            match eval(con, &UNREGISTER, &keys, &args).await? {
                Reply::Ok(v) => {
                    return parse_json(field(&v, 0, "instance_unregister")?, "instance_unregister");
                }
                Reply::Retry => continue,
            }
        }
        Err(contention("system.unregister"))
    }

    /// Declare failed every instance whose last heartbeat is older than `now_ms - timeout_ms`:
    /// it leaves the live set (recorded in the failed set), its unfinished tasks go back to the
    /// pending queue with the owner cleared (`task.updated`, reason `instance_failed`) and
    /// `instance.failed` is published. Safe to run concurrently from many processes: each
    /// failure is handled exactly once. Returns the instances this call declared failed.
    pub async fn sweep_failed<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        now_ms: i64,
        timeout_ms: u64,
    ) -> Result<Vec<FailedInstance>, Error> {
        let cutoff = now_ms.saturating_sub(i64::try_from(timeout_ms).unwrap_or(i64::MAX));
        let mut failed = Vec::new();
        loop {
            // Candidates are read first so the script can declare their keys; it re-checks each.
            let candidates: Vec<String> = redis::cmd("ZRANGE")
                .arg(self.keys.instances())
                .arg("-inf")
                .arg(format!("({cutoff}"))
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(0)
                .arg(SWEEP_BATCH)
                .query_async(con)
                .await
                .map_err(redis_error)?;
            if candidates.is_empty() {
                return Ok(failed);
            }
            let full_batch = candidates.len() == SWEEP_BATCH;
            let mut keys = task_layout(&self.keys);
            keys.extend([
                self.keys.stream("task.updated"),
                self.keys.stream("instance.failed"),
                self.keys.instances(),
                self.keys.instances_failed(),
            ]);
            let mut args = vec![
                now_ms.to_string(),
                iso_millis(now_ms),
                cutoff.to_string(),
                self.config.stream_maxlen.to_string(),
                self.keys.channel("task.updated"),
                self.keys.channel("instance.failed"),
            ];
            for c in candidates {
                keys.push(self.keys.instance(&c));
                keys.push(self.keys.worker_queue(&c));
                keys.push(self.keys.tasks_by_assignee(&c));
                args.push(c);
            }
            let v = eval_ok(con, &SWEEP, &keys, &args).await?;
            let batch: Vec<FailedInstance> = parse_json(field(&v, 0, "instance_sweep")?, "instance_sweep")?;
            let progressed = !batch.is_empty();
            failed.extend(batch);
            // Another sweeper may have taken this batch; only loop while there may be more.
            if !full_batch || !progressed {
                return Ok(failed);
            }
        }
    }

    /// Sweep with the configured failure timeout and this machine's clock.
    pub async fn sweep<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<Vec<FailedInstance>, Error> {
        self.sweep_failed(con, now_ms(), self.config.failure_timeout_ms).await
    }

    /// One instance record, if it still exists.
    pub async fn get<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Option<Instance>, Error> {
        let h: std::collections::HashMap<String, String> =
            redis::cmd("HGETALL").arg(self.keys.instance(id)).query_async(con).await.map_err(redis_error)?;
        if h.is_empty() {
            return Ok(None);
        }
        let get = |k: &str| h.get(k).cloned().unwrap_or_default();
        Ok(Some(Instance {
            id: get("id"),
            roles: serde_json::from_str(&get("roles")).unwrap_or_default(),
            status: get("status"),
            last_seen: get("lastSeen").parse().unwrap_or(0),
            last_heartbeat: get("lastHeartbeat"),
            registered_at: h.get("registeredAt").cloned(),
        }))
    }

    /// Registered (not failed, not unregistered) instance ids with their last heartbeat (ms),
    /// oldest heartbeat first.
    pub async fn registered<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<Vec<(String, i64)>, Error> {
        let v: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(self.keys.instances())
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(v.into_iter().map(|(id, s)| (id, s as i64)).collect())
    }

    /// The `limit` most recently seen registered instances, most recent first, with their roles.
    /// Two round trips whatever the limit.
    pub async fn recently_seen<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        limit: usize,
    ) -> Result<Vec<SeenInstance>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let live: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
            .arg(self.keys.instances())
            .arg(0)
            .arg(limit - 1)
            .arg("WITHSCORES")
            .query_async(con)
            .await
            .map_err(redis_error)?;
        if live.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (id, _) in &live {
            pipe.hget(self.keys.instance(id), "roles");
        }
        let roles: Vec<Option<String>> = pipe.query_async(con).await.map_err(redis_error)?;
        Ok(live
            .into_iter()
            .zip(roles)
            .map(|((id, score), roles)| SeenInstance {
                id,
                last_seen: score as i64,
                roles: roles.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default(),
            })
            .collect())
    }

    /// Registered instances counted by [`health`] at `now_ms` with the configured failure
    /// timeout: three O(log n) range counts on the liveness set (score = last heartbeat), so the
    /// count stays cheap however many instances exist.
    pub async fn count_by_health<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        now_ms: i64,
    ) -> Result<InstanceCounts, Error> {
        let timeout = i64::try_from(self.config.failure_timeout_ms).unwrap_or(i64::MAX);
        let key = self.keys.instances();
        let healthy_from = now_ms.saturating_sub(timeout);
        let degraded_from = now_ms.saturating_sub(timeout.saturating_mul(2));
        let (total, healthy, degraded): (u64, u64, u64) = redis::pipe()
            .cmd("ZCARD")
            .arg(&key)
            .cmd("ZCOUNT")
            .arg(&key)
            .arg(healthy_from)
            .arg("+inf")
            .cmd("ZCOUNT")
            .arg(&key)
            .arg(degraded_from)
            .arg(format!("({healthy_from}"))
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(InstanceCounts { total, healthy, degraded })
    }

    /// Ids of the instances declared failed and not registered again since.
    pub async fn failed<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<Vec<String>, Error> {
        let mut v: Vec<String> =
            redis::cmd("SMEMBERS").arg(self.keys.instances_failed()).query_async(con).await.map_err(redis_error)?;
        v.sort();
        Ok(v)
    }

    /// Members of one role set (may include instances that died since; filter with
    /// [`Instances::registered`] when it matters).
    pub async fn with_role<C: ConnectionLike + Send>(&self, con: &mut C, role: &str) -> Result<Vec<String>, Error> {
        let mut v: Vec<String> =
            redis::cmd("SMEMBERS").arg(self.keys.role(role)).query_async(con).await.map_err(redis_error)?;
        v.sort();
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_health_follows_the_age_of_its_last_heartbeat() {
        assert_eq!(health(1_000, 1_000, 100), HealthStatus::Healthy);
        assert_eq!(health(1_000, 1_100, 100), HealthStatus::Healthy);
        assert_eq!(health(1_000, 1_101, 100), HealthStatus::Degraded);
        assert_eq!(health(1_000, 1_200, 100), HealthStatus::Degraded);
        assert_eq!(health(1_000, 1_201, 100), HealthStatus::Unhealthy);
        // A heartbeat stamped slightly in the future (clock skew) is simply recent.
        assert_eq!(health(2_000, 1_000, 100), HealthStatus::Healthy);
    }
}
