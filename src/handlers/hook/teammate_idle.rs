//! `hook.teammate_idle`: the session's instance names the teammate that went idle, with its team
//! and the time, and it is published as `hook.teammate.idle` (see
//! [`claudebench_domain::sessions::agents`]). The teammate is never kept working.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookTeammateIdle;
use claudebench_generated::types::{Acknowledgement, HookTeammateIdleInput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookTeammateIdle<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookTeammateIdleInput) -> Result<Acknowledgement, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        ctx.domain.sessions.teammate_idle(&session, &input.teammate_name, input.team_name.as_deref()).await?;
        Ok(Acknowledgement { acknowledged: true })
    }
}
