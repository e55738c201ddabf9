//! The task queue: create, read, list, update, claim, assign, auto-assign, complete, delete.
//!
//! Model (all keys in the `{prefix}` slot):
//! - records: one hash, columns `<id>:<column>` (see `lua/lib/task_record.lua` for why);
//! - `tasks:pending`: the claimable queue, score = `(100 - priority) * 2^40 + seq`, so higher
//!   priority first and, within a priority, creation order;
//! - `queue:instance:<id>`: tasks owned by a worker and not finished (same score);
//! - `tasks:all`, `tasks:status:<s>`, `tasks:assignee:<id>`: listing indexes scored by seq.
//!
//! A task is in exactly one place: the pending queue (unowned, pending), one worker's queue
//! (owned: pending = reserved by assign, in_progress = claimed), or neither (finished).

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::validation;
use claudebench_generated::types::{self, Metadata, Priority, TaskText};
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::ops::RangeInclusive;

use super::script::{Lua, MAX_RETRIES, Reply, contention, eval, eval_ok, field, lua, parse_json};
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

/// The task model is the spec's (`Task` and `TaskStatus` in `spec/shared.yaml`): the scripts'
/// JSON replies decode straight into it, so a status, a field or a bound exists once, in the spec.
pub use claudebench_generated::types::{Task, TaskStatus};

/// Every stream the task scripts append task snapshots to (`entity=task`): what the SQL
/// persister must drain.
pub const TASK_STREAMS: [&str; 6] =
    ["task.created", "task.updated", "task.claimed", "task.assigned", "task.completed", "task.deleted"];

static CREATE: Lua = lua!("task_create", "publish", "task_record");
static GET: Lua = lua!("task_get", "publish", "task_record");
static LIST: Lua = lua!("task_list", "publish", "task_record");
static UPDATE: Lua = lua!("task_update", "publish", "task_record");
static CLAIM: Lua = lua!("task_claim", "publish", "task_record");
static ASSIGN: Lua = lua!("task_assign", "publish", "task_record");
static AUTO_ASSIGN: Lua = lua!("task_auto_assign", "publish", "task_record");
static COMPLETE: Lua = lua!("task_complete", "publish", "task_record");
static DELETE: Lua = lua!("task_delete", "publish", "task_record");
static RESTORE: Lua = lua!("task_restore", "publish", "task_record");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 10] =
    [&CREATE, &GET, &LIST, &UPDATE, &CLAIM, &ASSIGN, &AUTO_ASSIGN, &COMPLETE, &DELETE, &RESTORE];

/// Longest task text, in characters: the spec's `TaskText` bound (`max_length`). Requests are
/// validated against the spec before a handler runs; the task service re-checks it for internal
/// callers that bypass input validation, and callers that build task text from unvalidated
/// sources (todo mirroring, `sessions::todos`) cut it to this length. A unit test below holds it
/// equal to the bound in the generated `task.create` schema.
pub const MAX_TEXT_CHARS: usize = types::TASK_TEXT_MAX_LENGTH;
/// The spec's `Priority` range. The pending queue's score (`tr_score` in
/// `lua/lib/task_record.lua`) relies on it: `(100 - priority)` must not go negative.
pub const PRIORITY: RangeInclusive<Priority> = types::PRIORITY_MIN..=types::PRIORITY_MAX;
/// Most metadata keys one call may set (keeps script argument lists bounded).
pub const MAX_METADATA_KEYS: usize = 256;
/// Most tasks one claim may take.
pub const MAX_CLAIM: usize = 100;
/// Largest page `list` returns.
pub const MAX_PAGE: usize = 1_000;

/// The lifecycle rules of the spec's [`TaskStatus`] that the domain relies on.
pub trait TaskLifecycle {
    /// Finished tasks never change owner or queue again (unless reopened by an update).
    fn is_finished(&self) -> bool;
}

impl TaskLifecycle for TaskStatus {
    fn is_finished(&self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed)
    }
}

/// Input of [`Tasks::create`], in the spec's field types.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewTask {
    pub text: TaskText,
    /// Within [`PRIORITY`]; the default is 50 (see [`NewTask::new`]).
    pub priority: Priority,
    /// In the caller's key order: the scripts store metadata verbatim, order included.
    pub metadata: Option<Map<String, Value>>,
}

