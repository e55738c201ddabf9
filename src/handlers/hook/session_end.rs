//! `hook.session_end`: unregisters the session's instance (its tasks go back to the pending
//! queue, as with `system.unregister`) and forgets the session's todo state.

use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::handlers::HookSessionEnd;
use claudebench_generated::types::{HookSessionEndInput, HookSessionEndOutput};

use super::common::{Session, count};
use super::todos;
use crate::handlers::{Ctx, Handlers};

impl HookSessionEnd<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookSessionEndInput) -> Result<HookSessionEndOutput, Error> {
        let session = Session::explicit(&input.session_id);
        let instance = session.instance_id();
        let mut con = ctx.redis();
        // A session that never registered (or already ended) is not an error: SessionEnd can
        // arrive twice, or without a SessionStart hook configured.
        let (unregistered, released) = match ctx.coord().instances.unregister(&mut con, &instance).await {
            Ok(requeued) => (true, requeued.len()),
            Err(e) if e.code == ErrorCode::NotFound => (false, 0),
            Err(e) => return Err(e),
        };
        todos::forget(&mut con, &ctx.domain.runtime.keys, &session).await?;
        Ok(HookSessionEndOutput { instance_id: instance, unregistered, tasks_released: count(released) })
    }
}
