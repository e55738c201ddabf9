//! `hook.session_start`: registers the Claude Code session as an instance (`claude-code-<sid8>`,
//! role `claude-code`), tells Claude its session id for the lease tools and, after a resume or a
//! compaction, reminds it of its open work.

use claudebench_domain::sessions::Session;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookSessionStart;
use claudebench_generated::types::{HookSessionStartInput, HookSessionStartOutput};

use crate::handlers::{Ctx, Handlers};

impl HookSessionStart<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookSessionStartInput) -> Result<HookSessionStartOutput, Error> {
        let session = Session::explicit(&input.session_id);
        let started = ctx.domain.sessions.start(&session, input.source.as_deref()).await?;
        let context = started.context();
        Ok(HookSessionStartOutput {
            instance_id: started.instance_id,
            registered: true,
            additional_context: Some(context),
        })
    }
}
