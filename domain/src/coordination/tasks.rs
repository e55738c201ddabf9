//! The task queue: create, read, list, update, claim, assign, auto-assign, complete, delete,
//! and the hot/cold lifecycle.
//!
//! Model: tasks are spread over the deployment's partitions ([`Partitions`]; `t-<n>` lives in
//! partition `n mod count`). In each partition (one hash slot):
//! - `task:<id>`: one hash per task (see `lua/lib/task_record.lua` for its fields);
//! - `tasks:pending`: the claimable queue, score = `(100 - priority) * 2^40 + n`, so higher
//!   priority first and, within a priority, creation order;
//! - `queue:instance:<id>`: tasks owned by a worker and not finished (same score);
//! - `tasks:status:<s>`, `tasks:assignee:<id>`: listing indexes scored by `n` (the four status
//!   indexes together list every task the partition holds);
//! - `tasks:finished`: finished tasks waiting to leave Redis.
//!
//! A task is in exactly one place: the pending queue (unowned, pending), one worker's queue
//! (owned: pending = reserved by assign, in_progress = claimed), or neither (finished).
//!
//! **Hot and cold.** With SQL persistence a finished task leaves Redis once SQL holds its final
//! version and the retention has passed ([`Tasks::retire`]); SQL marks its row retired first.
//! Reads answer for it from SQL with the same wire shape, listings merge Redis (hot) with the
//! retired rows (cold), and a change to it brings it back into Redis first ([`Tasks::revive`]).
//!
//! **Ordering.** With one partition, claims take tasks in exact priority-then-creation order.
//! With more, each claim looks at the heads of every partition and takes the best it saw: a
//! claim never skips a better task that was at a partition's head when it looked, but two
//! claims racing may each get the second-best; no task is ever handed out twice (ZPOPMIN).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The task model is the spec's (`Task` and `TaskStatus` in `spec/shared.yaml`): the scripts'
/// JSON replies decode straight into it, so a status, a field or a bound exists once, in the spec.
pub use claudebench_generated::types::{Task, TaskStatus};

/// Every stream the task scripts append task snapshots to (`entity=task`): what the SQL
/// persister must drain.
pub const TASK_STREAMS: [&str; 6] =
    ["task.created", "task.updated", "task.claimed", "task.assigned", "task.completed", "task.deleted"];

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::issue::{Issue, IssueCode};
use claudebench_contract::validation;
use claudebench_generated::types::{self, Metadata, Priority, TaskText};
use claudebench_runtime::keys::{Keys, PartitionKeys, Partitions};
use claudebench_runtime::persist::{SqlStore, TaskFilter};
use claudebench_runtime::resilience::OwnLimit;
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::ops::RangeInclusive;

use super::instances::{LiveWorker, live, live_with_role};
use super::script::{Lua, MAX_RETRIES, Reply, contention, eval, eval_ok, field, lua, parse_json, redis_error};
use super::{CoordinationConfig, iso_millis, now_ms};

static CREATE: Lua = lua!("task_create", "publish", "task_keys", "gcra");
static UPDATE: Lua = lua!("task_update", "publish", "task_keys", "task_record");
static CLAIM: Lua = lua!("task_claim", "publish", "task_keys", "task_record");
static ASSIGN: Lua = lua!("task_assign", "publish", "task_keys", "task_record");
static AUTO_ASSIGN: Lua = lua!("task_auto_assign", "publish", "task_keys", "task_record");
static COMPLETE: Lua = lua!("task_complete", "publish", "task_keys", "task_record");
static DELETE: Lua = lua!("task_delete", "publish", "task_keys", "task_record");
static RESTORE: Lua = lua!("task_restore", "publish", "task_keys", "task_record");
static REQUEUE: Lua = lua!("task_requeue", "publish", "task_keys", "task_record");
static RETIRE: Lua = lua!("task_retire", "publish", "task_keys", "task_record");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 10] =
    [&CREATE, &UPDATE, &CLAIM, &ASSIGN, &AUTO_ASSIGN, &COMPLETE, &DELETE, &RESTORE, &REQUEUE, &RETIRE];

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
    pub order: ListOrder,
}

/// The order of [`Tasks::list`]; `offset` counts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// Highest id number (latest created) first.
    #[default]
    Newest,
    /// Creation order.
    Oldest,
    /// Pending tasks in the order workers claim them: highest priority first, then oldest. Only
    /// for `status: pending` (other statuses are not queued, so there is no such order to read).
    Claim,
}

impl TaskQuery {
    /// Whether `task` passes the filters (the order aside).
    fn matches(&self, task: &Task) -> bool {
        self.status.is_none_or(|s| task.status == s)
            && match &self.assigned_to {
                Some(owner) => task.assigned_to.as_deref() == Some(owner.as_str()),
                None => !self.unassigned_only || task.assigned_to.is_none(),
            }
    }
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            status: None,
            assigned_to: None,
            unassigned_only: false,
            offset: 0,
            limit: 50,
            order: ListOrder::default(),
        }
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

fn check_metadata(meta: &Map<String, Value>) -> Result<(), Error> {
    if meta.len() > MAX_METADATA_KEYS {
        return Err(invalid(format!("metadata may have at most {MAX_METADATA_KEYS} keys, got {}", meta.len())));
    }
    Ok(())
}

fn json_text<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("{what} not serialisable: {e}")))
}

/// Shallow merge of metadata: existing keys keep their position, new keys are appended.
fn merge_metadata(current: Option<Map<String, Value>>, update: &Map<String, Value>) -> Map<String, Value> {
    let mut merged = current.unwrap_or_default();
    for (k, v) in update {
        merged.insert(k.clone(), v.clone());
    }
    merged
}

/// The task statuses, each with an index per partition (`PartitionKeys::by_status`); together
/// the indexes list every task a partition holds.
const STATUSES: [TaskStatus; 4] =
    [TaskStatus::Pending, TaskStatus::InProgress, TaskStatus::Completed, TaskStatus::Failed];

