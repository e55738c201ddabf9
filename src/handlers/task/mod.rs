//! Handlers of the `task` domain, one file per event.
//!
//! Every handler is a thin mapping: generated input → one call of the coordination core's task
//! service (each transition there is a single atomic Lua script that also appends the event to
//! its stream) → generated output. The helpers below hold the conversions they share.

mod assign;
mod claim;
mod complete;
mod create;
mod delete;
mod get;
mod list;
mod update;

use claudebench_domain::coordination::tasks;
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::types;
use serde_json::{Map, Value};

use crate::handlers::convert::retype;

/// A coordination task as the wire type (the two share one JSON shape; a drift is `internal`).
fn wire_task(task: tasks::Task) -> Result<types::Task, Error> {
    retype(task)
}

/// A spec priority (validated 0..=100 by the pipeline) as the core's `u8`. Checked again
/// here because a handler may also be reached by internal callers.
fn priority(p: i64) -> Result<u8, Error> {
    u8::try_from(p)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| Error::new(ErrorCode::Validation, format!("priority must be 0..=100, got {p}")))
}

/// Spec metadata as the core's JSON map.
fn metadata(m: types::Metadata) -> Map<String, Value> {
    m.into_iter().collect()
}

/// A spec task status as the core's.
fn status(s: types::TaskStatus) -> tasks::TaskStatus {
    match s {
        types::TaskStatus::Pending => tasks::TaskStatus::Pending,
        types::TaskStatus::InProgress => tasks::TaskStatus::InProgress,
        types::TaskStatus::Completed => tasks::TaskStatus::Completed,
        types::TaskStatus::Failed => tasks::TaskStatus::Failed,
    }
}

/// A bounded, non-negative spec integer as a `usize` (the pipeline enforces the bounds).
fn count(what: &str, n: i64) -> Result<usize, Error> {
    usize::try_from(n).map_err(|_| Error::new(ErrorCode::Validation, format!("{what} must not be negative, got {n}")))
}
