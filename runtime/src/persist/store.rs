//! The SQL side: connection, migrations and the idempotent task writes.

use std::path::Path;

use claudebench_generated::error::Error;
use serde_json::Value;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

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

/// What one [`SqlStore::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyStats {
    /// Changes that were not older than the stored row and were written.
    pub written: u64,
    /// Changes that were older than the stored row and were skipped.
    pub stale: u64,
}

/// A task as stored in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    pub id: String,
    pub text: String,
    pub status: String,
    pub priority: i64,
    pub assigned_to: Option<String>,
    /// The full JSON state last written.
    pub state: Value,
    pub order: ChangeOrder,
}

/// The SQL database (PostgreSQL or SQLite, one code path through sqlx's `Any` driver).
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
}

const UPSERT: &str = "INSERT INTO tasks \
     (id, text, status, priority, assigned_to, created_at, updated_at, completed_at, snapshot, deleted, version, entry_ms, entry_seq) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (id) DO UPDATE SET \
       text = excluded.text, status = excluded.status, priority = excluded.priority, \
       assigned_to = excluded.assigned_to, created_at = excluded.created_at, \
       updated_at = excluded.updated_at, completed_at = excluded.completed_at, \
       snapshot = excluded.snapshot, deleted = excluded.deleted, version = excluded.version, \
       entry_ms = excluded.entry_ms, entry_seq = excluded.entry_seq \
     WHERE (excluded.version, excluded.entry_ms, excluded.entry_seq) >= (tasks.version, tasks.entry_ms, tasks.entry_seq)";

impl SqlStore {
    /// Connects to `url` (`postgres://…` or `sqlite://…`) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, Error> {
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
        Ok(SqlStore { pool })
    }

    /// The database the configuration selects: `DATABASE_URL`, else the SQLite file
    /// `<data_dir>/claudebench.db` (the directory is created).
    pub async fn from_config(config: &RuntimeConfig) -> Result<Self, Error> {
        match &config.database_url {
            Some(url) => Self::connect(url).await,
            None => Self::connect(&sqlite_url(&config.data_dir)?).await,
        }
    }

    /// Writes a batch of changes in one transaction; each applies only if newer than the row.
    pub async fn apply(&self, changes: &[TaskChange]) -> Result<ApplyStats, Error> {
        let mut tx = self.pool.begin().await.map_err(sql_error)?;
        let mut stats = ApplyStats::default();
        for change in changes {
            let query = match change {
                TaskChange::Upsert { id, state, order } => sqlx::query(UPSERT)
                    .bind(id.as_str())
                    .bind(str_field(state, "text").unwrap_or_default())
                    .bind(str_field(state, "status").unwrap_or_else(|| "pending".to_string()))
                    .bind(int_field(state, "priority").unwrap_or(50))
                    .bind(str_field(state, "assignedTo").filter(|s| !s.is_empty()))
                    .bind(str_field(state, "createdAt"))
                    .bind(str_field(state, "updatedAt"))
                    .bind(str_field(state, "completedAt").filter(|s| !s.is_empty()))
                    .bind(Some(state.to_string()))
                    .bind(0i64)
                    .bind(order.version)
                    .bind(order.entry_ms)
                    .bind(order.entry_seq),
                TaskChange::Delete { id, order } => sqlx::query(UPSERT)
                    .bind(id.as_str())
                    .bind(String::new())
                    .bind("deleted".to_string())
                    .bind(0i64)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(1i64)
                    .bind(order.version)
                    .bind(order.entry_ms)
                    .bind(order.entry_seq),
            };
            let done = query.execute(&mut *tx).await.map_err(sql_error)?;
            if done.rows_affected() > 0 {
                stats.written += 1;
            } else {
                stats.stale += 1;
            }
        }
        tx.commit().await.map_err(sql_error)?;
        Ok(stats)
    }

    /// Every task that is not deleted, by id.
    pub async fn tasks(&self) -> Result<Vec<StoredTask>, Error> {
        let rows = sqlx::query(
            "SELECT id, text, status, priority, assigned_to, snapshot, version, entry_ms, entry_seq \
             FROM tasks WHERE deleted = 0 ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(sql_error)?;
        rows.iter().map(stored_task).collect()
    }

    /// One task, if stored and not deleted.
    pub async fn task(&self, id: &str) -> Result<Option<StoredTask>, Error> {
        let row = sqlx::query(
            "SELECT id, text, status, priority, assigned_to, snapshot, version, entry_ms, entry_seq \
             FROM tasks WHERE deleted = 0 AND id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(sql_error)?;
        row.as_ref().map(stored_task).transpose()
    }

    /// How many rows (tombstones included) the tasks table holds.
    pub async fn row_count(&self) -> Result<i64, Error> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM tasks").fetch_one(&self.pool).await.map_err(sql_error)?;
        row.try_get::<i64, _>("n").map_err(sql_error)
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

fn stored_task(row: &sqlx::any::AnyRow) -> Result<StoredTask, Error> {
    let snapshot: Option<String> = row.try_get("snapshot").map_err(sql_error)?;
    let state = match snapshot {
        Some(s) => {
            serde_json::from_str(&s).map_err(|e| Error::internal(format!("stored task snapshot is not JSON: {e}")))?
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

fn sql_error(e: sqlx::Error) -> Error {
    let unavailable =
        matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_));
    if unavailable { Error::unavailable(format!("database: {e}")) } else { Error::internal(format!("database: {e}")) }
}
