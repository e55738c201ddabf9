//! `hook.user_prompt`: Looks at a prompt before Claude sees it and keeps it in the prompt history (24 h). Mentions of destructive commands (`rm -rf /`), database destruction (`drop database`) or secrets (passwords, API keys) add warnings. With `context.enhance: true`, hints are added for testing or implementation requests. `modified` is the prompt with these additions appended (absent when nothing was added); the bridge hands the additions to Claude as additional context. Publishes `hook.user_prompt.executed`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookUserPrompt;
use claudebench_generated::types::{HookUserPromptInput, HookUserPromptOutput};

use crate::handlers::{Ctx, Handlers};

impl HookUserPrompt<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookUserPromptInput) -> Result<HookUserPromptOutput, Error> {
        Err(Error::not_implemented("hook.user_prompt"))
    }
}
