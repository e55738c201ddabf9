//! Handlers of the `lease` domain, one file per event. Each reads its input, calls the domain's
//! [`claudebench_domain::leases::Leases`] and maps the answer to its output.

mod acquire;
mod list;
mod release;

use claudebench_generated::error::{Error, ErrorCode};

/// A spec integer bounded below by 1 (`ttlS`, `token`) as a `u64` (the pipeline enforces the
/// bound).
fn positive(what: &str, n: i64) -> Result<u64, Error> {
    u64::try_from(n).map_err(|_| Error::new(ErrorCode::Validation, format!("{what} must be positive, got {n}")))
}
