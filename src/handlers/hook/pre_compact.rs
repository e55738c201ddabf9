//! `hook.pre_compact`: snapshots the session's todo list and in-progress tasks before Claude Code
//! compacts the conversation, for `hook.session_start` (`source: compact`) to recall afterwards.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreCompact;
use claudebench_generated::types::{Acknowledgement, HookPreCompactInput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookPreCompact<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPreCompactInput) -> Result<Acknowledgement, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        ctx.domain.sessions.save_snapshot(&session, input.trigger.as_str(), input.custom_instructions).await?;
        Ok(Acknowledgement { acknowledged: true })
    }
}
