//! Handlers of the `task` domain, one file per event.
//!
//! Every handler is a thin mapping: generated input → one call of the domain's task service
//! (each transition there is a single atomic Lua script that also appends the event to its
//! stream) → generated output. The service speaks the spec's types (`types::Task`,
//! `types::TaskStatus`), so there is nothing to convert.

mod assign;
mod claim;
mod complete;
mod create;
mod delete;
mod get;
mod list;
mod update;

use claudebench_generated::error::{Error, ErrorCode};

/// A bounded, non-negative spec integer as a `usize` (the pipeline enforces the bounds).
fn count(what: &str, n: i64) -> Result<usize, Error> {
    usize::try_from(n).map_err(|_| Error::new(ErrorCode::Validation, format!("{what} must not be negative, got {n}")))
}
