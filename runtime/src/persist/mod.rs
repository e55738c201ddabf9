//! Durable state in SQL, fed by the event streams (the outbox pattern).
//!
//! Scripts that change persisted state append the new snapshot to an event stream in the same
//! atomic step ([`crate::bus::EntityChange`]); the [`Persister`] consumer group drains those
//! streams into SQL with idempotent, order-guarded upserts and acknowledges entries only after
//! the SQL commit. A crash anywhere in between re-delivers, never loses. [`rehydrate`] brings
//! the SQL copy back into Redis after Redis lost its data.
//!
//! One set of portable migrations (`runtime/migrations`) serves PostgreSQL (`DATABASE_URL =
//! postgres://…`) and SQLite (the default: a file under `CLAUDEBENCH_DATA_DIR`), through sqlx's
//! `Any` driver.

mod persister;
mod rehydrate;
mod store;

pub use persister::{PERSISTER_GROUP, Persister};
pub use rehydrate::{RehydrateStats, rehydrate, rehydrate_with, restore_task};
pub use store::{ApplyStats, ChangeOrder, SqlStore, StoredTask, TaskChange};
