//! `hook.session_start`: Registers the Claude Code session as an instance named `claude-code-<first 8 characters of sessionId>` with the role `claude-code`, so it can be assigned and claim tasks. When a session resumes or restarts after compaction (`source` `resume` or `compact`), `additionalContext` summarises its open todos and in-progress tasks; the bridge hands it to Claude. Registering again is harmless.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookSessionStart;
use claudebench_generated::types::{HookSessionStartInput, HookSessionStartOutput};

use crate::handlers::{Ctx, Handlers};

impl HookSessionStart<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookSessionStartInput) -> Result<HookSessionStartOutput, Error> {
        Err(Error::not_implemented("hook.session_start"))
    }
}
