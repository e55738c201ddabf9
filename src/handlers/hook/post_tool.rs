//! `hook.post_tool`: records a tool's outcome (PostToolUse) or failure (PostToolUseFailure) — counters, the session's execution log and the
//! error window with its alert (see [`claudebench_domain::sessions::tools`]).

use claudebench_domain::sessions::ToolOutcome;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPostTool;
use claudebench_generated::types::{HookPostToolInput, HookPostToolOutput};
use serde_json::Value;

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookPostTool<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPostToolInput) -> Result<HookPostToolOutput, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let outcome = ToolOutcome {
            tool: &input.tool,
            tool_use_id: input.tool_use_id.as_deref(),
            result: &input.result,
            error: input.error.as_deref(),
            duration_ms: input.duration_ms,
        };
        ctx.domain.sessions.record_tool_outcome(&session, outcome).await?;
        Ok(HookPostToolOutput { processed: Value::Bool(true) })
    }
}