/// KEYS 1..7 of every script that includes `lua/lib/task_record.lua` (see its header).
fn layout(p: &PartitionKeys) -> Vec<String> {
    let mut keys = Vec::with_capacity(12);
    keys.push(p.pending());
    keys.extend(STATUSES.iter().map(|s| p.by_status(s.as_str())));
    keys.push(p.epoch());
    keys.push(p.finished());
    keys
}

/// A task brought back from SQL to change may not leave Redis again for this long (plus the
/// retention): its change must land before the retirement job looks at it again.
const REVIVED_STAYS_MS: i64 = 60_000;

/// How long a deletion is remembered in its partition (`PartitionKeys::deleted`): long enough
/// for the persister to write it to SQL even after a long SQL outage; while SQL is behind by
/// more, a retired copy of a task deleted meanwhile could answer reads again.
const DELETIONS_REMEMBERED_MS: i64 = 3_600_000;

/// What `lua/task_restore.lua` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Restore {
    Done,
    /// Redis has the task (it is the newer copy).
    Present,
    /// Redis deleted the task lately; it is not brought back.
    Gone,
}

/// What the task scripts answer while a partition's state is being recovered.
fn lost_state() -> Error {
    let mut e = Error::unavailable("task state is being recovered after Redis lost its data; retry shortly");
    e.retry_after_ms = Some(1000);
    e
}

/// The task layout plus what a script giving one worker a task touches (KEYS 8..11 of
/// `task_claim` and `task_assign`): the event's stream, the worker's queue and assignee index,
/// and the partition's fences.
fn worker_layout(part: &PartitionKeys, event: &str, worker: &str) -> Vec<String> {
    let mut keys = layout(part);
    keys.extend([part.stream(event), part.worker_queue(worker), part.by_assignee(worker), part.fenced()]);
    keys
}

fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("task {id} not found"))
}

/// A task record as Redis holds it (`HGETALL` of `task:<id>`), decoded: the task and its version.
fn from_record(id: &str, record: &HashMap<String, String>) -> Result<(Task, i64), Error> {
    let bad = |what: &str| Error::internal(format!("task {id}: stored {what} is not valid"));
    let json = |name: &str| -> Result<Option<Value>, Error> {
        record.get(name).map(|raw| serde_json::from_str(raw).map_err(|_| bad(name))).transpose()
    };
    let text = |name: &str| Value::String(record.get(name).cloned().unwrap_or_default());
    let mut wire = Map::new();
    wire.insert("id".into(), Value::String(id.to_string()));
    wire.insert("text".into(), json("text")?.ok_or_else(|| bad("text"))?);
    wire.insert("status".into(), text("status"));
    let priority: i64 = record.get("priority").and_then(|p| p.parse().ok()).ok_or_else(|| bad("priority"))?;
    wire.insert("priority".into(), priority.into());
    wire.insert("assignedTo".into(), record.get("assignedTo").map(|a| Value::String(a.clone())).unwrap_or(Value::Null));
    for name in ["metadata", "result", "error"] {
        if let Some(v) = json(name)? {
            wire.insert(name.into(), v);
        }
    }
    wire.insert("createdAt".into(), text("createdAt"));
    wire.insert("updatedAt".into(), text("updatedAt"));
    if let Some(done) = record.get("completedAt") {
        wire.insert("completedAt".into(), Value::String(done.clone()));
    }
    let version = record.get("version").and_then(|v| v.parse().ok()).unwrap_or(0);
    let task = validation::from_value(&Value::Object(wire)).map_err(|e| bad(&format!("record ({e})")))?;
    Ok((task, version))
}

/// An outbox or SQL snapshot (the wire JSON plus `version`) as a task and its version.
fn from_snapshot(snapshot: &Value) -> Result<(Task, i64), Error> {
    let version = snapshot.get("version").and_then(Value::as_i64).unwrap_or(0);
    let mut wire = snapshot.clone();
    if let Some(fields) = wire.as_object_mut() {
        fields.remove("version");
    }
    let task = validation::from_value(&wire)
        .map_err(|e| Error::internal(format!("a persisted task snapshot is not a task: {e}")))?;
    Ok((task, version))
}

/// The pending-queue score of a task (as `tr_score` in `lua/lib/task_record.lua`).
fn queue_score(priority: Priority, seq: u64) -> f64 {
    (100 - priority) as f64 * 1_099_511_627_776.0 + seq as f64
}

