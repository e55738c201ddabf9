//! What the hook handlers share: how a hook finds its Claude Code session, and wire counters.

use claudebench_domain::sessions::Session;

use crate::handlers::Ctx;

/// The session a hook belongs to: the input's `sessionId` (the bridge copies Claude Code's
/// `session_id` there), else the session the transport knows, else the shared `default` session.
pub fn session(input: Option<&str>, ctx: &Ctx) -> Session {
    Session::resolve(input, ctx.session_id())
}

/// Saturating `u64`/`usize` → `i64` for wire counters.
pub fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
