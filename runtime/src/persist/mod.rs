//! Durable state in SQL, fed by the event streams (the outbox pattern).
//!
//! Scripts that change persisted state append the new snapshot to an event stream in the same
//! atomic step ([`crate::bus::EntityChange`]); the [`Persister`] consumer group drains those
//! streams into SQL with idempotent, order-guarded, batched upserts and acknowledges entries only
//! after the SQL commit. A crash anywhere in between re-delivers, never loses; the streams are
//! trimmed only behind the persister group (`lua/outbox_trim.lua`). Entries SQL can never take
//! go to the [`DeadLetters`]. The domain's `recovery` detects a Redis that lost its data and brings
//! the SQL copy back, with task ids that never repeat.
//!
//! One set of portable migrations (`runtime/migrations`) serves PostgreSQL (`DATABASE_URL =
//! postgres://…`) and SQLite (the default: a file under `CLAUDEBENCH_DATA_DIR`), through sqlx's
//! `Any` driver. Rows are scoped by key prefix.

mod dead_letter;
mod persister;
mod store;

pub use dead_letter::{DeadLetter, DeadLetters};
pub use persister::{PERSISTER_GROUP, Persister, StepStats, change_of};
pub use store::{ApplyStats, ChangeOrder, ID_BLOCK, SqlStore, StoredTask, TaskChange, TaskFilter, seq_of};
