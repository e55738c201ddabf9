//! The one way Lua scripts of `lua/` are declared, run and answered, for the runtime's scripts
//! and the domain's alike.
//!
//! * **Declared** with [`lua!`]: the file, behind the preludes of `lua/lib/` it names, compiled
//!   into the binary (a missing file is a build error, not a runtime surprise). Each crate lists
//!   its scripts in one array ([`ALL`] here, the domain's `coordination::SCRIPTS`), which the node
//!   loads into Redis at start ([`preload`]) so the first request after a deploy does not pay
//!   for the NOSCRIPT round trip.
//! * **Run** by EVALSHA; on NOSCRIPT (a restarted or flushed Redis) the body is loaded and the
//!   call retried, so a script costs one round trip in the steady state. Every key a script
//!   touches is passed in KEYS.
//! * **Answered** in one convention: `{'ok', …values}` | `{'err', <error code>, <message>}` |
//!   `{'retry'}` (the keys the caller read went stale; read again and re-run). Values arrive as
//!   strings; [`field`], [`int`] and [`parse_json`] read them, naming the script on failure.
//!   `LUA.call().key(…).arg(…).run_ok(&mut con)` runs one; [`eval`]/[`eval_ok`] take string
//!   slices.

use std::str::FromStr;
use std::sync::LazyLock;

use ::redis::aio::ConnectionLike;
use ::redis::{ErrorKind, ScriptInvocation, ServerErrorKind, ToRedisArgs};
use claudebench_contract::error::{Error, ErrorCode};

use crate::redis::redis_error;

/// One script of `lua/`, behind its preludes.
pub struct Lua {
    name: &'static str,
    script: LazyLock<Script>,
}

impl Lua {
    /// Use [`lua!`], which builds the body from the files.
    pub const fn new(name: &'static str, script: LazyLock<Script>) -> Self {
        Lua { name, script }
    }

    /// The file's name without `.lua`, as errors name it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The SHA1 Redis knows the body by.
    pub fn hash(&self) -> &str {
        self.script.get_hash()
    }

    /// A call to add KEYS and ARGV to, then run.
    pub fn call(&self) -> Call<'_> {
        Call { lua: self, invocation: self.script.prepare_invoke() }
    }

    fn call_with(&self, keys: &[String], args: &[String]) -> Call<'_> {
        let mut call = self.call();
        for k in keys {
            call.key(k);
        }
        for a in args {
            call.arg(a);
        }
        call
    }

    /// Load the body into Redis' script cache.
    pub async fn load<C: ConnectionLike>(&self, con: &mut C) -> Result<(), Error> {
        self.script
            .prepare_invoke()
            .load_async(con)
            .await
            .map(|_| ())
            .map_err(|e| Error::new(redis_error(e.clone()).code, format!("loading lua/{}.lua: {e}", self.name)))
    }
}

/// Declare a script: `lua!("task_create", "publish", "task_record")` is `lua/task_create.lua`
/// behind `lua/lib/publish.lua` and `lua/lib/task_record.lua`, in that order.
#[macro_export]
macro_rules! lua {
    ($file:literal $(, $prelude:literal)* $(,)?) => {
        $crate::scripts::Lua::new(
            $file,
            ::std::sync::LazyLock::new(|| {
                $crate::scripts::Script::new(concat!(
                    $(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../lua/lib/", $prelude, ".lua")), "\n",)*
                    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../lua/", $file, ".lua"))
                ))
            }),
        )
    };
}
#[doc(hidden)]
pub use ::redis::Script;
pub use lua;

/// A script's successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok(Vec<String>),
    /// The keys the caller read first changed before the script ran: read again and re-run.
    Retry,
}

/// How often a wrapper re-reads and re-runs a script that answered "retry". Each retry means
/// another client made progress, so a small bound is enough.
pub const MAX_RETRIES: usize = 16;

/// How many times a call is invoked while Redis keeps answering NOSCRIPT (each invocation loads
/// the body first).
const NOSCRIPT_ATTEMPTS: usize = 3;

/// One call of a script being prepared: its KEYS and ARGV.
pub struct Call<'a> {
    lua: &'a Lua,
    invocation: ScriptInvocation<'a>,
}

