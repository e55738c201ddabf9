//! Instance registry and failure detection.
//!
//! Liveness truth is the `instances` sorted set (score = last heartbeat, ms), which never
//! expires; the per-instance record expires (refreshed by heartbeats) only as garbage collection,
//! and always later than the failure timeout. So a dead worker is always found by
//! [`Instances::sweep_failed`], which re-queues its tasks exactly once.
//!
//! Instances live in the control slot, their tasks in the task partitions, so taking a failed
//! or leaving instance's tasks back is three steps: the control slot declares it failed (or
//! removes it) and records a cleanup entry; every partition fences that incarnation and
//! re-queues its tasks (`lua/task_requeue.lua`); the cleanup entry goes and the event is
//! published, once. A crash between the steps leaves the entry, and the next sweep finishes it.

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_generated::types::HealthStatus;
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};

use super::script::{Lua, MAX_RETRIES, Reply, contention, eval, eval_ok, field, lua, parse_json, redis_error};
use super::tasks::Tasks;
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

static REGISTER: Lua = lua!("instance_register", "publish");
static HEARTBEAT: Lua = lua!("instance_heartbeat");
static UNREGISTER: Lua = lua!("instance_unregister");
static SWEEP: Lua = lua!("instance_sweep");
static CLEANUP_DONE: Lua = lua!("instance_cleanup_done", "publish");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 5] = [&REGISTER, &HEARTBEAT, &UNREGISTER, &SWEEP, &CLEANUP_DONE];

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
    /// The record's raw `subagents` and `teammates` fields: a Claude Code session's agents (see
    /// `sessions::agents`), which the instance view shows.
    pub subagents: Option<String>,
    pub teammates: Option<String>,
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

/// An instance allowed to take work, as the control slot showed it just now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveWorker {
    pub id: String,
    /// Its current incarnation (see `lua/instance_register.lua`): the task partitions refuse
    /// work to an incarnation fenced off since this check.
    pub incarnation: String,
}

/// Whether `id` may take work now: registered, heard from within the failure timeout, not
/// declared failed. One round trip (a pipeline on the control slot). Errors as the task calls
/// promise them: `not_found` (not registered), `conflict` (failed or silent).
pub(crate) async fn live<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    config: &CoordinationConfig,
    id: &str,
) -> Result<LiveWorker, Error> {
    let (seen, failed, incarnation): (Option<f64>, bool, Option<String>) = redis::pipe()
        .zscore(keys.instances(), id)
        .sismember(keys.instances_failed(), id)
        .hget(keys.instance(id), "incarnation")
        .query_async(con)
        .await
        .map_err(redis_error)?;
    if failed {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!("instance {id} was declared failed; it must register again"),
        ));
    }
    let (Some(seen), Some(incarnation)) = (seen, incarnation) else {
        return Err(Error::new(ErrorCode::NotFound, format!("instance {id} is not registered")));
    };
    let cutoff = now_ms().saturating_sub(i64::try_from(config.failure_timeout_ms).unwrap_or(i64::MAX));
    if (seen as i64) < cutoff {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!("instance {id} is not alive (no heartbeat within the failure timeout)"),
        ));
    }
    Ok(LiveWorker { id: id.to_string(), incarnation })
}

/// The live members of one role, by id. Members that left for good (no longer registered) are
/// dropped from the role set on the way.
pub(crate) async fn live_with_role<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    config: &CoordinationConfig,
    role: &str,
) -> Result<Vec<LiveWorker>, Error> {
    let mut members: Vec<String> =
        redis::cmd("SMEMBERS").arg(keys.role(role)).query_async(con).await.map_err(redis_error)?;
    members.sort();
    let mut out = Vec::with_capacity(members.len());
    for id in members {
        match live(con, keys, config, &id).await {
            Ok(w) => out.push(w),
            Err(e) if e.code == ErrorCode::NotFound => {
                let _: () =
                    redis::cmd("SREM").arg(keys.role(role)).arg(&id).query_async(con).await.map_err(redis_error)?;
            }
            Err(_) => {}
        }
    }
    Ok(out)
}

