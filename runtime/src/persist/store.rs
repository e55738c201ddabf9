//! The SQL side: connection, migrations, the idempotent task writes and the task id reservations.
//!
//! Every row belongs to one key prefix (`CLAUDEBENCH_KEY_PREFIX`): a store opened for prefix `a`
//! never reads or writes the rows of prefix `b`, so deployments can share a database.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use claudebench_contract::error::Error;
use serde_json::Value;
use sqlx::any::{AnyArguments, AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::config::RuntimeConfig;

/// Ordering key of a change: the entity's own version when it carries one, then the id of the
/// stream entry that carried it. A change applies unless the stored row's key is greater, so
/// an older snapshot never overwrites a newer one. Equal keys are either the same change
/// re-delivered (rewriting it is harmless) or, for snapshots without a version, two changes
/// in different streams within the same millisecond and sequence — there the later-processed
/// wins, the best guess available; producers should put a per-entity `version` in snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ChangeOrder {
    pub version: i64,
    pub entry_ms: i64,
    pub entry_seq: i64,
}

/// One task change to write.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskChange {
    /// The task's full state after a change.
    Upsert { id: String, state: Value, order: ChangeOrder },
    /// The task was deleted.
    Delete { id: String, order: ChangeOrder },
}

impl TaskChange {
    fn id(&self) -> &str {
        match self {
            TaskChange::Upsert { id, .. } | TaskChange::Delete { id, .. } => id,
        }
    }
    fn order(&self) -> ChangeOrder {
        match self {
            TaskChange::Upsert { order, .. } | TaskChange::Delete { order, .. } => *order,
        }
    }
    /// Where the change sits in the outbox (its stream entry id).
    fn entry(&self) -> (i64, i64) {
        let order = self.order();
        (order.entry_ms, order.entry_seq)
    }
    fn is_delete(&self) -> bool {
        matches!(self, TaskChange::Delete { .. })
    }
    /// The task's identity beside its id: when it was created. Two different tasks under one id
    /// (which the id reservations rule out) differ here.
    fn created_at(&self) -> Option<String> {
        match self {
            TaskChange::Upsert { state, .. } => str_field(state, "createdAt"),
            TaskChange::Delete { .. } => None,
        }
    }
}

/// What one [`SqlStore::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyStats {
    /// Changes that were not older than the stored row and were written.
    pub written: u64,
    /// Changes that were older than the stored row (or hit a deleted task) and were skipped.
    pub stale: u64,
    /// Changes refused because they would overwrite a different task: (index in the input,
    /// reason). Nothing was written for them; the caller dead-letters them.
    pub rejected: Vec<(usize, String)>,
}

/// A task as stored in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    pub id: String,
    pub text: String,
    pub status: String,
    pub priority: i64,
    pub assigned_to: Option<String>,
    /// The full JSON state last written (the faithful copy: the plain columns are for SQL
    /// readers and cannot hold everything, e.g. U+0000 on PostgreSQL).
    pub state: Value,
    pub order: ChangeOrder,
}

/// Which retired tasks [`SqlStore::retired_page`] lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub assigned_to: Option<String>,
    /// Only tasks without an assignee (ignored when `assigned_to` is set).
    pub unassigned: bool,
}

/// The SQL database (PostgreSQL or SQLite, one code path through sqlx's `Any` driver), seen
/// through one key prefix.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    prefix: String,
    /// SQLite binds `$N` parameters by looking up each name in a list, which makes a statement
    /// with thousands of them quadratic; the batched writes use anonymous `?` there.
    sqlite: bool,
}

/// Columns of one written row, in statement order.
const COLUMNS: &str = "prefix, id, seq, text, status, priority, assigned_to, created_at, updated_at, completed_at, \
                       snapshot, deleted, version, entry_ms, entry_seq";
const COLUMN_COUNT: usize = 15;

/// Rows per statement: 15 parameters each stays far below SQLite's and PostgreSQL's limits.
const ROWS_PER_STATEMENT: usize = 400;

