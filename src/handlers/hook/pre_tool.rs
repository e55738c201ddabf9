//! `hook.pre_tool`: judges a tool call with the configured rule engine (shell commands split into
//! every part that runs, exact tool names, paths normalised against the session's working
//! directory), returns warnings and the rewritten input, and audits every decision.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreTool;
use claudebench_generated::types::{HookPreToolInput, HookPreToolOutput};
use claudebench_runtime::coordination::hook_rules::HookDecision;

use super::common::{Session, now, redis_error};
use crate::handlers::{Ctx, Handlers};

impl HookPreTool<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPreToolInput) -> Result<HookPreToolOutput, Error> {
        let decision = ctx.services.hook_rules.evaluate_in(&input.tool, &input.params, input.cwd.as_deref());
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        // The audit trail must not decide whether Claude may run a tool: a failed write is
        // logged, and the decision stands.
        if let Err(e) = audit(ctx, &input, &session, &decision).await {
            tracing::warn!(tool = %input.tool, error = %e.message, "hook decision not audited");
        }
        Ok(HookPreToolOutput {
            allow: decision.allow,
            reason: decision.reason,
            warnings: decision.warnings,
            modified: decision.modified,
        })
    }
}

/// `block`, `modify` (allowed with a rewritten input), `warn` (allowed with warnings) or `allow`.
fn decision_name(d: &HookDecision) -> &'static str {
    match (d.allow, d.modified.is_some(), d.warnings.is_empty()) {
        (false, _, _) => "block",
        (true, true, _) => "modify",
        (true, false, false) => "warn",
        (true, false, true) => "allow",
    }
}

/// One entry on the audit stream (capped like every stream). The tool input is not recorded:
/// commands and file contents can carry secrets, and the audit is about decisions.
async fn audit(ctx: &Ctx, input: &HookPreToolInput, session: &Session, d: &HookDecision) -> Result<(), Error> {
    let (_, ts) = now();
    let mut con = ctx.redis();
    let mut cmd = redis::cmd("XADD");
    cmd.arg(ctx.services.keys.audit())
        .arg("MAXLEN")
        .arg("~")
        .arg(ctx.services.config.stream_maxlen.max(1))
        .arg("*")
        .arg("hook")
        .arg("pre_tool")
        .arg("tool")
        .arg(&input.tool)
        .arg("decision")
        .arg(decision_name(d))
        .arg("rule")
        .arg(d.rule.as_deref().unwrap_or(""))
        .arg("session")
        .arg(&session.id)
        .arg("ts")
        .arg(ts);
    if let Some(reason) = &d.reason {
        cmd.arg("reason").arg(reason);
    }
    if !d.warnings.is_empty() {
        cmd.arg("warnings").arg(d.warnings.join("\n"));
    }
    if let Some(id) = &input.tool_use_id {
        cmd.arg("toolUseId").arg(id);
    }
    cmd.query_async::<String>(&mut con).await.map(|_| ()).map_err(redis_error)
}
