//! `hook.session_end`: unregisters the session's instance (its tasks go back to the pending
//! queue, as with `system.unregister`), releases its file leases and forgets the session's todo
//! state.

use claudebench_domain::leases::ReleaseReason;
use claudebench_domain::sessions::Session;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookSessionEnd;
use claudebench_generated::types::{HookSessionEndInput, HookSessionEndOutput};

use super::common::count;
use crate::handlers::{Ctx, Handlers};

impl HookSessionEnd<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookSessionEndInput) -> Result<HookSessionEndOutput, Error> {
        let session = Session::explicit(&input.session_id);
        ctx.domain.leases.release_session(&session.id, ReleaseReason::SessionEnd).await?;
        let ended = ctx.domain.sessions.end(&session).await?;
        Ok(HookSessionEndOutput {
            instance_id: ended.instance_id,
            unregistered: ended.unregistered,
            tasks_released: count(ended.tasks_released),
        })
    }
}