/// A cleanup entry (see the module docs), as `lua/instance_sweep.lua` and
/// `lua/instance_unregister.lua` write it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cleanup {
    reason: String,
    incarnation: i64,
    #[serde(default)]
    last_seen: i64,
    /// When the entry was written (ms).
    #[serde(default)]
    since: i64,
}

/// A cleanup entry older than this was left by a process that died mid-way (each one normally
/// finishes within a few round trips); the next sweep finishes it. Younger ones belong to a
/// cleanup still running, which would otherwise be raced for its tasks.
const CLEANUP_ABANDONED_AFTER_MS: i64 = 10_000;

/// The instance registry under one key prefix.
#[derive(Debug, Clone)]
pub struct Instances {
    keys: Keys,
    config: CoordinationConfig,
    /// Where a failed or leaving instance's tasks are taken back from.
    tasks: Tasks,
}

fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::new(ErrorCode::Validation, "instance id must not be empty"));
    }
    Ok(())
}

impl Instances {
    pub fn new(keys: Keys, config: CoordinationConfig, tasks: Tasks) -> Self {
        Instances { keys, config, tasks }
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
                self.keys.incarnations(),
                self.keys.instance_incarnations(),
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
            let mut keys = vec![
                self.keys.instance(id),
                self.keys.instances(),
                self.keys.instances_failed(),
                self.keys.instances_cleanup(),
                self.keys.instance_incarnations(),
            ];
            keys.extend(roles.iter().map(|r| self.keys.role(r)));
            match eval(con, &UNREGISTER, &keys, &[id.to_string(), raw, now_ms().to_string()]).await? {
                Reply::Ok(_) => {
                    let entry = self.cleanup_entry(con, id).await?;
                    return Ok(match entry {
                        Some((raw, cleanup)) => self.finish_cleanup(con, id, &raw, &cleanup).await?,
                        // Finished by a concurrent sweep already.
                        None => Vec::new(),
                    });
                }
                Reply::Retry => continue,
            }
        }
        Err(contention("system.unregister"))
    }

    /// The pending cleanup of one instance, raw (as the done script compares it) and decoded.
    async fn cleanup_entry<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
    ) -> Result<Option<(String, Cleanup)>, Error> {
        let raw: Option<String> = redis::cmd("HGET")
            .arg(self.keys.instances_cleanup())
            .arg(id)
            .query_async(con)
            .await
            .map_err(redis_error)?;
        Ok(match raw {
            Some(raw) => {
                let cleanup = parse_json(&raw, "instance cleanup entry")?;
                Some((raw, cleanup))
            }
            None => None,
        })
    }

    /// Steps 2 and 3 of taking an instance's tasks back (see the module docs): every partition
    /// re-queues them, then the entry goes and the event is published (by whoever finishes
    /// first). Returns the re-queued task ids.
    async fn finish_cleanup<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        raw: &str,
        cleanup: &Cleanup,
    ) -> Result<Vec<String>, Error> {
        let requeued = self.tasks.requeue_from(con, id, &cleanup.incarnation.to_string(), &cleanup.reason).await?;
        let now = now_ms();
        let list = serde_json::to_string(&requeued).map_err(|e| Error::internal(e.to_string()))?;
        let id_json = serde_json::to_string(id).map_err(|e| Error::internal(e.to_string()))?;
        let (event, payload) = if cleanup.reason == "instance_unregistered" {
            (
                "instance.unregistered",
                format!(r#"{{"id":{id_json},"tasksRequeued":{list},"timestamp":"{}"}}"#, iso_millis(now)),
            )
        } else {
            (
                "instance.failed",
                format!(
                    r#"{{"id":{id_json},"lastSeen":{},"tasksReassigned":{},"requeued":{list}}}"#,
                    cleanup.last_seen,
                    requeued.len()
                ),
            )
        };
        CLEANUP_DONE
            .call()
            .key(self.keys.instances_cleanup())
            .key(self.keys.stream(event))
            .key(self.keys.instance_incarnations())
            .arg(id)
            .arg(raw)
            .arg(event)
            .arg(payload)
            .arg(now)
            .arg(self.config.stream_maxlen)
            .arg(self.keys.channel(event))
            .arg(cleanup.incarnation)
            .run_ok(con)
            .await?;
        Ok(requeued)
    }

    /// Declare failed every instance whose last heartbeat is older than `now_ms - timeout_ms`:
    /// it leaves the live set (recorded in the failed set), its unfinished tasks go back to the
    /// pending queues with the owner cleared (`task.updated`, reason `instance_failed`) and
    /// `instance.failed` is published. Safe to run concurrently from many processes: each
    /// failure is handled exactly once. Also finishes cleanups a crashed sweeper or
    /// unregistration left. Returns the instances this call declared failed.
    pub async fn sweep_failed<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        now_ms: i64,
        timeout_ms: u64,
    ) -> Result<Vec<FailedInstance>, Error> {
        let cutoff = now_ms.saturating_sub(i64::try_from(timeout_ms).unwrap_or(i64::MAX));
        let mut failed = Vec::new();
        loop {
            // Candidates are read first so the script can declare their records; it re-checks each.
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
                break;
            }
            let full_batch = candidates.len() == SWEEP_BATCH;
            let mut keys = vec![
                self.keys.instances(),
                self.keys.instances_failed(),
                self.keys.instances_cleanup(),
                self.keys.instance_incarnations(),
            ];
            let mut args = vec![iso_millis(now_ms), cutoff.to_string(), now_ms.to_string()];
            for c in candidates {
                keys.push(self.keys.instance(&c));
                args.push(c);
            }
            let v = eval_ok(con, &SWEEP, &keys, &args).await?;
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Declared {
                id: String,
                last_seen: i64,
            }
            let batch: Vec<Declared> = parse_json(field(&v, 0, "instance_sweep")?, "instance_sweep")?;
            let progressed = !batch.is_empty();
            for d in batch {
                // Finished right away; should this process die first, the loop below (here or
                // in another sweeper) does it.
                let requeued = match self.cleanup_entry(con, &d.id).await? {
                    Some((raw, cleanup)) => self.finish_cleanup(con, &d.id, &raw, &cleanup).await?,
                    None => Vec::new(),
                };
                failed.push(FailedInstance {
                    id: d.id,
                    last_seen: d.last_seen,
                    tasks_reassigned: requeued.len() as u64,
                    requeued,
                });
            }
            // Another sweeper may have taken this batch; only loop while there may be more.
            if !full_batch || !progressed {
                break;
            }
        }
        // Cleanups left behind by a process that died between the steps.
        let pending: Vec<(String, String)> =
            redis::cmd("HGETALL").arg(self.keys.instances_cleanup()).query_async(con).await.map_err(redis_error)?;
        for (id, raw) in pending {
            let cleanup: Cleanup = parse_json(&raw, "instance cleanup entry")?;
            if now_ms.saturating_sub(cleanup.since) < CLEANUP_ABANDONED_AFTER_MS {
                continue;
            }
            self.finish_cleanup(con, &id, &raw, &cleanup).await?;
        }
        Ok(failed)
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
            pipe.cmd("HMGET").arg(self.keys.instance(id)).arg("roles").arg("subagents").arg("teammates");
        }
        let fields: Vec<(Option<String>, Option<String>, Option<String>)> =
            pipe.query_async(con).await.map_err(redis_error)?;
        Ok(live
            .into_iter()
            .zip(fields)
            .map(|((id, score), (roles, subagents, teammates))| SeenInstance {
                id,
                last_seen: score as i64,
                roles: roles.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default(),
                subagents,
                teammates,
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