/// A row applies only when it is not older than the stored one, the stored one is not a
/// tombstone, and both are the same task (same creation time). A tombstone itself always
/// applies (its version is the largest there is).
const UPSERT_TAIL: &str = " ON CONFLICT (prefix, id) DO UPDATE SET \
       seq = excluded.seq, text = excluded.text, status = excluded.status, priority = excluded.priority, \
       assigned_to = excluded.assigned_to, created_at = excluded.created_at, \
       updated_at = excluded.updated_at, completed_at = excluded.completed_at, \
       snapshot = excluded.snapshot, deleted = excluded.deleted, version = excluded.version, \
       entry_ms = excluded.entry_ms, entry_seq = excluded.entry_seq, \
       retired = CASE WHEN (excluded.version, excluded.entry_ms, excluded.entry_seq) > \
                           (tasks.version, tasks.entry_ms, tasks.entry_seq) THEN 0 ELSE tasks.retired END \
     WHERE (excluded.version, excluded.entry_ms, excluded.entry_seq) >= (tasks.version, tasks.entry_ms, tasks.entry_seq) \
       AND (excluded.deleted = 1 OR (tasks.deleted = 0 \
            AND (tasks.created_at IS NULL OR excluded.created_at IS NULL OR tasks.created_at = excluded.created_at)))";

const TASK_COLUMNS: &str = "id, text, status, priority, assigned_to, snapshot, version, entry_ms, entry_seq";

/// How many task ids one reservation adds. Large, so that creates go on for a long SQL outage
/// (a million creates) before they must wait for the next reservation; a Redis data loss skips
/// at most this many ids.
pub const ID_BLOCK: i64 = 1_000_000;