impl NewTask {
    /// A task with the default priority 50 and no metadata.
    pub fn new(text: impl Into<TaskText>) -> Self {
        NewTask { text: text.into(), priority: 50, metadata: None }
    }
    pub fn priority(mut self, priority: impl Into<Priority>) -> Self {
        self.priority = priority.into();
        self
    }
    /// Any key/value pairs (a `serde_json::Map`, the spec's `Metadata`, …), in their order.
    pub fn metadata(mut self, metadata: impl IntoIterator<Item = (String, Value)>) -> Self {
        self.metadata = Some(metadata.into_iter().collect());
        self
    }
}

/// `task.create`'s validated input is exactly a new task.
impl From<types::TaskCreateInput> for NewTask {
    fn from(input: types::TaskCreateInput) -> Self {
        NewTask { text: input.text, priority: input.priority, metadata: input.metadata.map(ordered) }
    }
}

/// Input of [`Tasks::update`]: only the given fields change; metadata is merged key by key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskUpdate {
    pub text: Option<TaskText>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    /// In the caller's key order, as [`NewTask::metadata`].
    pub metadata: Option<Map<String, Value>>,
}

/// `task.update`'s validated `updates` are exactly a task update.
impl From<types::TaskUpdateInputUpdates> for TaskUpdate {
    fn from(u: types::TaskUpdateInputUpdates) -> Self {
        TaskUpdate { text: u.text, status: u.status, priority: u.priority, metadata: u.metadata.map(ordered) }
    }
}

/// The spec's metadata map as a JSON object (same entries).
fn ordered(m: Metadata) -> Map<String, Value> {
    m.into_iter().collect()
}

/// Input of [`Tasks::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub assigned_to: Option<String>,
    /// Only tasks without an assignee (`task.list` with `assignedTo: null`); ignored when
    /// `assigned_to` is set.
    pub unassigned_only: bool,
    pub offset: usize,
    /// At most [`MAX_PAGE`].
    pub limit: usize,
    /// Default: newest first.
    pub oldest_first: bool,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery { status: None, assigned_to: None, unassigned_only: false, offset: 0, limit: 50, oldest_first: false }
    }
}

/// One page of [`Tasks::list`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    /// Matching tasks in total, across all pages.
    pub total: u64,
    pub offset: usize,
    pub limit: usize,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Completed, with or without a result (no result is not a failure).
    Completed(Option<Value>),
    /// Failed, with the error message.
    Failed(String),
}

/// Answer of [`Tasks::complete`].
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub task: Task,
    /// From creation to completion.
    pub duration_ms: i64,
}

/// One load-balanced assignment made by [`Tasks::auto_assign`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub task_id: String,
    pub instance_id: String,
    /// Length of the instance's queue after this assignment.
    pub queue_depth: u64,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::Validation, message)
}

fn check_text(text: &str) -> Result<(), Error> {
    let n = text.chars().count();
    if !(types::TASK_TEXT_MIN_LENGTH..=MAX_TEXT_CHARS).contains(&n) {
        let min = types::TASK_TEXT_MIN_LENGTH;
        return Err(invalid(format!("text must be {min}..={MAX_TEXT_CHARS} characters, got {n}")));
    }
    Ok(())
}

fn check_priority(p: Priority) -> Result<(), Error> {
    if !PRIORITY.contains(&p) {
        return Err(invalid(format!("priority must be {}..={}, got {p}", PRIORITY.start(), PRIORITY.end())));
    }
    Ok(())
}

fn check_id(what: &str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(invalid(format!("{what} must not be empty")));
    }
    Ok(())
}

/// Metadata as (key, raw JSON) argument pairs, so the script stores each value verbatim.
fn metadata_args(meta: &Map<String, Value>, args: &mut Vec<String>) -> Result<(), Error> {
    if meta.len() > MAX_METADATA_KEYS {
        return Err(invalid(format!("metadata may have at most {MAX_METADATA_KEYS} keys, got {}", meta.len())));
    }
    for (k, v) in meta {
        args.push(k.clone());
        args.push(serde_json::to_string(v).map_err(|e| Error::internal(format!("metadata not serialisable: {e}")))?);
    }
    Ok(())
}