fn seq_of(id: &str) -> u64 {
    id.strip_prefix("t-").and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The task service under one key prefix, over the deployment's partitions.
#[derive(Debug, Clone)]
pub struct Tasks {
    keys: Keys,
    parts: Partitions,
    config: CoordinationConfig,
    /// Where finished tasks live once they leave Redis (`None`: they never leave).
    store: Option<SqlStore>,
    /// Round-robin choice of the partition of the next created task.
    next: Arc<AtomicU32>,
    /// The KEYS of `task_create` per partition and the `task.created` channel, built once: the
    /// create path is the hottest, and formatting ten key names per call showed in profiles.
    create_keys: Arc<Vec<Vec<String>>>,
    created_channel: Arc<str>,
}

impl Tasks {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        let parts = Partitions::new(&keys, config.partitions);
        let create_keys = parts
            .all()
            .iter()
            .map(|part| {
                let mut k = layout(part);
                k.extend([part.seq(), part.seq_limit(), part.stream("task.created")]);
                k
            })
            .collect();
        let created_channel = keys.channel("task.created").into();
        Tasks {
            keys,
            parts,
            config,
            store: None,
            next: Arc::new(AtomicU32::new(0)),
            create_keys: Arc::new(create_keys),
            created_channel,
        }
    }

    /// The same service, reading finished tasks that left Redis from `store` and letting them
    /// leave ([`Tasks::retire`]).
    pub fn with_store(mut self, store: SqlStore) -> Self {
        self.store = Some(store);
        self
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The partitions tasks are spread over.
    pub fn partitions(&self) -> &Partitions {
        &self.parts
    }

    fn part(&self, id: &str) -> Result<&PartitionKeys, Error> {
        self.parts.of_task(id).ok_or_else(|| not_found(id))
    }

    /// Create a pending task with a fresh `t-<n>` id (unique across processes and partitions:
    /// each partition's Redis counter, bounded by the ids reserved in SQL), queue it by priority
    /// and publish `task.created`. One round trip. `unavailable` while the partition's task state
    /// is being recovered or ids are being reserved.
    pub async fn create<C: ConnectionLike + Send>(&self, con: &mut C, new: NewTask) -> Result<Task, Error> {
        self.create_limited(con, new, None).await
    }

    /// [`create`](Self::create), checking the caller's rate limit `own_limit`: a refused create
    /// changes nothing and is `rate_limited`. With one partition the check runs inside the create
    /// script (one round trip; the limit's key lives in the partition's slot). With several, new
    /// tasks go round robin, so that ids follow creation order across partitions, and the caller's
    /// one key is checked first by the limiter's own script.
    pub async fn create_limited<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        new: NewTask,
        own_limit: Option<&OwnLimit>,
    ) -> Result<Task, Error> {
        check_text(&new.text)?;
        check_priority(new.priority)?;
        let metadata = match &new.metadata {
            Some(meta) => {
                check_metadata(meta)?;
                json_text(meta, "metadata")?
            }
            None => String::new(),
        };
        let limit_args = own_limit.map(OwnLimit::script_args).transpose()?;
        let folded = self.parts.count() == 1;
        if let (Some(own), false) = (own_limit, folded) {
            own.enforce_on(con, &self.keys).await?;
        }
        let part = self.parts.get(self.next.fetch_add(1, Ordering::Relaxed));
        let keys = &self.create_keys[part.index() as usize];
        let now = now_ms();
        let iso = iso_millis(now);
        let text = json_text(&new.text, "text")?;
        // The wire JSON after the id (as `tr_json` in lua/lib/task_record.lua lays it out), so
        // the script only puts the id in front.
        let mut tail = format!(r#""text":{text},"status":"pending","priority":{},"assignedTo":null"#, new.priority);
        if !metadata.is_empty() {
            tail.push_str(r#","metadata":"#);
            tail.push_str(&metadata);
        }
        tail.push_str(&format!(r#","createdAt":"{iso}","updatedAt":"{iso}""#));
        let state = format!(r#"{tail},"version":1}}"#);
        tail.push('}');
        let args = [
            part.index().to_string(),
            part.count().to_string(),
            text,
            new.priority.to_string(),
            now.to_string(),
            iso,
            self.created_channel.to_string(),
            metadata,
            tail,
            state,
        ];
        let v = match (own_limit, limit_args) {
            (Some(own), Some((count, window_ms))) if folded => {
                let mut call = CREATE.call();
                for key in keys {
                    call.key(key);
                }
                call.key(part.rate_limit(own.event, &own.caller));
                for arg in &args {
                    call.arg(arg);
                }
                call.arg(count).arg(window_ms);
                call.run_ok(con).await.map_err(|e| own.explain(e))?
            }
            _ => eval_ok(con, &CREATE, keys, &args).await?,
        };
        parse_json(field(&v, 0, "task_create")?, "task_create")
    }

    /// Put a task back from its persisted snapshot (rehydration after a Redis loss). Returns
    /// `false` when Redis still has the task (it is left untouched) or deleted it lately.
    /// Unfinished tasks come back pending and unassigned; the instances that held them were
    /// lost with Redis.
    pub async fn restore<C: ConnectionLike + Send>(&self, con: &mut C, snapshot: &Value) -> Result<bool, Error> {
        let leave_from = now_ms() + REVIVED_STAYS_MS;
        Ok(self.restore_with(con, snapshot, leave_from).await? == Restore::Done)
    }

    /// [`restore`](Self::restore); a finished task may leave Redis again from `leave_from` (ms)
    /// on, after the retention.
    async fn restore_with<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        snapshot: &Value,
        leave_from: i64,
    ) -> Result<Restore, Error> {
        let (task, version) = from_snapshot(snapshot)?;
        let part = self
            .parts
            .of_task(&task.id)
            .ok_or_else(|| Error::internal(format!("persisted task id `{}` is not of the form t-<n>", task.id)))?;
        // Metadata goes back in the snapshot's key order (the decoded map is sorted).
        let metadata = match snapshot.get("metadata") {
            Some(m @ Value::Object(_)) => m.to_string(),
            _ => String::new(),
        };
        let ms = |iso: &str| super::parse_iso_millis(iso).unwrap_or(0);
        let mut keys = layout(part);
        keys.extend([part.seq(), part.deleted()]);
        let args = [
            task.id.clone(),
            seq_of(&task.id).to_string(),
            json_text(&task.text, "text")?,
            task.status.as_str().to_string(),
            task.priority.to_string(),
            task.assigned_to.clone().unwrap_or_default(),
            task.created_at.clone(),
            task.updated_at.clone(),
            task.completed_at.clone().unwrap_or_default(),
            ms(&task.created_at).to_string(),
            task.result.as_ref().map(Value::to_string).unwrap_or_default(),
            // The scripts never store a `null` error: absent and `null` both mean none.
            match &task.error {
                Some(Some(e)) => json_text(e, "error")?,
                _ => String::new(),
            },
            version.to_string(),
            metadata,
            leave_from.to_string(),
            task.completed_at.as_deref().map(|c| ms(c).to_string()).unwrap_or_default(),
        ];
        let v = eval_ok(con, &RESTORE, &keys, &args).await?;
        Ok(match field(&v, 0, "task_restore")? {
            "1" => Restore::Done,
            "gone" => Restore::Gone,
            _ => Restore::Present,
        })
    }

    /// The task as Redis holds it, with its version; `None` when it is not in Redis.
    async fn hot<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Option<(Task, i64)>, Error> {
        let part = self.part(id)?;
        let record: HashMap<String, String> =
            redis::cmd("HGETALL").arg(part.task(id)).query_async(con).await.map_err(redis_error)?;
        if record.is_empty() {
            return Ok(None);
        }
        from_record(id, &record).map(Some)
    }

    /// The task as SQL holds it once it left Redis; `None` without SQL, when no retired task has
    /// this id (see [`SqlStore::retired_task`]), or when Redis deleted it lately (SQL has not
    /// heard yet).
    async fn cold<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Option<(Task, i64)>, Error> {
        let Some(store) = &self.store else { return Ok(None) };
        let Some(stored) = store.retired_task(id).await? else { return Ok(None) };
        let deleted: Option<f64> =
            redis::cmd("ZSCORE").arg(self.part(id)?.deleted()).arg(id).query_async(con).await.map_err(redis_error)?;
        if deleted.is_some() {
            return Ok(None);
        }
        from_snapshot(&stored.state).map(Some)
    }

    /// One task, or `not_found`: from Redis, else (a finished task that left it) from SQL.
    pub async fn get<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Task, Error> {
        if let Some((task, _)) = self.hot(con, id).await? {
            return Ok(task);
        }
        if let Some((task, _)) = self.cold(con, id).await? {
            return Ok(task);
        }
        // Redis may have got it back (revived) between the two reads.
        if let Some((task, _)) = self.hot(con, id).await? {
            return Ok(task);
        }
        // Not found, unless the partition lost its state: then "not found" could be a lie.
        let part = self.part(id)?;
        let open: bool = redis::cmd("EXISTS").arg(part.epoch()).query_async(con).await.map_err(redis_error)?;
        if open { Err(not_found(id)) } else { Err(lost_state()) }
    }

    /// Brings a task that left Redis back into it, as SQL holds it, before it changes again; it
    /// may not leave again for [`REVIVED_STAYS_MS`] plus the retention. `false` when there is
    /// nothing to bring back (no retired copy, or deleted lately). Several clients reviving one
    /// task at once is harmless: the first restores it, the others find it present.
    pub async fn revive<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<bool, Error> {
        let Some(store) = &self.store else { return Ok(false) };
        let Some(stored) = store.retired_task(id).await? else { return Ok(false) };
        let outcome = self.restore_with(con, &stored.state, now_ms() + REVIVED_STAYS_MS).await?;
        if outcome == Restore::Gone {
            return Ok(false);
        }
        // Back in Redis: the row is no longer the only copy (a listing reads it from Redis now).
        store.unretire(id).await?;
        Ok(true)
    }

    /// A finished task just changed (or was deleted) in Redis. A retirement that marked its SQL
    /// row retired a moment ago (and found it changed) takes the mark back itself, but one that
    /// died in between would leave SQL answering for it beside Redis until the persister writes
    /// the change; so the change takes the mark back at once. Finished tasks rarely change: one
    /// SQL statement by primary key on a rare path.
    async fn no_longer_retired(&self, id: &str) -> Result<(), Error> {
        match &self.store {
            Some(store) => store.unretire(id).await,
            None => Ok(()),
        }
    }

    /// Runs a script on one task; a task that left Redis is brought back first.
    async fn on_task<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        id: &str,
        lua: &Lua,
        keys: &[String],
        args: &[String],
    ) -> Result<Vec<String>, Error> {
        let mut attempt = 0;
        loop {
            match eval_ok(con, lua, keys, args).await {
                // Not in Redis: bring it back from SQL and run again. Nothing to bring back may
                // mean another client just did (its restore landed after this script ran and
                // before this read of SQL): run again once to see.
                Err(e) if e.code == ErrorCode::NotFound && attempt < MAX_RETRIES => {
                    attempt += 1;
                    if !self.revive(con, id).await? {
                        return match eval_ok(con, lua, keys, args).await {
                            Err(again) if again.code == ErrorCode::NotFound => Err(e),
                            other => other,
                        };
                    }
                }
                other => return other,
            }
        }
    }

    /// A page of tasks, filtered by status and/or assignee (or to unassigned tasks), with the
    /// total count, newest (highest id number) first unless asked otherwise. Tasks in Redis and
    /// tasks that left it for SQL are merged into one order.
    pub async fn list<C: ConnectionLike + Send>(&self, con: &mut C, query: &TaskQuery) -> Result<TaskPage, Error> {
        if query.order == ListOrder::Claim && query.status != Some(TaskStatus::Pending) {
            return Err(Error::validation(vec![Issue {
                path: "order".into(),
                code: IssueCode::Custom,
                message: "claim order lists pending tasks only: send status 'pending'".into(),
            }]));
        }
        // A partition that lost its state would make the page and the total silently short.
        for part in self.parts.all() {
            let open: bool = redis::cmd("EXISTS").arg(part.epoch()).query_async(con).await.map_err(redis_error)?;
            if !open {
                return Err(lost_state());
            }
        }
        if query.order == ListOrder::Claim {
            return self.list_in_claim_order(con, query).await;
        }
        let oldest_first = query.order == ListOrder::Oldest;
        let limit = query.limit.min(MAX_PAGE);
        let want = query.offset.saturating_add(limit);
        let unassigned = query.unassigned_only && query.assigned_to.is_none();
        // Hot: (id number, id) of the matching tasks each partition holds, best first.
        let mut candidates: Vec<(u64, String, bool)> = Vec::new();
        let mut total: u64 = 0;
        for part in self.parts.all() {
            let (indexes, post_filter) = match (&query.assigned_to, query.status) {
                (Some(a), s) => (vec![part.by_assignee(a)], s.is_some()),
                (None, Some(s)) => (vec![part.by_status(s.as_str())], unassigned),
                (None, None) => (STATUSES.iter().map(|s| part.by_status(s.as_str())).collect(), unassigned),
            };
            for index in indexes {
                let (ids, count) = if post_filter {
                    let all = zrange(con, &index, 0, -1, !oldest_first).await?;
                    let mut pipe = redis::pipe();
                    for (_, id) in &all {
                        pipe.cmd("HMGET").arg(part.task(id)).arg("status").arg("assignedTo");
                    }
                    let fields: Vec<(Option<String>, Option<String>)> =
                        if all.is_empty() { Vec::new() } else { pipe.query_async(con).await.map_err(redis_error)? };
                    let matching: Vec<(u64, String)> = all
                        .into_iter()
                        .zip(fields)
                        .filter(|(_, (status, owner))| {
                            status.is_some()
                                && query.status.is_none_or(|s| status.as_deref() == Some(s.as_str()))
                                && (!unassigned || owner.is_none())
                        })
                        .map(|(entry, _)| entry)
                        .collect();
                    let count = matching.len() as u64;
                    (matching.into_iter().take(want).collect(), count)
                } else {
                    let count: u64 = redis::cmd("ZCARD").arg(&index).query_async(con).await.map_err(redis_error)?;
                    let ids = if want == 0 {
                        Vec::new()
                    } else {
                        zrange(con, &index, 0, want as isize - 1, !oldest_first).await?
                    };
                    (ids, count)
                };
                total += count;
                candidates.extend(ids.into_iter().map(|(seq, id)| (seq, id, true)));
            }
        }
        // Cold: finished tasks only, so a filter on an unfinished status has none.
        let cold_possible = query.status.is_none_or(|s| s.is_finished());
        if let (Some(store), true) = (&self.store, cold_possible) {
            let filter = TaskFilter {
                status: query.status.map(|s| s.as_str().to_string()),
                assigned_to: query.assigned_to.clone(),
                unassigned,
            };
            let (count, ids) = store.retired_page(&filter, !oldest_first, want as i64).await?;
            total += count;
            candidates.extend(ids.into_iter().map(|(seq, id)| (seq as u64, id, false)));
        }
        candidates.sort_by(|a, b| if oldest_first { a.0.cmp(&b.0) } else { b.0.cmp(&a.0) });
        // A task revived moments ago may still be marked retired: Redis' copy wins.
        candidates.dedup_by(|later, earlier| later.1 == earlier.1 && !later.2);
        let page = candidates.into_iter().skip(query.offset).take(limit).map(|(_, id, hot)| (id, hot));
        let tasks = self.read_listed(con, page, query).await?;
        Ok(TaskPage { tasks, total, offset: query.offset, limit })
    }

    /// [`ListOrder::Claim`]: pending tasks read from the claim queues, which are already scored
    /// by priority then id, so a page costs its own length however many tasks wait: the shared
    /// queue for unassigned ones, an instance's own queue for those reserved for it, and (with
    /// no assignee filter) the few reserved ones found as pending-but-not-queued.
    async fn list_in_claim_order<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        query: &TaskQuery,
    ) -> Result<TaskPage, Error> {
        let limit = query.limit.min(MAX_PAGE);
        let want = query.offset.saturating_add(limit);
        // ZRANGE's last index; never -1 ("to the end"), even for an empty page.
        let last = want.max(1) as isize - 1;
        // (queue score, id) of each partition's best `want`; scores compare across partitions.
        let mut candidates: Vec<(f64, String)> = Vec::new();
        let mut total: u64 = 0;
        for part in self.parts.all() {
            match &query.assigned_to {
                Some(owner) => {
                    // An instance's queue also holds what it has claimed: keep the pending ones.
                    let queued = zrange_scored(con, &part.worker_queue(owner), 0, -1, false).await?;
                    let statuses: Vec<Option<String>> = field_of_each(con, part, &queued, "status").await?;
                    let pending: Vec<(f64, String)> = queued
                        .into_iter()
                        .zip(statuses)
                        .filter(|(_, status)| status.as_deref() == Some(TaskStatus::Pending.as_str()))
                        .map(|((id, score), _)| (score, id))
                        .collect();
                    total += pending.len() as u64;
                    candidates.extend(pending.into_iter().take(want));
                }
                None => {
                    // One snapshot per partition (its keys share a slot): the counts and the
                    // ids agree however busy the queue is.
                    let mut pipe = redis::pipe();
                    pipe.atomic().cmd("ZCARD").arg(part.pending());
                    pipe.cmd("ZRANGE").arg(part.pending()).arg(0).arg(last).arg("WITHSCORES");
                    let (shared, best, reserved): (u64, Vec<Scored>, Vec<Scored>) = if query.unassigned_only {
                        let (shared, best) = pipe.query_async(con).await.map_err(redis_error)?;
                        (shared, best, Vec::new())
                    } else {
                        // Reserved for an instance but not claimed yet: pending, off the
                        // shared queue. Scored by id number in the status index; re-scored
                        // by priority below.
                        pipe.cmd("ZDIFF").arg(2).arg(part.by_status(TaskStatus::Pending.as_str())).arg(part.pending());
                        pipe.arg("WITHSCORES");
                        pipe.query_async(con).await.map_err(redis_error)?
                    };
                    total += shared + reserved.len() as u64;
                    candidates.extend(best.into_iter().map(|(id, score)| (score, id)));
                    let priorities: Vec<Option<Priority>> = field_of_each(con, part, &reserved, "priority").await?;
                    candidates.extend(reserved.into_iter().zip(priorities).map(|((id, seq), priority)| {
                        (queue_score(priority.unwrap_or(*PRIORITY.start()), seq as u64), id)
                    }));
                }
            }
        }
        // Ties cannot happen (the id number is in the score); `total_cmp` orders any float. A
        // task assigned between the two reads is in both: listed once.
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let mut seen = std::collections::HashSet::new();
        candidates.retain(|(_, id)| seen.insert(id.clone()));
        let page = candidates.into_iter().skip(query.offset).take(limit).map(|(_, id)| (id, true));
        let tasks = self.read_listed(con, page, query).await?;
        Ok(TaskPage { tasks, total, offset: query.offset, limit })
    }

    /// The listed tasks, each from Redis (`hot`) or SQL; one that left Redis since it was
    /// listed is read from SQL, one gone from both is skipped, and so is one that changed since
    /// it was listed so that it no longer matches `query` (e.g. claimed in between: a pending
    /// listing never shows an in-progress task; the page is one shorter instead).
    async fn read_listed<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        page: impl Iterator<Item = (String, bool)>,
        query: &TaskQuery,
    ) -> Result<Vec<Task>, Error> {
        let mut tasks = Vec::new();
        for (id, hot) in page {
            let found = match if hot { self.hot(con, &id).await? } else { None } {
                Some((task, _)) => Some(task),
                None => self.cold(con, &id).await?.map(|(task, _)| task),
            };
            tasks.extend(found.filter(|task| query.matches(task)));
        }
        Ok(tasks)
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
        if let Some(meta) = &update.metadata {
            check_metadata(meta)?;
        }
        let part = self.part(id)?;
        let mut revived = false;
        for _ in 0..MAX_RETRIES {
            let Some((current, version)) = self.hot(con, id).await? else {
                // Not in Redis: bring it back from SQL (or find another client just did).
                if !revived {
                    revived = true;
                    self.revive(con, id).await?;
                    continue;
                }
                return Err(not_found(id));
            };
            let metadata = match &update.metadata {
                Some(m) => json_text(&merge_metadata(current.metadata.map(ordered), m), "metadata")?,
                None => String::new(),
            };
            let now = now_ms();
            let mut keys = layout(part);
            keys.push(part.stream("task.updated"));
            let args = [
                id.to_string(),
                version.to_string(),
                now.to_string(),
                iso_millis(now),
                self.keys.channel("task.updated"),
                flag(update.text.is_some()),
                update.text.as_ref().map(|t| json_text(t, "text")).transpose()?.unwrap_or_default(),
                flag(update.status.is_some()),
                update.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                flag(update.priority.is_some()),
                update.priority.map(|p| p.to_string()).unwrap_or_default(),
                flag(update.metadata.is_some()),
                metadata,
            ];
            match eval(con, &UPDATE, &keys, &args).await? {
                Reply::Ok(v) => {
                    let updated = parse_json(field(&v, 0, "task_update")?, "task_update")?;
                    if current.status.is_finished() {
                        self.no_longer_retired(id).await?;
                    }
                    return Ok(updated);
                }
                Reply::Retry => continue,
            }
        }
        Err(contention("task.update"))
    }

    /// A live worker takes up to `max_tasks` tasks: first those reserved for it, then the best
    /// pending ones (see the module's ordering note). Each becomes in_progress and owned by the
    /// worker; publishes `task.claimed` per task. An empty answer means nothing was claimable.
    /// Errors: `not_found` (worker not registered), `conflict` (worker not alive).
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
        let worker = &live(con, &self.keys, &self.config, worker_id).await?;
        if self.parts.count() == 1 {
            return self.claim_in(con, self.parts.get(0), worker, max_tasks, true, true).await;
        }
        // One pipeline per partition: does the worker have a queue there (reserved tasks come
        // first), and the best heads of its pending queue.
        let mut queued: Vec<&PartitionKeys> = Vec::new();
        let mut heads: Vec<(f64, u32)> = Vec::new();
        for part in self.parts.all() {
            let (mine, top): (u64, Vec<(String, f64)>) = redis::pipe()
                .zcard(part.worker_queue(&worker.id))
                .cmd("ZRANGE")
                .arg(part.pending())
                .arg(0)
                .arg(max_tasks - 1)
                .arg("WITHSCORES")
                .query_async(con)
                .await
                .map_err(redis_error)?;
            if mine > 0 {
                queued.push(part);
            }
            heads.extend(top.into_iter().map(|(_, score)| (score, part.index())));
        }
        let mut reserved: Vec<Task> = Vec::new();
        for part in queued {
            if reserved.len() < max_tasks {
                reserved.extend(self.claim_in(con, part, worker, max_tasks - reserved.len(), true, false).await?);
            }
        }
        let mut claimed: Vec<Task> = Vec::new();
        // Then the best heads across partitions; a partition that yields fewer than planned
        // (another claim was faster) is looked at again, a bounded number of times.
        for round in 0..MAX_RETRIES {
            let need = max_tasks.saturating_sub(reserved.len() + claimed.len());
            if need == 0 {
                break;
            }
            if round > 0 {
                heads.clear();
                for part in self.parts.all() {
                    let top: Vec<(String, f64)> = redis::cmd("ZRANGE")
                        .arg(part.pending())
                        .arg(0)
                        .arg(need - 1)
                        .arg("WITHSCORES")
                        .query_async(con)
                        .await
                        .map_err(redis_error)?;
                    heads.extend(top.into_iter().map(|(_, score)| (score, part.index())));
                }
            }
            if heads.is_empty() {
                break;
            }
            heads.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut plan: Vec<(u32, usize)> = Vec::new();
            for (_, p) in heads.drain(..).take(need) {
                match plan.iter_mut().find(|(q, _)| *q == p) {
                    Some((_, n)) => *n += 1,
                    None => plan.push((p, 1)),
                }
            }
            let mut got = 0;
            for (p, n) in plan {
                let tasks = self.claim_in(con, self.parts.get(p), worker, n, false, true).await?;
                got += tasks.len();
                claimed.extend(tasks);
            }
            if got == 0 {
                break;
            }
        }
        // In queue order, after the reserved ones (each partition answers in its own order).
        let by_score = |a: &Task, b: &Task| {
            queue_score(a.priority, seq_of(&a.id)).total_cmp(&queue_score(b.priority, seq_of(&b.id)))
        };
        reserved.sort_by(by_score);
        claimed.sort_by(by_score);
        reserved.extend(claimed);
        let claimed = reserved;
        Ok(claimed)
    }

    async fn claim_in<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        part: &PartitionKeys,
        worker: &LiveWorker,
        max: usize,
        reserved: bool,
        pending: bool,
    ) -> Result<Vec<Task>, Error> {
        let now = now_ms();
        let keys = worker_layout(part, "task.claimed", &worker.id);
        let args = [
            worker.id.clone(),
            max.to_string(),
            now.to_string(),
            iso_millis(now),
            self.keys.channel("task.claimed"),
            worker.incarnation.clone(),
            flag(reserved),
            flag(pending),
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
        let part = self.part(task_id)?;
        let instance = &live(con, &self.keys, &self.config, instance_id).await?;
        let now = now_ms();
        let keys = worker_layout(part, "task.assigned", &instance.id);
        let args = [
            task_id.to_string(),
            instance.id.clone(),
            now.to_string(),
            iso_millis(now),
            self.keys.channel("task.assigned"),
            instance.incarnation.clone(),
        ];
        match eval_ok(con, &ASSIGN, &keys, &args).await {
            // Only finished tasks leave Redis: a cold task is finished, so it cannot be assigned.
            Err(e) if e.code == ErrorCode::NotFound => match self.cold(con, task_id).await? {
                Some((task, _)) => {
                    Err(Error::new(ErrorCode::Conflict, format!("task {task_id} is already {}", task.status.as_str())))
                }
                None => Err(e),
            },
            Err(e) => Err(e),
            Ok(v) => parse_json(field(&v, 0, "task_assign")?, "task_assign"),
        }
    }

    /// Load-balanced assignment of up to `limit` pending tasks (best partition heads first),
    /// each to the live `worker`-role instance with the shortest queue (across partitions)
    /// below the configured capacity.
    pub async fn auto_assign<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        limit: usize,
    ) -> Result<Vec<Assignment>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let candidates = &live_with_role(con, &self.keys, &self.config, "worker").await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut loads: Vec<u64> = Vec::with_capacity(candidates.len());
        for w in candidates {
            loads.push(self.queue_length(con, &w.id).await?);
        }
        let mut out: Vec<Assignment> = Vec::new();
        let mut exhausted = vec![false; self.parts.count() as usize];
        while out.len() < limit {
            // The partition whose head is best goes next.
            let mut best: Option<(f64, u32)> = None;
            for part in self.parts.all() {
                if exhausted[part.index() as usize] {
                    continue;
                }
                let head: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(part.pending())
                    .arg(0)
                    .arg(0)
                    .arg("WITHSCORES")
                    .query_async(con)
                    .await
                    .map_err(redis_error)?;
                match head.first() {
                    Some((_, score)) if best.is_none_or(|(b, _)| *score < b) => best = Some((*score, part.index())),
                    Some(_) => {}
                    None => exhausted[part.index() as usize] = true,
                }
            }
            let Some((_, p)) = best else { break };
            let part = self.parts.get(p);
            // One partition at a time; with one partition that is all of it in one call.
            let step = if self.parts.count() == 1 { limit - out.len() } else { 1 };
            let now = now_ms();
            let mut keys = layout(part);
            keys.extend([part.stream("task.assigned"), part.fenced()]);
            let mut args = vec![
                now.to_string(),
                iso_millis(now),
                self.keys.channel("task.assigned"),
                self.config.worker_capacity.to_string(),
                step.to_string(),
            ];
            for (w, load) in candidates.iter().zip(&loads) {
                keys.push(part.worker_queue(&w.id));
                keys.push(part.by_assignee(&w.id));
                args.extend([w.id.clone(), w.incarnation.clone(), load.to_string()]);
            }
            let v = eval_ok(con, &AUTO_ASSIGN, &keys, &args).await?;
            let made: Vec<Assignment> = parse_json(field(&v, 0, "task_auto_assign")?, "task_auto_assign")?;
            if made.is_empty() {
                // No capacity left (or the head went to a claim meanwhile and the queue is empty).
                if self.parts.count() == 1 || loads.iter().all(|l| *l >= u64::from(self.config.worker_capacity)) {
                    break;
                }
                exhausted[p as usize] = true;
                continue;
            }
            for a in &made {
                if let Some(i) = candidates.iter().position(|w| w.id == a.instance_id) {
                    loads[i] += 1;
                }
            }
            out.extend(made);
        }
        Ok(out)
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
        let part = self.part(id)?;
        let (has_result, result, has_error, error) = match &outcome {
            Outcome::Completed(Some(v)) => (true, json_text(v, "result")?, false, String::new()),
            Outcome::Completed(None) => (false, String::new(), false, String::new()),
            Outcome::Failed(e) => (false, String::new(), true, json_text(e, "error")?),
        };
        let now = now_ms();
        let mut keys = layout(part);
        keys.extend([part.stream("task.completed"), part.worker_queue(worker_id)]);
        let args = [
            id.to_string(),
            worker_id.to_string(),
            now.to_string(),
            iso_millis(now),
            self.keys.channel("task.completed"),
            flag(has_result),
            result,
            flag(has_error),
            error,
        ];
        let v = self.on_task(con, id, &COMPLETE, &keys, &args).await?;
        let task = parse_json(field(&v, 0, "task_complete")?, "task_complete")?;
        let duration_ms = field(&v, 1, "task_complete")?.parse().unwrap_or(0);
        Ok(Completion { task, duration_ms })
    }

    /// Remove a task everywhere; publishes `task.deleted`. Returns the task as it was.
    pub async fn delete<C: ConnectionLike + Send>(&self, con: &mut C, id: &str) -> Result<Task, Error> {
        check_id("id", id)?;
        let part = self.part(id)?;
        let mut keys = layout(part);
        keys.extend([part.stream("task.deleted"), part.deleted()]);
        let args = [
            id.to_string(),
            now_ms().to_string(),
            self.keys.channel("task.deleted"),
            DELETIONS_REMEMBERED_MS.to_string(),
        ];
        let v = self.on_task(con, id, &DELETE, &keys, &args).await?;
        let deleted: Task = parse_json(field(&v, 0, "task_delete")?, "task_delete")?;
        if deleted.status.is_finished() {
            self.no_longer_retired(id).await?;
        }
        Ok(deleted)
    }

    /// Takes one instance's unfinished tasks back to the pending queues, in every partition,
    /// fencing its incarnation there first (the partition step of a failure sweep or an
    /// unregistration). Idempotent. Returns the re-queued task ids.
    pub async fn requeue_from<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        instance: &str,
        incarnation: &str,
        reason: &str,
    ) -> Result<Vec<String>, Error> {
        let mut requeued = Vec::new();
        for part in self.parts.all() {
            let now = now_ms();
            let mut keys = layout(part);
            keys.extend([part.stream("task.updated"), part.fenced(), part.worker_queue(instance)]);
            let args = [
                instance.to_string(),
                incarnation.to_string(),
                reason.to_string(),
                now.to_string(),
                iso_millis(now),
                self.keys.channel("task.updated"),
            ];
            let v = eval_ok(con, &REQUEUE, &keys, &args).await?;
            requeued.extend(parse_json::<Vec<String>>(field(&v, 0, "task_requeue")?, "task_requeue")?);
        }
        Ok(requeued)
    }

    /// Lets finished tasks leave Redis: those finished longer than the retention ago whose
    /// final version SQL holds. Their SQL rows are marked retired first, so listings find them
    /// there from the moment they are gone here. Returns how many left. Without SQL nothing
    /// leaves. At most `batch` tasks per partition per call.
    pub async fn retire<C: ConnectionLike + Send>(&self, con: &mut C, batch: usize) -> Result<u64, Error> {
        let Some(store) = &self.store else { return Ok(0) };
        let before = now_ms().saturating_sub(i64::try_from(self.config.task_retention_ms).unwrap_or(i64::MAX));
        let mut removed = 0;
        for part in self.parts.all() {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(part.finished())
                .arg("-inf")
                .arg(before)
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(0)
                .arg(batch.max(1))
                .query_async(con)
                .await
                .map_err(redis_error)?;
            if ids.is_empty() {
                continue;
            }
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.hget(part.task(id), "version");
            }
            let versions: Vec<Option<i64>> = pipe.query_async(con).await.map_err(redis_error)?;
            // A task gone meanwhile has no version: nothing to retire.
            let wanted: Vec<(String, i64)> =
                ids.into_iter().zip(versions).filter_map(|(id, v)| Some((id, v?))).collect();
            // Only what SQL holds at exactly Redis' version may go.
            let durable = store.retire(&wanted).await?;
            if durable.is_empty() {
                continue;
            }
            let mut args = vec![before.to_string()];
            args.extend(durable.iter().flat_map(|(id, v)| [id.clone(), v.to_string()]));
            let v = eval_ok(con, &RETIRE, &layout(part), &args).await?;
            let kept: Vec<String> = parse_json(field(&v, 0, "task_retire")?, "task_retire")?;
            removed += (durable.len() - kept.len()) as u64;
            // Changed, reopened, deleted or revived meanwhile: Redis answers for it (or nobody
            // does), so SQL's row is not its only copy.
            if !kept.is_empty() {
                store.unretire_all(&kept).await?;
            }
        }
        Ok(removed)
    }
}

