//! `hook.pre_tool`: judges a tool call with the configured guard (shell commands parsed into every
//! command that runs, exact tool names, paths normalised against the session's working
//! directory), answers allow / ask / deny with the reason, warnings and a rewritten input, and
//! audits every decision.

use claudebench_domain::policy::{Decision, HookDecision};
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreTool;
use claudebench_generated::types::{HookPreToolInput, HookPreToolOutput, ToolDecision as HookDecisionKind};

use super::common::{Session, now, redis_error};
use crate::handlers::{Ctx, Handlers};

impl HookPreTool<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPreToolInput) -> Result<HookPreToolOutput, Error> {
        let decision = ctx.domain.guard.evaluate_in(&input.tool, &input.params, input.cwd.as_deref());
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        // The audit trail must not decide whether Claude may run a tool: a failed write is
        // logged, and the decision stands.
        if let Err(e) = audit(ctx, &input, &session, &decision).await {
            tracing::warn!(tool = %input.tool, error = %e.message, "hook decision not audited");
        }
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

/// `deny`, `ask`, `modify` (allowed with a rewritten input), `warn` (allowed with warnings) or
/// `allow`.
fn decision_name(d: &HookDecision) -> &'static str {
    match (d.decision, d.modified.is_some(), d.warnings.is_empty()) {
        (Decision::Deny | Decision::Ask, _, _) => d.decision.as_str(),
        (Decision::Allow, true, _) => "modify",
        (Decision::Allow, false, false) => "warn",
        (Decision::Allow, false, true) => "allow",
    }
}

/// One entry on the audit stream (capped like every stream). The tool input is not recorded:
/// commands and file contents can carry secrets, and the audit is about decisions.
async fn audit(ctx: &Ctx, input: &HookPreToolInput, session: &Session, d: &HookDecision) -> Result<(), Error> {
    let (_, ts) = now();
    let mut con = ctx.redis();
    let mut cmd = redis::cmd("XADD");
    cmd.arg(ctx.domain.runtime.keys.audit())
        .arg("MAXLEN")
        .arg("~")
        .arg(ctx.domain.runtime.config.stream_maxlen.max(1))
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
