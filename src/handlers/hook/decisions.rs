//! `hook.decisions`: the most recent PreToolUse guard decisions from the audit trail, newest
//! first, optionally only one kind or one session's (a bounded scan: see
//! `claudebench_domain::sessions::decisions`).

use claudebench_domain::sessions::DecisionQuery;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookDecisions;
use claudebench_generated::types::{HookDecisionsInput, HookDecisionsOutput};

use crate::handlers::{Ctx, Handlers};

impl HookDecisions<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookDecisionsInput) -> Result<HookDecisionsOutput, Error> {
        let query = DecisionQuery {
            limit: usize::try_from(input.limit).unwrap_or(1),
            decision: input.decision,
            session: input.session_id.as_deref(),
        };
        let found = ctx.domain.sessions.decisions(query).await?;
        Ok(HookDecisionsOutput { decisions: found.decisions, truncated: found.truncated.then_some(true) })
    }
}
