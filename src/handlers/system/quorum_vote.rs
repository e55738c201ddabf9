//! `system.quorum_vote`: Casts this instance's vote for `value` on `decision`. Each decision is tallied separately, and each instance has one vote per decision: voting again replaces its earlier vote. The quorum is a strict majority, floor(totalInstances / 2) + 1; when `totalInstances` is omitted it is the number of instances registered at the time of the vote. Once a value reaches the quorum the decision is final: `quorumReached` is `true`, `finalDecision` holds the winning value, and later votes no longer change it. Publishes `quorum.decision.made` when the quorum is reached.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemQuorumVote;
use claudebench_generated::types::{SystemQuorumVoteInput, SystemQuorumVoteOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemQuorumVote<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemQuorumVoteInput) -> Result<SystemQuorumVoteOutput, Error> {
        // The schema guarantees totalInstances >= 1 when present.
        let total = input.total_instances.and_then(|n| u64::try_from(n).ok());
        // One script per vote: the tally is per decision and keyed by voter (a repeated vote
        // replaces the earlier one), and the registered-instance count it falls back to is
        // read in the same atomic step.
        let r = ctx.quorum().vote(&input.decision, &input.instance_id, &input.value, total).await?;
        Ok(SystemQuorumVoteOutput {
            voted: r.voted,
            quorum_reached: r.reached,
            final_decision: r.decision,
            vote_count: Some(i64::try_from(r.vote_count).unwrap_or(i64::MAX)),
        })
    }
}