impl SqlStore {
    /// Connects to `url` (`postgres://…` or `sqlite://…`), applies the migrations, and scopes
    /// every read and write to `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, Error> {
        install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(if url.starts_with("sqlite:") { 1 } else { 5 })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| Error::unavailable(format!("cannot open the database: {e}")))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| Error::internal(format!("database migration failed: {e}")))?;
        Ok(SqlStore { pool, prefix: prefix.to_string(), sqlite: url.starts_with("sqlite:") })
    }

    /// The database the configuration selects (`DATABASE_URL`, else the SQLite file
    /// `<data_dir>/claudebench.db`, creating the directory), scoped to the key prefix.
    pub async fn from_config(config: &RuntimeConfig) -> Result<Self, Error> {
        match &config.database_url {
            Some(url) => Self::connect(url, &config.key_prefix).await,
            None => Self::connect(&sqlite_url(&config.data_dir)?, &config.key_prefix).await,
        }
    }

    /// The key prefix whose rows this store sees.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Writes a batch of changes in one transaction. Several changes of one task collapse into
    /// the newest; rows are written in id order, so concurrent persisters lock rows in the same
    /// order and cannot deadlock each other. A change that would overwrite a different task is
    /// not written but reported in [`ApplyStats::rejected`]. An `Err` means nothing was written:
    /// `unavailable` when the database could not be reached or asked to retry (deadlock,
    /// serialisation, lock timeout), `internal` when it refused the data of some row.
    pub async fn apply(&self, changes: &[TaskChange]) -> Result<ApplyStats, Error> {
        // The changes of each task, tasks in id order.
        let mut by_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in changes.iter().enumerate() {
            by_id.entry(c.id()).or_default().push(i);
        }
        let ids: Vec<&str> = by_id.keys().copied().collect();
        let mut stats = ApplyStats::default();
        let mut tx = self.pool.begin().await.map_err(sql_error)?;
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let stored = self.stored_orders(&mut tx, chunk.iter().copied()).await?;
            let mut rows = Vec::with_capacity(chunk.len());
            for id in chunk {
                let row = stored.get(*id);
                let Some(newest) = newest_of_one_task(changes, &by_id[id], row, &mut stats) else { continue };
                match row {
                    Some(row) if row.deleted => stats.stale += 1,
                    Some(row) if row.order > changes[newest].order() && !changes[newest].is_delete() => {
                        stats.stale += 1
                    }
                    _ => rows.push(&changes[newest]),
                }
            }
            if rows.is_empty() {
                continue;
            }
            let done = self.upsert(&rows).execute(&mut *tx).await.map_err(sql_error)?;
            stats.written += done.rows_affected();
            stats.stale += rows.len() as u64 - done.rows_affected().min(rows.len() as u64);
        }
        tx.commit().await.map_err(sql_error)?;
        stats.rejected.sort_by_key(|(i, _)| *i);
        Ok(stats)
    }

    /// Ordering keys, identities and tombstones of the stored rows among `ids`. Like the upsert,
    /// not a prepared statement: PostgreSQL would switch a reused one to a generic plan, which
    /// scans the table for a long `IN` list (seconds per batch once it holds 50,000 rows).
    async fn stored_orders<'a>(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, StoredOrder>, Error> {
        let ids: Vec<&str> = ids.collect();
        let placeholders: Vec<String> = (0..=ids.len()).map(|i| self.placeholder(i + 1)).collect();
        let sql = format!(
            "SELECT id, created_at, deleted, version, entry_ms, entry_seq FROM tasks WHERE prefix = {} AND id IN ({})",
            placeholders[0],
            placeholders[1..].join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false).bind(self.prefix.as_str());
        for id in &ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut **tx).await.map_err(sql_error)?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let deleted: i64 = row.try_get("deleted").map_err(sql_error)?;
            out.insert(
                row.try_get("id").map_err(sql_error)?,
                StoredOrder {
                    created_at: row.try_get("created_at").map_err(sql_error)?,
                    deleted: deleted != 0,
                    order: ChangeOrder {
                        version: row.try_get("version").map_err(sql_error)?,
                        entry_ms: row.try_get("entry_ms").map_err(sql_error)?,
                        entry_seq: row.try_get("entry_seq").map_err(sql_error)?,
                    },
                },
            );
        }
        Ok(out)
    }

    /// One multi-row upsert of `rows` (already in id order).
    fn upsert<'q>(&'q self, rows: &[&'q TaskChange]) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments> {
        let mut sql = format!("INSERT INTO tasks ({COLUMNS}) VALUES ");
        for r in 0..rows.len() {
            if r > 0 {
                sql.push_str(", ");
            }
            let params: Vec<String> = (1..=COLUMN_COUNT).map(|c| self.placeholder(r * COLUMN_COUNT + c)).collect();
            sql.push('(');
            sql.push_str(&params.join(", "));
            sql.push(')');
        }
        sql.push_str(UPSERT_TAIL);
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for change in rows {
            let id = change.id();
            let order = change.order();
            query = query.bind(self.prefix.as_str()).bind(id).bind(seq_of(id));
            query = match change {
                TaskChange::Upsert { state, .. } => query
                    .bind(column_text(str_field(state, "text").unwrap_or_default()))
                    .bind(column_text(str_field(state, "status").unwrap_or_else(|| "pending".to_string())))
                    .bind(int_field(state, "priority").unwrap_or(50))
                    .bind(str_field(state, "assignedTo").filter(|s| !s.is_empty()).map(column_text))
                    .bind(str_field(state, "createdAt").map(column_text))
                    .bind(str_field(state, "updatedAt").map(column_text))
                    .bind(str_field(state, "completedAt").filter(|s| !s.is_empty()).map(column_text))
                    .bind(Some(state.to_string()))
                    .bind(0i64),
                TaskChange::Delete { .. } => query
                    .bind(String::new())
                    .bind("deleted".to_string())
                    .bind(0i64)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(1i64),
            };
            query = query.bind(order.version).bind(order.entry_ms).bind(order.entry_seq);
        }
        query
    }

    /// The `n`th (from 1) parameter of a statement with many: `$n`, or `?` on SQLite (bound in
    /// order).
    fn placeholder(&self, n: usize) -> String {
        if self.sqlite { "?".to_string() } else { format!("${n}") }
    }

    /// Every task of this prefix that is not deleted, by id.
    pub async fn tasks(&self) -> Result<Vec<StoredTask>, Error> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE prefix = $1 AND deleted = 0 ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(self.prefix.as_str()).fetch_all(&self.pool).await;
        rows.map_err(sql_error)?.iter().map(stored_task).collect()
    }

    /// Up to `limit` tasks of one task partition (`seq % count = index`) with `seq` above
    /// `after_seq`, in `seq` order: unfinished ones (pending, in progress) or finished ones
    /// (completed, failed). Pages through any number of tasks in bounded memory.
    pub async fn tasks_page(
        &self,
        unfinished: bool,
        (count, index): (u32, u32),
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<StoredTask>, Error> {
        let filter = if unfinished { "IN ('pending', 'in_progress')" } else { "IN ('completed', 'failed')" };
        let sql = format!(
            "SELECT {TASK_COLUMNS}, seq FROM tasks WHERE prefix = $1 AND deleted = 0 AND status {filter} \
             AND seq > $2 AND seq % $4 = $5 ORDER BY seq LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(self.prefix.as_str())
            .bind(after_seq)
            .bind(limit)
            .bind(i64::from(count))
            .bind(i64::from(index))
            .fetch_all(&self.pool)
            .await
            .map_err(sql_error)?;
        rows.iter().map(stored_task).collect()
    }

    /// One task, if stored and not deleted.
    pub async fn task(&self, id: &str) -> Result<Option<StoredTask>, Error> {
        self.one_task(id, "").await
    }

    async fn one_task(&self, id: &str, condition: &str) -> Result<Option<StoredTask>, Error> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE prefix = $1 AND deleted = 0 {condition} AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(self.prefix.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(sql_error)?;
        row.as_ref().map(stored_task).transpose()
    }

    /// Marks finished tasks retired where SQL holds exactly the given version (so the row is
    /// the task's final state), in one statement; returns those marked (the rest must stay in
    /// Redis: SQL is behind, or the task changed).
    pub async fn retire(&self, tasks: &[(String, i64)]) -> Result<Vec<(String, i64)>, Error> {
        let mut marked = Vec::new();
        // `id IN (…)` finds the rows by primary key; the CASE then requires each one's version.
        for chunk in tasks.chunks(ROWS_PER_STATEMENT) {
            let mut n = 1;
            let mut next = || {
                n += 1;
                self.placeholder(n)
            };
            let ids: Vec<String> = chunk.iter().map(|_| next()).collect();
            let cases: Vec<String> = chunk.iter().map(|_| format!("WHEN {} THEN {}", next(), next())).collect();
            let sql = format!(
                "UPDATE tasks SET retired = 1 WHERE prefix = {} AND id IN ({}) AND deleted = 0 \
                 AND status IN ('completed', 'failed') AND version = (CASE id {} END) RETURNING id, version",
                self.placeholder(1),
                ids.join(", "),
                cases.join(" ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false).bind(self.prefix.as_str());
            for (id, _) in chunk {
                query = query.bind(id.as_str());
            }
            for (id, version) in chunk {
                query = query.bind(id.as_str()).bind(*version);
            }
            for row in query.fetch_all(&self.pool).await.map_err(sql_error)? {
                marked.push((row.try_get("id").map_err(sql_error)?, row.try_get("version").map_err(sql_error)?));
            }
        }
        Ok(marked)
    }

    /// Takes the retired mark back from rows whose task did not leave Redis after all (it
    /// changed, was deleted or reopened between the two steps of a retirement).
    pub async fn unretire_all(&self, ids: &[String]) -> Result<(), Error> {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| self.placeholder(i + 2)).collect();
            let sql = format!(
                "UPDATE tasks SET retired = 0 WHERE prefix = {} AND id IN ({})",
                self.placeholder(1),
                placeholders.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false).bind(self.prefix.as_str());
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&self.pool).await.map_err(sql_error)?;
        }
        Ok(())
    }

    /// Records the deployment's task partition count (the first call wins) and returns the
    /// recorded one: ids route to partitions by it, and unlike a Redis key the record survives
    /// Redis losing its data.
    pub async fn partition_count(&self, count: u32) -> Result<u32, Error> {
        sqlx::query("INSERT INTO task_partitions (prefix, partitions) VALUES ($1, $2) ON CONFLICT (prefix) DO NOTHING")
            .bind(self.prefix.as_str())
            .bind(i64::from(count))
            .execute(&self.pool)
            .await
            .map_err(sql_error)?;
        let row = sqlx::query("SELECT partitions FROM task_partitions WHERE prefix = $1")
            .bind(self.prefix.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(sql_error)?;
        let recorded: i64 = row.try_get("partitions").map_err(sql_error)?;
        Ok(u32::try_from(recorded).unwrap_or(0))
    }

    /// The task is back in Redis (it changes again): its row is no longer the only copy.
    pub async fn unretire(&self, id: &str) -> Result<(), Error> {
        sqlx::query("UPDATE tasks SET retired = 0 WHERE prefix = $1 AND id = $2")
            .bind(self.prefix.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(sql_error)?;
        Ok(())
    }

    /// The retired (cold) tasks matching `filter`: how many, and the `(seq, id)` of the first
    /// `limit` of them by id number, newest first or oldest first.
    pub async fn retired_page(
        &self,
        filter: &TaskFilter,
        newest_first: bool,
        limit: i64,
    ) -> Result<(u64, Vec<(i64, String)>), Error> {
        let mut conditions = String::from("prefix = $1 AND deleted = 0 AND retired = 1");
        let mut binds: Vec<&str> = Vec::new();
        if let Some(status) = &filter.status {
            binds.push(status);
            conditions.push_str(&format!(" AND status = ${}", binds.len() + 1));
        }
        if let Some(owner) = &filter.assigned_to {
            binds.push(owner);
            conditions.push_str(&format!(" AND assigned_to = ${}", binds.len() + 1));
        } else if filter.unassigned {
            conditions.push_str(" AND assigned_to IS NULL");
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM tasks WHERE {conditions}");
        let mut count = sqlx::query(AssertSqlSafe(count_sql)).bind(self.prefix.as_str());
        for b in &binds {
            count = count.bind(*b);
        }
        let total: i64 = count.fetch_one(&self.pool).await.map_err(sql_error)?.try_get("n").map_err(sql_error)?;
        if limit <= 0 || total == 0 {
            return Ok((total as u64, Vec::new()));
        }
        let order = if newest_first { "DESC" } else { "ASC" };
        let page_sql =
            format!("SELECT seq, id FROM tasks WHERE {conditions} ORDER BY seq {order} LIMIT ${}", binds.len() + 2);
        let mut page = sqlx::query(AssertSqlSafe(page_sql)).bind(self.prefix.as_str());
        for b in &binds {
            page = page.bind(*b);
        }
        let rows = page.bind(limit).fetch_all(&self.pool).await.map_err(sql_error)?;
        let ids = rows
            .iter()
            .map(|r| Ok((r.try_get("seq").map_err(sql_error)?, r.try_get("id").map_err(sql_error)?)))
            .collect::<Result<_, Error>>()?;
        Ok((total as u64, ids))
    }

    /// How many retired (cold) tasks there are: (completed, failed).
    pub async fn retired_counts(&self) -> Result<(u64, u64), Error> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM tasks WHERE prefix = $1 AND deleted = 0 AND retired = 1 GROUP BY status",
        )
        .bind(self.prefix.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(sql_error)?;
        let (mut completed, mut failed) = (0, 0);
        for row in rows {
            let status: String = row.try_get("status").map_err(sql_error)?;
            let n: i64 = row.try_get("n").map_err(sql_error)?;
            match status.as_str() {
                "completed" => completed = n as u64,
                "failed" => failed = n as u64,
                _ => {}
            }
        }
        Ok((completed, failed))
    }

    /// One task that left Redis (retired, not deleted): SQL's copy is its only one. A row that
    /// is not retired belongs to a task Redis holds — or deleted, or lost, moments ago, with the
    /// outbox still carrying that news — so it never answers for a task Redis lacks.
    pub async fn retired_task(&self, id: &str) -> Result<Option<StoredTask>, Error> {
        self.one_task(id, "AND retired = 1").await
    }

    /// How many rows (tombstones included) this prefix holds.
    pub async fn row_count(&self) -> Result<i64, Error> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE prefix = $1")
            .bind(self.prefix.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(sql_error)?;
        row.try_get::<i64, _>("n").map_err(sql_error)
    }

    /// The highest `n` of a stored `t-<n>` id (tombstones included), 0 when there is none.
    pub async fn max_seq(&self) -> Result<i64, Error> {
        let row = sqlx::query("SELECT MAX(seq) AS n FROM tasks WHERE prefix = $1")
            .bind(self.prefix.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(sql_error)?;
        Ok(row.try_get::<Option<i64>, _>("n").map_err(sql_error)?.unwrap_or(0))
    }

    /// Reserves task ids: the reservation becomes `max(reserved, at_least) + block` and is
    /// returned. Every id the Redis counter hands out lies at or below a reservation made
    /// before it (see `persist::recovery`).
    pub async fn reserve_ids(&self, at_least: i64, block: i64) -> Result<i64, Error> {
        let mut tx = self.pool.begin().await.map_err(sql_error)?;
        sqlx::query(
            "INSERT INTO task_id_ranges (prefix, reserved_until) VALUES ($1, 0) ON CONFLICT (prefix) DO NOTHING",
        )
        .bind(self.prefix.as_str())
        .execute(&mut *tx)
        .await
        .map_err(sql_error)?;
        sqlx::query(
            "UPDATE task_id_ranges SET reserved_until = \
             (CASE WHEN reserved_until > $2 THEN reserved_until ELSE $2 END) + $3 WHERE prefix = $1",
        )
        .bind(self.prefix.as_str())
        .bind(at_least)
        .bind(block)
        .execute(&mut *tx)
        .await
        .map_err(sql_error)?;
        let row = sqlx::query("SELECT reserved_until FROM task_id_ranges WHERE prefix = $1")
            .bind(self.prefix.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(sql_error)?;
        let reserved = row.try_get::<i64, _>("reserved_until").map_err(sql_error)?;
        tx.commit().await.map_err(sql_error)?;
        Ok(reserved)
    }

    /// The current reservation (0 when none was ever made).
    pub async fn reserved_ids(&self) -> Result<i64, Error> {
        let row = sqlx::query("SELECT reserved_until FROM task_id_ranges WHERE prefix = $1")
            .bind(self.prefix.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(sql_error)?;
        match row {
            Some(row) => row.try_get::<i64, _>("reserved_until").map_err(sql_error),
            None => Ok(0),
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(sql_error).map(|_| ())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Of the changes `of` one task (indexes into `changes`), the newest one that belongs to the
/// task SQL knows — or, for a task new to SQL, to the task of the earliest change. Changes of a
/// different task under the same id (another creation time) are rejected into `stats`; the
/// others that are not the newest count as stale.
fn newest_of_one_task(
    changes: &[TaskChange],
    of: &[usize],
    stored: Option<&StoredOrder>,
    stats: &mut ApplyStats,
) -> Option<usize> {
    let earliest = of.iter().filter_map(|i| Some((changes[*i].entry(), changes[*i].created_at()?))).min();
    let identity = stored.and_then(|r| r.created_at.clone()).or(earliest.map(|(_, created)| created));
    let mut newest: Option<usize> = None;
    for &i in of {
        let change = &changes[i];
        if let (Some(identity), Some(created)) = (&identity, change.created_at())
            && *identity != created
        {
            let reason = format!(
                "task {} was created at {identity}, this change is of a task created at {created}: \
                 refusing to overwrite a different task",
                change.id()
            );
            stats.rejected.push((i, reason));
            continue;
        }
        match newest {
            Some(n) if changes[n].order() > change.order() => stats.stale += 1,
            Some(_) => {
                stats.stale += 1;
                newest = Some(i);
            }
            None => newest = Some(i),
        }
    }
    newest
}

/// What [`SqlStore::apply`] needs to know of a stored row.
struct StoredOrder {
    created_at: Option<String>,
    deleted: bool,
    order: ChangeOrder,
}

fn stored_task(row: &sqlx::any::AnyRow) -> Result<StoredTask, Error> {
    let snapshot: Option<String> = row.try_get("snapshot").map_err(sql_error)?;
    let state = match snapshot {
        Some(s) => {
            serde_json::from_str(&s).map_err(|e| Error::internal(format!("stored snapshot is not JSON: {e}")))?
        }
        None => Value::Null,
    };
    Ok(StoredTask {
        id: row.try_get("id").map_err(sql_error)?,
        text: row.try_get("text").map_err(sql_error)?,
        status: row.try_get("status").map_err(sql_error)?,
        priority: row.try_get("priority").map_err(sql_error)?,
        assigned_to: row.try_get("assigned_to").map_err(sql_error)?,
        state,
        order: ChangeOrder {
            version: row.try_get("version").map_err(sql_error)?,
            entry_ms: row.try_get("entry_ms").map_err(sql_error)?,
            entry_seq: row.try_get("entry_seq").map_err(sql_error)?,
        },
    })
}

/// The `n` of a `t-<n>` id (0 for any other id).
pub fn seq_of(id: &str) -> i64 {
    id.strip_prefix("t-").and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Text for a plain column. PostgreSQL's TEXT cannot hold U+0000, which JSON strings may carry:
/// the column gets U+FFFD in its place, while the snapshot column keeps the exact text (JSON
/// escapes it), and the snapshot is what rehydration and `task.get` read.
fn column_text(s: impl Into<String>) -> String {
    let s: String = s.into();
    match s.contains('\0') {
        true => s.replace('\0', "\u{FFFD}"),
        false => s,
    }
}

/// `sqlite://<data_dir>/claudebench.db?mode=rwc`, creating `data_dir`.
fn sqlite_url(data_dir: &Path) -> Result<String, Error> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Error::internal(format!("cannot create the data directory {}: {e}", data_dir.display())))?;
    Ok(format!("sqlite://{}?mode=rwc", data_dir.join("claudebench.db").display()))
}

/// A field of a JSON state as text (numbers and booleans are written out; null is absent).
pub(crate) fn str_field(state: &Value, name: &str) -> Option<String> {
    match state.get(name)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A field of a JSON state as an integer (numeric strings accepted).
pub(crate) fn int_field(state: &Value, name: &str) -> Option<i64> {
    match state.get(name)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether the database refused the data itself (it would refuse it again), as opposed to
/// being unreachable, overloaded, asking for a retry, or failing for a reason of its own. Only
/// these errors make a change a dead letter; everything else is retried, so no outage or bug
/// ever discards a change.
fn is_data_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Encode(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| refuses_data(&code)),
        _ => false,
    }
}

/// PostgreSQL SQLSTATEs (five characters): class 22 (data exception: invalid byte sequence,
/// value out of range, string too long) and 23 (integrity constraint violation). SQLite result
/// codes (numbers below 10000): CONSTRAINT, TOOBIG, MISMATCH and RANGE with their extended codes.
fn refuses_data(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("22") || code.starts_with("23");
    }
    code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 18 | 19 | 20 | 25))
}

/// Refused data is `internal` (see [`refused_data`]); anything else is `unavailable` (retry).
fn sql_error(e: sqlx::Error) -> Error {
    if is_data_error(&e) {
        Error::internal(format!("database refused the data: {e}"))
    } else {
        Error::unavailable(format!("database: {e}"))
    }
}

/// Whether an error from [`SqlStore::apply`] means the database refused some row's data (find
/// the row and dead-letter it) rather than an outage or a retryable failure (retry the batch).
pub fn refused_data(e: &Error) -> bool {
    e.code != claudebench_contract::error::ErrorCode::Unavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_replaced_only_in_plain_columns() {
        assert_eq!(column_text("a\0b"), "a\u{FFFD}b");
        assert_eq!(column_text("plain"), "plain");
        assert_eq!(seq_of("t-42"), 42);
        assert_eq!(seq_of("custom"), 0);
    }

    #[test]
    fn only_data_errors_are_refusals() {
        assert!(refuses_data("22021")); // PostgreSQL: invalid byte sequence (U+0000)
        assert!(refuses_data("23514")); // PostgreSQL: check violation
        assert!(!refuses_data("40P01")); // PostgreSQL: deadlock: retry
        assert!(!refuses_data("08006")); // PostgreSQL: connection failure
        assert!(!refuses_data("42601")); // PostgreSQL: syntax error is a bug, not poison
        assert!(refuses_data("2067")); // SQLite: UNIQUE constraint
        assert!(refuses_data("19"));
        assert!(!refuses_data("5")); // SQLite: BUSY
        assert!(!refuses_data("13")); // SQLite: FULL
    }
}