impl Tasks {
    /// Tasks by status across every partition (and, for finished ones that left Redis, SQL),
    /// plus the pending queues' total depth.
    pub async fn counts<C: ConnectionLike + Send>(&self, con: &mut C) -> Result<TaskCounts, Error> {
        let mut c = TaskCounts::default();
        for part in self.parts.all() {
            let (depth, pending, in_progress, completed, failed): (u64, u64, u64, u64, u64) = redis::pipe()
                .zcard(part.pending())
                .zcard(part.by_status("pending"))
                .zcard(part.by_status("in_progress"))
                .zcard(part.by_status("completed"))
                .zcard(part.by_status("failed"))
                .query_async(con)
                .await
                .map_err(redis_error)?;
            c.queue_depth += depth;
            c.pending += pending;
            c.in_progress += in_progress;
            c.completed += completed;
            c.failed += failed;
        }
        if let Some(store) = &self.store {
            let (completed, failed) = store.retired_counts().await?;
            c.completed += completed;
            c.failed += failed;
        }
        Ok(c)
    }

    /// How many unfinished tasks one worker holds, across partitions.
    pub async fn queue_length<C: ConnectionLike + Send>(&self, con: &mut C, worker: &str) -> Result<u64, Error> {
        let mut n = 0;
        for part in self.parts.all() {
            let len: u64 =
                redis::cmd("ZCARD").arg(part.worker_queue(worker)).query_async(con).await.map_err(redis_error)?;
            n += len;
        }
        Ok(n)
    }
}