/// KEYS 1..8 of every script that includes `lua/lib/task_record.lua` (see its header): the
/// records hash, the pending queue, the all-tasks index, the four status indexes and the epoch
/// marker that every task script checks before touching task state.
pub(crate) fn task_layout(k: &Keys) -> Vec<String> {
    vec![
        k.task_records(),
        k.tasks_pending(),
        k.tasks_all(),
        k.tasks_by_status("pending"),
        k.tasks_by_status("in_progress"),
        k.tasks_by_status("completed"),
        k.tasks_by_status("failed"),
        k.epoch(),
    ]
}

/// The task service under one key prefix.
#[derive(Debug, Clone)]
pub struct Tasks {
    keys: Keys,
    config: CoordinationConfig,
}

impl Tasks {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Tasks { keys, config }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// KEYS 1..8 of every task script.
    fn layout(&self) -> Vec<String> {
        task_layout(&self.keys)
    }

    fn maxlen(&self) -> String {
        self.config.stream_maxlen.to_string()
    }

    fn liveness_cutoff(&self, now: i64) -> String {
        now.saturating_sub(i64::try_from(self.config.failure_timeout_ms).unwrap_or(i64::MAX)).to_string()
    }

    /// Current owner of a task as stored ("" = none or no such task): read before a script
    /// that must declare the owner's keys; the script re-checks it.
    async fn read_owner<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<String, Error> {
        let owner: Option<String> = redis::cmd("HGET")
            .arg(self.keys.task_records())
            .arg(format!("{id}:assignedTo"))
            .query_async(con)
            .await
            .map_err(super::script::redis_error)?;
        Ok(owner.unwrap_or_default())
    }

    fn owner_keys(&self, owner: &str, keys: &mut Vec<String>) {
        if !owner.is_empty() {
            keys.push(self.keys.worker_queue(owner));
            keys.push(self.keys.tasks_by_assignee(owner));
        }
    }

    /// Create a pending task with a fresh `t-<n>` id (unique across processes: a Redis counter,
    /// bounded by the ids reserved in SQL), queue it by priority and publish `task.created`. One
    /// round trip. `unavailable` while task state is being recovered or ids are being reserved.
    pub async fn create<C: ConnectionLike + Send>(&self, con: &mut C, new: NewTask) -> Result<Task, Error> {
        check_text(&new.text)?;
        check_priority(new.priority)?;
        let now = now_ms();
        let mut keys = self.layout();
        keys.push(self.keys.task_seq());
        keys.push(self.keys.task_seq_limit());
        keys.push(self.keys.stream("task.created"));
        let mut args = vec![
            new.text,
            new.priority.to_string(),
            now.to_string(),
            iso_millis(now),
            self.maxlen(),
            self.keys.channel("task.created"),
            if new.metadata.is_some() { "1" } else { "0" }.to_string(),
        ];
        if let Some(meta) = &new.metadata {
            metadata_args(meta, &mut args)?;
        }
        let v = eval_ok(con, &CREATE, &keys, &args).await?;
        parse_json(field(&v, 0, "task_create")?, "task_create")
    }

