//! Conversions between the coordination core's records and the generated wire types.
//!
//! Both sides speak the same JSON (camelCase task objects); converting through it keeps the
//! two definitions from drifting silently: a mismatch is an `internal` error naming the field.

use claudebench_generated::error::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Re-type a value through its JSON form (validated by the target type's generated reader).
pub fn retype<T: DeserializeOwned>(value: impl Serialize) -> Result<T, Error> {
    let json = serde_json::to_value(value).map_err(|e| Error::internal(format!("cannot serialise a record: {e}")))?;
    serde_json::from_value(json).map_err(|e| Error::internal(format!("a record does not match its wire type: {e}")))
}
