//! `hook.post_tool`: Records the outcome of a tool call after Claude Code ran it: an execution log (the result truncated to 1000 characters, kept 24 h) and per-tool counters. A result that reports an error (an object with `error` or `failed`, or `is_error: true`) counts as a tool error; more than 5 errors of one tool within 5 minutes publish `alert.tool_errors`. Publishes `hook.post_tool.executed`. `processed` is `true` once recorded.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPostTool;
use claudebench_generated::types::{HookPostToolInput, HookPostToolOutput};

use crate::handlers::{Ctx, Handlers};

impl HookPostTool<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookPostToolInput) -> Result<HookPostToolOutput, Error> {
        Err(Error::not_implemented("hook.post_tool"))
    }
}