    /// Put a task back from its persisted snapshot (rehydration after a Redis loss). Returns
    /// `false` when Redis still has the task (it is left untouched). Unfinished tasks come back
    /// pending and unassigned; the instances that held them were lost with Redis.
    pub async fn restore<C: ConnectionLike + Send>(&self, con: &mut C, snapshot: &Value) -> Result<bool, Error> {
        // The outbox snapshot is the task's wire JSON plus the `version` the persister orders
        // changes by (see `tr_state` in `lua/lib/task_record.lua`); the rest is a spec `Task`.
        let version = snapshot.get("version").and_then(Value::as_i64).unwrap_or(0);
        let mut wire = snapshot.clone();
        if let Some(fields) = wire.as_object_mut() {
            fields.remove("version");
        }
        let task: Task = validation::from_value(&wire)
            .map_err(|e| Error::internal(format!("a persisted task snapshot is not a task: {e}")))?;
        // Metadata goes back in the snapshot's key order (the decoded map is sorted).
        let metadata = wire.get("metadata").and_then(Value::as_object);
        let seq = task
            .id
            .strip_prefix("t-")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| Error::internal(format!("persisted task id `{}` is not of the form t-<n>", task.id)))?;
        let created_ms = super::parse_iso_millis(&task.created_at).unwrap_or(0);
        let mut keys = self.layout();
        keys.push(self.keys.task_seq());
        let mut args = vec![
            task.id.clone(),
            seq.to_string(),
            task.text.clone(),
            task.status.as_str().to_string(),
            task.priority.to_string(),
            task.assigned_to.clone().unwrap_or_default(),
            task.created_at.clone(),
            task.updated_at.clone(),
            task.completed_at.clone().unwrap_or_default(),
            created_ms.to_string(),
            flag(task.result.is_some()),
            task.result.as_ref().map(Value::to_string).unwrap_or_default(),
            // The scripts never store a `null` error: absent and `null` both mean none.
            flag(matches!(task.error, Some(Some(_)))),
            task.error.clone().flatten().unwrap_or_default(),
            version.to_string(),
            flag(metadata.is_some()),
        ];
        if let Some(meta) = metadata {
            metadata_args(meta, &mut args)?;
        }
        let v = eval_ok(con, &RESTORE, &keys, &args).await?;
        Ok(field(&v, 0, "task_restore")? == "1")
    }

    /// One task, or `not_found`.
    pub async fn get<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Task, Error> {
        let v = eval_ok(con, &GET, &self.layout(), &[id.to_string()]).await?;
        parse_json(field(&v, 0, "task_get")?, "task_get")
    }

    /// A page of tasks, filtered by status and/or assignee (or to unassigned tasks), with the
    /// total count. Filters that have no index of their own (status within one assignee,
    /// unassigned) are applied by the script while scanning the chosen index.
    pub async fn list<C: ConnectionLike + Send>(&self, con: &mut C, query: &TaskQuery) -> Result<TaskPage, Error> {
        let limit = query.limit.min(MAX_PAGE);
        let (index, status_filter) = match (&query.assigned_to, query.status) {
            (Some(a), s) => (self.keys.tasks_by_assignee(a), s.map(|s| s.as_str()).unwrap_or("")),
            (None, Some(s)) => (self.keys.tasks_by_status(s.as_str()), ""),
            (None, None) => (self.keys.tasks_all(), ""),
        };
        let unassigned = query.unassigned_only && query.assigned_to.is_none();
        let args = vec![
            query.offset.to_string(),
            limit.to_string(),
            if query.oldest_first { "0" } else { "1" }.to_string(),
            status_filter.to_string(),
            flag(unassigned),
        ];
        let mut keys = self.layout();
        keys.push(index);
        let v = eval_ok(con, &LIST, &keys, &args).await?;
        let total =
            field(&v, 0, "task_list")?.parse().map_err(|_| Error::internal("task_list: total is not a number"))?;
        let tasks = parse_json(field(&v, 1, "task_list")?, "task_list")?;
        Ok(TaskPage { tasks, total, offset: query.offset, limit })
    }

    /// Change text, status, priority and/or merge metadata, atomically; publishes `task.updated`.
    ///
    /// Status rules: completed/failed leave every queue; pending on a finished task reopens it
    /// (owner and outcome cleared, back on the queue); in_progress needs an owner (claim or
    /// assign instead) and cannot reopen a finished task. A priority change re-scores the task
    /// wherever it is queued.
    pub async fn update<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        update: TaskUpdate,
    ) -> Result<Task, Error> {
        check_id("id", id)?;
        if let Some(t) = &update.text {
            check_text(t)?;
        }
        if let Some(p) = update.priority {
            check_priority(p)?;
        }
        for _ in 0..MAX_RETRIES {
            let owner = self.read_owner(con, id).await?;
            let now = now_ms();
            let mut keys = self.layout();
            keys.push(self.keys.stream("task.updated"));
            self.owner_keys(&owner, &mut keys);
            let mut args = vec![
                id.to_string(),
                owner,
                now.to_string(),
                iso_millis(now),
                self.maxlen(),
                self.keys.channel("task.updated"),
                flag(update.text.is_some()),
                update.text.clone().unwrap_or_default(),
                flag(update.status.is_some()),
                update.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                flag(update.priority.is_some()),
                update.priority.map(|p| p.to_string()).unwrap_or_default(),
                flag(update.metadata.is_some()),
            ];
            if let Some(meta) = &update.metadata {
                metadata_args(meta, &mut args)?;
            }
            match eval(con, &UPDATE, &keys, &args).await? {
                Reply::Ok(v) => return parse_json(field(&v, 0, "task_update")?, "task_update"),
                Reply::Retry => continue,
            }
        }
        Err(contention("task.update"))
    }

    /// A live worker takes up to `max_tasks` tasks: first those reserved for it, then the best
    /// pending ones. Each becomes in_progress and owned by the worker; publishes `task.claimed`
    /// per task. An empty answer means nothing was claimable. Errors: `not_found` (worker not
    /// registered), `conflict` (worker not alive).
    pub async fn claim<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        worker_id: &str,
        max_tasks: usize,
    ) -> Result<Vec<Task>, Error> {
        check_id("workerId", worker_id)?;
        if max_tasks == 0 || max_tasks > MAX_CLAIM {
            return Err(invalid(format!("maxTasks must be 1..={MAX_CLAIM}, got {max_tasks}")));
        }
        let now = now_ms();
        let mut keys = self.layout();
        keys.extend([
            self.keys.stream("task.claimed"),
            self.keys.worker_queue(worker_id),
            self.keys.tasks_by_assignee(worker_id),
            self.keys.instance(worker_id),
            self.keys.instances(),
            self.keys.instances_failed(),
        ]);
        let args = vec![
            worker_id.to_string(),
            max_tasks.to_string(),
            now.to_string(),
            iso_millis(now),
            self.maxlen(),
            self.keys.channel("task.claimed"),
            self.liveness_cutoff(now),
        ];
        let v = eval_ok(con, &CLAIM, &keys, &args).await?;
        parse_json(field(&v, 0, "task_claim")?, "task_claim")
    }

    /// Reserve a pending, unowned task for a live instance (it stays pending until claimed);
    /// publishes `task.assigned`. Errors: `not_found` (task or instance), `conflict` (already
    /// owned, finished, or the instance is not alive).
    pub async fn assign<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        task_id: &str,
        instance_id: &str,
    ) -> Result<Task, Error> {
        check_id("taskId", task_id)?;
        check_id("instanceId", instance_id)?;
        let now = now_ms();
        let mut keys = self.layout();
        keys.extend([
            self.keys.stream("task.assigned"),
            self.keys.worker_queue(instance_id),
            self.keys.tasks_by_assignee(instance_id),
            self.keys.instance(instance_id),
            self.keys.instances(),
            self.keys.instances_failed(),
        ]);
        let args = vec![
            task_id.to_string(),
            instance_id.to_string(),
            now.to_string(),
            iso_millis(now),
            self.maxlen(),
            self.keys.channel("task.assigned"),
            self.liveness_cutoff(now),
        ];
        let v = eval_ok(con, &ASSIGN, &keys, &args).await?;
        parse_json(field(&v, 0, "task_assign")?, "task_assign")
    }

    /// Load-balanced assignment of up to `limit` pending tasks (best first), each to the live
    /// `worker`-role instance with the shortest queue below the configured capacity.
    pub async fn auto_assign<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        limit: usize,
    ) -> Result<Vec<Assignment>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let role_key = self.keys.role("worker");
        // The candidates are read first so the script can declare their keys; workers joining in
        // between are simply considered next time.
        let mut workers: Vec<String> =
            redis::cmd("SMEMBERS").arg(&role_key).query_async(con).await.map_err(super::script::redis_error)?;
        workers.sort();
        if workers.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let mut keys = self.layout();
        keys.extend([self.keys.stream("task.assigned"), self.keys.instances(), self.keys.instances_failed(), role_key]);
        let mut args = vec![
            now.to_string(),
            iso_millis(now),
            self.maxlen(),
            self.keys.channel("task.assigned"),
            self.liveness_cutoff(now),
            self.config.worker_capacity.to_string(),
            limit.to_string(),
        ];
        for w in workers {
            keys.push(self.keys.instance(&w));
            keys.push(self.keys.worker_queue(&w));
            keys.push(self.keys.tasks_by_assignee(&w));
            args.push(w);
        }
        let v = eval_ok(con, &AUTO_ASSIGN, &keys, &args).await?;
        parse_json(field(&v, 0, "task_auto_assign")?, "task_auto_assign")
    }

    /// The worker that owns a task finishes it; publishes `task.completed`. Repeating the same
    /// completion (same worker, same outcome) answers the stored completion again, so a retry
    /// after a lost response is safe. Errors: `not_found`; `conflict` when the task is not
    /// assigned, owned by another worker (the caller lost it: declared failed, re-queued,
    /// reassigned) or already finished with another outcome. Finishing a task without being its
    /// worker is an administrative act: `update` with a final status.
    pub async fn complete<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        worker_id: &str,
        outcome: Outcome,
    ) -> Result<Completion, Error> {
        check_id("id", id)?;
        check_id("workerId", worker_id)?;
        let (has_result, result, has_error, error) = match &outcome {
            Outcome::Completed(Some(v)) => (
                true,
                serde_json::to_string(v).map_err(|e| Error::internal(format!("result not serialisable: {e}")))?,
                false,
                String::new(),
            ),
            Outcome::Completed(None) => (false, String::new(), false, String::new()),
            Outcome::Failed(e) => (false, String::new(), true, e.clone()),
        };
        let now = now_ms();
        let mut keys = self.layout();
        keys.push(self.keys.stream("task.completed"));
        self.owner_keys(worker_id, &mut keys);
        let args = vec![
            id.to_string(),
            worker_id.to_string(),
            now.to_string(),
            iso_millis(now),
            self.maxlen(),
            self.keys.channel("task.completed"),
            flag(has_result),
            result,
            flag(has_error),
            error,
        ];
        let v = eval_ok(con, &COMPLETE, &keys, &args).await?;
        let task = parse_json(field(&v, 0, "task_complete")?, "task_complete")?;
        let duration_ms = field(&v, 1, "task_complete")?.parse().unwrap_or(0);
        Ok(Completion { task, duration_ms })
    }

    /// Remove a task everywhere; publishes `task.deleted`. Returns the task as it was.
    pub async fn delete<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Task, Error> {
        check_id("id", id)?;
        for _ in 0..MAX_RETRIES {
            let owner = self.read_owner(con, id).await?;
            let mut keys = self.layout();
            keys.push(self.keys.stream("task.deleted"));
            self.owner_keys(&owner, &mut keys);
            let args =
                vec![id.to_string(), owner, now_ms().to_string(), self.maxlen(), self.keys.channel("task.deleted")];
            match eval(con, &DELETE, &keys, &args).await? {
                Reply::Ok(v) => return parse_json(field(&v, 0, "task_delete")?, "task_delete"),
                Reply::Retry => continue,
            }
        }
        Err(contention("task.delete"))
    }
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use claudebench_generated::events::EventId;

    fn task_json(extra: &str) -> String {
        format!(
            r#"{{"id":"t-1","text":"x","status":"completed","priority":50,"assignedTo":"w"{extra},"createdAt":"2025-09-15T10:00:00.000Z","updatedAt":"2025-09-15T10:00:00.000Z"}}"#
        )
    }

    #[test]
    fn a_null_result_is_kept_apart_from_no_result() {
        let with_null: Task = serde_json::from_str(&task_json(r#","result":null"#)).unwrap();
        assert_eq!(with_null.result, Some(Value::Null));
        assert_eq!(serde_json::to_value(&with_null).unwrap()["result"], Value::Null);
        assert!(serde_json::to_value(&with_null).unwrap().as_object().unwrap().contains_key("result"));
        let without: Task = serde_json::from_str(&task_json("")).unwrap();
        assert_eq!(without.result, None);
        assert!(!serde_json::to_value(&without).unwrap().as_object().unwrap().contains_key("result"));
    }

    /// The bound constants codegen emits are the ones the generated `task.create` schema
    /// publishes (and so the ones requests are validated against).
    #[test]
    fn the_domain_bounds_are_the_specs() {
        let schema: Value = serde_json::from_str(EventId::TaskCreate.def().input_schema).unwrap();
        let properties = &schema["properties"];
        assert_eq!(properties["text"]["maxLength"], MAX_TEXT_CHARS);
        assert_eq!(properties["text"]["minLength"], types::TASK_TEXT_MIN_LENGTH);
        assert_eq!(properties["priority"]["minimum"], *PRIORITY.start());
        assert_eq!(properties["priority"]["maximum"], *PRIORITY.end());
    }
}
