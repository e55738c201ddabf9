//! Loading and running the Lua scripts of `lua/`.
//!
//! Each script is compiled into the binary with `include_str!` (a missing file is a build error,
//! not a runtime surprise), optionally behind a prelude from `lua/lib/`. Scripts run by EVALSHA;
//! on NOSCRIPT (a restarted or flushed Redis) the redis `Script` loads the body and retries, so a
//! script costs one round trip in the steady state. Every key a script touches is passed in
//! KEYS. Each script has exactly one typed Rust wrapper, next to the feature that uses it.

use std::sync::LazyLock;

use ::redis::aio::ConnectionLike;
use ::redis::{FromRedisValue, Script, ScriptInvocation};
use claudebench_contract::error::Error;

use crate::redis::redis_error;

/// The source of `lua/<file>`, embedded at compile time.
#[macro_export]
macro_rules! lua_source {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../lua/", $file))
    };
}

/// The source of `lua/<file>` behind the shared publish prelude (`lua/lib/publish.lua`), for
/// scripts that append an event to a stream as part of their atomic step.
#[macro_export]
macro_rules! lua_publishing_source {
    ($file:literal) => {
        concat!(
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../lua/lib/publish.lua")),
            "\n",
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../lua/", $file))
        )
    };
}

/// `lua/rate_limit.lua`.
pub static RATE_LIMIT: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("rate_limit.lua")));
/// `lua/circuit_acquire.lua` (behind `lua/lib/circuit.lua`).
pub static CIRCUIT_ACQUIRE: LazyLock<Script> =
    LazyLock::new(|| Script::new(concat!(lua_source!("lib/circuit.lua"), "\n", lua_source!("circuit_acquire.lua"))));
/// `lua/circuit_record.lua` (behind `lua/lib/circuit.lua`).
pub static CIRCUIT_RECORD: LazyLock<Script> =
    LazyLock::new(|| Script::new(concat!(lua_source!("lib/circuit.lua"), "\n", lua_source!("circuit_record.lua"))));
/// `lua/publish.lua` (behind the publish prelude).
pub static PUBLISH: LazyLock<Script> = LazyLock::new(|| Script::new(lua_publishing_source!("publish.lua")));
/// `lua/exactly_once.lua`.
pub static EXACTLY_ONCE: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("exactly_once.lua")));
/// `lua/partition_append.lua`.
pub static PARTITION_APPEND: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("partition_append.lua")));
/// `lua/outbox_trim.lua`.
pub static OUTBOX_TRIM: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("outbox_trim.lua")));
/// `lua/dead_letter_replay.lua`.
pub static DEAD_LETTER_REPLAY: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("dead_letter_replay.lua")));
/// `lua/recovery_lock.lua`.
pub static RECOVERY_LOCK: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("recovery_lock.lua")));
/// `lua/id_range_raise.lua`.
pub static ID_RANGE_RAISE: LazyLock<Script> = LazyLock::new(|| Script::new(lua_source!("id_range_raise.lua")));

/// Runs a prepared script invocation (EVALSHA, loading the script on NOSCRIPT) and maps
/// failures onto the runtime error (`unavailable` when Redis cannot be reached).
pub async fn run<T, C>(invocation: &ScriptInvocation<'_>, conn: &mut C) -> Result<T, Error>
where
    T: FromRedisValue,
    C: ConnectionLike,
{
    invocation.invoke_async(conn).await.map_err(redis_error)
}

/// Every script of this module, for loading them all at start-up (SCRIPT LOAD), so the first
/// request after a deploy does not pay for the NOSCRIPT round trip.
pub fn all() -> [(&'static str, &'static Script); 10] {
    [
        ("rate_limit", &*RATE_LIMIT),
        ("circuit_acquire", &*CIRCUIT_ACQUIRE),
        ("circuit_record", &*CIRCUIT_RECORD),
        ("publish", &*PUBLISH),
        ("exactly_once", &*EXACTLY_ONCE),
        ("partition_append", &*PARTITION_APPEND),
        ("outbox_trim", &*OUTBOX_TRIM),
        ("dead_letter_replay", &*DEAD_LETTER_REPLAY),
        ("id_range_raise", &*ID_RANGE_RAISE),
        ("recovery_lock", &*RECOVERY_LOCK),
    ]
}

/// Loads every script of this module into Redis' script cache.
pub async fn preload<C: ConnectionLike>(conn: &mut C) -> Result<(), Error> {
    for (name, script) in all() {
        script
            .prepare_invoke()
            .load_async(conn)
            .await
            .map_err(|e| Error::new(redis_error(e.clone()).code, format!("loading lua/{name}.lua: {e}")))?;
    }
    Ok(())
}
