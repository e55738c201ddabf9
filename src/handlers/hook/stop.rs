//! `hook.stop` (and its alias `hook.agent_stop`): records that Claude or a subagent finished its
//! turn and reports the session's in-progress tasks. When the main agent stops (not a subagent),
//! the session's file leases are released: its edits are over until the next turn. Never asks
//! Claude to continue.

use claudebench_domain::leases::ReleaseReason;
use claudebench_domain::sessions::Stop;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookStop;
use claudebench_generated::types::{HookStopInput, HookStopOutput};

use super::common::{count, session};
use crate::handlers::{Ctx, Handlers};

impl HookStop<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookStopInput) -> Result<HookStopOutput, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let stop = Stop { subagent: input.subagent, agent_type: input.agent_type, agent_id: input.agent_id };
        let in_progress = ctx.domain.sessions.record_stop(&session, &stop).await?;
        // A subagent stopping leaves its parent mid-turn, still editing; the shared `default`
        // session never holds leases.
        if !stop.subagent && session.explicit {
            ctx.domain.leases.release_session(&session.id, ReleaseReason::Stop).await?;
        }
        Ok(HookStopOutput { acknowledged: true, in_progress_tasks: in_progress.map(count) })
    }
}
