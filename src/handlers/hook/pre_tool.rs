//! `hook.pre_tool`: judges a tool call with the configured guard (shell commands parsed into every
//! command that runs, exact tool names, paths normalised against the session's working
//! directory), then — unless the guard denies — takes or renews the session's file leases on
//! every file the call writes, refusing it when another session holds one; answers allow / ask /
//! deny with the reason, warnings and a rewritten input, and audits every decision.

use claudebench_domain::policy::Decision;
use claudebench_domain::sessions::ToolCall;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreTool;
use claudebench_generated::types::{HookPreToolInput, HookPreToolOutput, ToolDecision as HookDecisionKind};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookPreTool<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPreToolInput) -> Result<HookPreToolOutput, Error> {
        let judged = ctx.domain.guard.judge_in(&input.tool, &input.params, input.cwd.as_deref());
        // The holder is the Claude Code session the hook names (the bridge always sends it), never
        // the shared `default` session nor a transport's session: a model asking over MCP whether
        // a call would be allowed must not take a lease for its MCP connection.
        let holder = input.session_id.as_deref();
        let decision =
            ctx.domain.leases.guard_edits(holder, input.cwd.as_deref(), &judged.writes, judged.decision).await;
        let session = session(input.session_id.as_deref(), ctx);
        let call = ToolCall { tool: &input.tool, tool_use_id: input.tool_use_id.as_deref() };
        ctx.domain.sessions.audit_decision(&session, call, &decision).await;
        Ok(HookPreToolOutput {
            allow: decision.allow(),
            decision: match decision.decision {
                Decision::Allow => HookDecisionKind::Allow,
                Decision::Ask => HookDecisionKind::Ask,
                Decision::Deny => HookDecisionKind::Deny,
            },
            reason: decision.reason,
            rule: decision.rule,
            warnings: decision.warnings,
            modified: decision.modified,
        })
    }
}