/// Answer of [`Tasks::counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskCounts {
    /// Tasks on the pending queues (claimable).
    pub queue_depth: u64,
    pub pending: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub failed: u64,
}

/// `ZRANGE key start stop [REV] WITHSCORES` of an index scored by id number.
async fn zrange<C: ConnectionLike + Send>(
    con: &mut C,
    key: &str,
    start: isize,
    stop: isize,
    rev: bool,
) -> Result<Vec<(u64, String)>, Error> {
    let v = zrange_scored(con, key, start, stop, rev).await?;
    Ok(v.into_iter().map(|(id, score)| (score as u64, id)).collect())
}

/// One field of each listed task's record, in one round trip (`None` where a task or the field
/// is gone).
async fn field_of_each<C: ConnectionLike + Send, T: redis::FromRedisValue>(
    con: &mut C,
    part: &PartitionKeys,
    listed: &[Scored],
    field: &str,
) -> Result<Vec<Option<T>>, Error> {
    if listed.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for (id, _) in listed {
        pipe.cmd("HGET").arg(part.task(id)).arg(field);
    }
    pipe.query_async(con).await.map_err(redis_error)
}

/// A sorted-set member with its score.
type Scored = (String, f64);

/// `ZRANGE … [REV] WITHSCORES` with the scores as they are (queue scores are compared as floats).
async fn zrange_scored<C: ConnectionLike + Send>(
    con: &mut C,
    key: &str,
    start: isize,
    stop: isize,
    rev: bool,
) -> Result<Vec<Scored>, Error> {
    let mut cmd = redis::cmd("ZRANGE");
    cmd.arg(key).arg(start).arg(stop);
    if rev {
        cmd.arg("REV");
    }
    cmd.arg("WITHSCORES").query_async(con).await.map_err(redis_error)
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
