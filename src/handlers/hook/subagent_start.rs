//! `hook.subagent_start`: a subagent joins the running subagents of the session's instance and
//! is published as `hook.subagent.started` (see [`claudebench_domain::sessions::agents`]); its
//! SubagentStop (`hook.stop`) takes it off again.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookSubagentStart;
use claudebench_generated::types::{HookSubagentStartInput, HookSubagentStartOutput};

use super::common::{count, session};
use crate::handlers::{Ctx, Handlers};

impl HookSubagentStart<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookSubagentStartInput) -> Result<HookSubagentStartOutput, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let running =
            ctx.domain.sessions.start_subagent(&session, &input.agent_id, input.agent_type.as_deref()).await?;
        Ok(HookSubagentStartOutput { acknowledged: true, running: running.map(count) })
    }
}
