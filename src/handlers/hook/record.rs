//! `hook.record`: a Claude Code hook with no event of its own (the hook table's catch-all) is put
//! on the bus as `hook.recorded` (see [`claudebench_domain::sessions::Sessions::record_hook`]).

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookRecord;
use claudebench_generated::types::{Acknowledgement, HookRecordInput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookRecord<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookRecordInput) -> Result<Acknowledgement, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        ctx.domain.sessions.record_hook(&session, &input.hook, input.cwd.as_deref(), &input.input).await?;
        Ok(Acknowledgement { acknowledged: true })
    }
}
