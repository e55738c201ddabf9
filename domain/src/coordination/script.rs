//! The coordination scripts run through the runtime's one script registry and reply convention
//! (`claudebench_runtime::scripts`); this module only names what the coordination modules use.

pub(crate) use claudebench_runtime::lua;
pub(crate) use claudebench_runtime::redis::redis_error;
pub(crate) use claudebench_runtime::scripts::{Lua, MAX_RETRIES, Reply, contention, eval, eval_ok, field, parse_json};
