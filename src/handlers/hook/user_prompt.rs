//! `hook.user_prompt`: warns about destructive commands, database destruction and secrets in a
//! prompt, adds guidance hints on request, and keeps the prompt in the session's history (see
//! [`claudebench_domain::sessions::prompts`]).

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookUserPrompt;
use claudebench_generated::types::{HookUserPromptInput, HookUserPromptOutput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookUserPrompt<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookUserPromptInput) -> Result<HookUserPromptOutput, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let enhance = input.context.enhance == Some(true);
        let review = ctx.domain.sessions.review_prompt(&session, &input.prompt, enhance).await?;
        Ok(HookUserPromptOutput { modified: review.modified })
    }
}