impl Call<'_> {
    pub fn key<T: ToRedisArgs>(&mut self, key: T) -> &mut Self {
        self.invocation.key(key);
        self
    }

    pub fn arg<T: ToRedisArgs>(&mut self, arg: T) -> &mut Self {
        self.invocation.arg(arg);
        self
    }

    /// Run it and decode the reply convention; an `err` reply becomes `Err` with the script's
    /// code (`unavailable` carries a retry hint: scripts answer it only for a passing state,
    /// such as task state being recovered; `rate_limited` carries the script's own, its third
    /// value).
    pub async fn run<C: ConnectionLike>(&self, con: &mut C) -> Result<Reply, Error> {
        let name = self.lua.name;
        let mut attempt = 1;
        let mut reply: Vec<String> = loop {
            // One invocation already loads the body and retries once on NOSCRIPT; a script cache
            // flushed again in between (a failover, `SCRIPT FLUSH` while under load) gets a few
            // more tries before the request fails (as `unavailable`, see `redis_error`).
            match self.invocation.invoke_async(con).await {
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) && attempt < NOSCRIPT_ATTEMPTS => {
                    attempt += 1
                }
                other => break other.map_err(redis_error)?,
            }
        };
        if reply.is_empty() {
            return Err(Error::internal(format!("lua/{name}.lua returned an empty reply")));
        }
        let tag = reply.remove(0);
        match tag.as_str() {
            "ok" => Ok(Reply::Ok(reply)),
            "retry" => Ok(Reply::Retry),
            "err" => {
                let code = reply.first().map(|c| code_from_str(c)).unwrap_or(ErrorCode::Internal);
                let message = reply.get(1).cloned().unwrap_or_else(|| format!("lua/{name}.lua failed"));
                let mut error = Error::new(code, message);
                match code {
                    ErrorCode::Unavailable => error.retry_after_ms = Some(1000),
                    ErrorCode::RateLimited => {
                        error.retry_after_ms = Some(reply.get(2).and_then(|ms| ms.parse().ok()).unwrap_or(1).max(1))
                    }
                    _ => {}
                }
                Err(error)
            }
            other => Err(Error::internal(format!("lua/{name}.lua returned an unknown reply tag `{other}`"))),
        }
    }

    /// Run a script that never answers "retry"; its values.
    pub async fn run_ok<C: ConnectionLike>(&self, con: &mut C) -> Result<Vec<String>, Error> {
        match self.run(con).await? {
            Reply::Ok(values) => Ok(values),
            Reply::Retry => Err(Error::internal(format!("lua/{}.lua asked for a retry unexpectedly", self.lua.name))),
        }
    }
}

/// Run `lua` with string `keys` and `args`.
pub async fn eval<C>(con: &mut C, lua: &Lua, keys: &[String], args: &[String]) -> Result<Reply, Error>
where
    C: ConnectionLike + Send,
{
    lua.call_with(keys, args).run(con).await
}

/// Run a script that never answers "retry", with string `keys` and `args`.
pub async fn eval_ok<C>(con: &mut C, lua: &Lua, keys: &[String], args: &[String]) -> Result<Vec<String>, Error>
where
    C: ConnectionLike + Send,
{
    lua.call_with(keys, args).run_ok(con).await
}

fn code_from_str(code: &str) -> ErrorCode {
    match code {
        "not_found" => ErrorCode::NotFound,
        "conflict" => ErrorCode::Conflict,
        "validation" => ErrorCode::Validation,
        "unavailable" => ErrorCode::Unavailable,
        "rate_limited" => ErrorCode::RateLimited,
        _ => ErrorCode::Internal,
    }
}

/// The error when a retrying wrapper gave up.
pub fn contention(what: &str) -> Error {
    Error::new(ErrorCode::Conflict, format!("{what}: the state kept changing concurrently; retry"))
}

/// The `n`th value of an ok reply, or an internal error naming the script.
pub fn field<'a>(values: &'a [String], n: usize, script: &str) -> Result<&'a str, Error> {
    values.get(n).map(String::as_str).ok_or_else(|| Error::internal(format!("{script}: reply is missing value {n}")))
}

/// The `n`th value of an ok reply as a number.
pub fn int<T: FromStr>(values: &[String], n: usize, script: &str) -> Result<T, Error> {
    let text = field(values, n, script)?;
    text.parse().map_err(|_| Error::internal(format!("{script}: value {n} is not a number: {text}")))
}

/// Parse JSON a script produced.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str, script: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::internal(format!("{script}: unreadable reply ({e}): {text}")))
}

/// `lua/rate_limit.lua`.
pub static RATE_LIMIT: Lua = lua!("rate_limit", "gcra");
/// `lua/circuit_acquire.lua`.
pub static CIRCUIT_ACQUIRE: Lua = lua!("circuit_acquire", "circuit");
/// `lua/circuit_record.lua`.
pub static CIRCUIT_RECORD: Lua = lua!("circuit_record", "circuit");
/// `lua/publish.lua`.
pub static PUBLISH: Lua = lua!("publish", "publish");
/// `lua/exactly_once.lua`.
pub static EXACTLY_ONCE: Lua = lua!("exactly_once");
/// `lua/partition_append.lua`.
pub static PARTITION_APPEND: Lua = lua!("partition_append");
/// `lua/outbox_trim.lua`.
pub static OUTBOX_TRIM: Lua = lua!("outbox_trim");
/// `lua/dead_letter_replay.lua`.
pub static DEAD_LETTER_REPLAY: Lua = lua!("dead_letter_replay");
/// `lua/recovery_lock.lua`.
pub static RECOVERY_LOCK: Lua = lua!("recovery_lock");
/// `lua/id_range_raise.lua`.
pub static ID_RANGE_RAISE: Lua = lua!("id_range_raise");

/// Every script of the runtime.
pub static ALL: [&Lua; 10] = [
    &RATE_LIMIT,
    &CIRCUIT_ACQUIRE,
    &CIRCUIT_RECORD,
    &PUBLISH,
    &EXACTLY_ONCE,
    &PARTITION_APPEND,
    &OUTBOX_TRIM,
    &DEAD_LETTER_REPLAY,
    &RECOVERY_LOCK,
    &ID_RANGE_RAISE,
];

/// Load `scripts` into Redis' script cache.
pub async fn preload<C: ConnectionLike>(con: &mut C, scripts: &[&Lua]) -> Result<(), Error> {
    for lua in scripts {
        lua.load(con).await?;
    }
    Ok(())
}
