//! `system.quorum_vote`: Casts this instance's vote for `value` on `decision`. Each decision is tallied separately, and each instance has one vote per decision: voting again replaces its earlier vote. The quorum is a strict majority, floor(totalInstances / 2) + 1; when `totalInstances` is omitted it is the number of instances registered at the time of the vote. Once a value reaches the quorum the decision is final: `quorumReached` is `true`, `finalDecision` holds the winning value, and later votes no longer change it. Publishes `quorum.decision.made` when the quorum is reached.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemQuorumVote;
use claudebench_generated::types::{SystemQuorumVoteInput, SystemQuorumVoteOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemQuorumVote<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemQuorumVoteInput) -> Result<SystemQuorumVoteOutput, Error> {
        Err(Error::not_implemented("system.quorum_vote"))
    }
}
