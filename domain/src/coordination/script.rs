//! Running the coordination scripts: EVALSHA with a NOSCRIPT fallback (by `redis::Script`), and
//! the reply convention every script follows:
//! `{'ok', …values}` | `{'err', <error code>, <message>}` | `{'retry'}`.

use claudebench_contract::error::{Error, ErrorCode};
use redis::Script;
use redis::aio::ConnectionLike;

/// How often a wrapper re-reads and re-runs a script that answered "retry" (the keys it declared
/// went stale because a concurrent change moved the task or instance). Each retry means another
/// client made progress, so a small bound is enough.
pub(crate) const MAX_RETRIES: usize = 16;

/// A script's successful answer.
pub(crate) enum Reply {
    Ok(Vec<String>),
    Retry,
}

/// Redis failures map like everywhere else in the runtime (`unavailable` vs `internal`).
pub(crate) use claudebench_runtime::redis::redis_error;

pub(crate) fn code_from_str(code: &str) -> ErrorCode {
    match code {
        "not_found" => ErrorCode::NotFound,
        "conflict" => ErrorCode::Conflict,
        "validation" => ErrorCode::Validation,
        "unavailable" => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

/// Run `script` with `keys` and `args`; a domain error reply becomes `Err`.
pub(crate) async fn eval<C>(con: &mut C, script: &Script, keys: &[String], args: &[String]) -> Result<Reply, Error>
where
    C: ConnectionLike + Send,
{
    let mut inv = script.prepare_invoke();
    for k in keys {
        inv.key(k);
    }
    for a in args {
        inv.arg(a);
    }
    let mut reply: Vec<String> = inv.invoke_async(con).await.map_err(redis_error)?;
    if reply.is_empty() {
        return Err(Error::internal("coordination script returned an empty reply"));
    }
    let tag = reply.remove(0);
    match tag.as_str() {
        "ok" => Ok(Reply::Ok(reply)),
        "retry" => Ok(Reply::Retry),
        "err" => {
            let code = reply.first().map(|c| code_from_str(c)).unwrap_or(ErrorCode::Internal);
            let message = reply.get(1).cloned().unwrap_or_else(|| "coordination script failed".to_string());
            let mut error = Error::new(code, message);
            // A script answers `unavailable` only for a passing state (task state being
            // recovered, ids being reserved): tell the client when to retry.
            if code == ErrorCode::Unavailable {
                error.retry_after_ms = Some(1000);
            }
            Err(error)
        }
        other => Err(Error::internal(format!("coordination script returned an unknown reply tag `{other}`"))),
    }
}

/// Run a script that never answers "retry".
pub(crate) async fn eval_ok<C>(
    con: &mut C,
    script: &Script,
    keys: &[String],
    args: &[String],
) -> Result<Vec<String>, Error>
where
    C: ConnectionLike + Send,
{
    match eval(con, script, keys, args).await? {
        Reply::Ok(v) => Ok(v),
        Reply::Retry => Err(Error::internal("coordination script asked for a retry unexpectedly")),
    }
}

/// The error when a retrying wrapper gave up.
pub(crate) fn contention(what: &str) -> Error {
    Error::new(ErrorCode::Conflict, format!("{what}: the state kept changing concurrently; retry"))
}

/// The `n`th value of an ok reply, or an internal error naming the script.
pub(crate) fn field<'a>(values: &'a [String], n: usize, script: &str) -> Result<&'a str, Error> {
    values.get(n).map(String::as_str).ok_or_else(|| Error::internal(format!("{script}: reply is missing value {n}")))
}

/// Parse JSON a script produced.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, script: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::internal(format!("{script}: unreadable reply ({e}): {text}")))
}

/// Load a script body: the publish prelude (when `publishes`), the task-record prelude (when
/// `tasks`), then the script.
macro_rules! script {
    (publish + tasks: $file:literal) => {
        ::std::sync::LazyLock::new(|| {
            ::redis::Script::new(concat!(
                include_str!("../../../lua/lib/publish.lua"),
                include_str!("../../../lua/lib/task_record.lua"),
                include_str!(concat!("../../../lua/", $file))
            ))
        })
    };
    (publish: $file:literal) => {
        ::std::sync::LazyLock::new(|| {
            ::redis::Script::new(concat!(
                include_str!("../../../lua/lib/publish.lua"),
                include_str!(concat!("../../../lua/", $file))
            ))
        })
    };
    ($file:literal) => {
        ::std::sync::LazyLock::new(|| ::redis::Script::new(include_str!(concat!("../../../lua/", $file))))
    };
}
pub(crate) use script;
