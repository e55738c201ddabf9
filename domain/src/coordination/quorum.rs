//! Quorum votes: one vote per instance per decision, a strict majority wins, and the decision is
//! fixed once reached (votes arriving after that are not recorded).

use claudebench_contract::error::{Error, ErrorCode};
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};

use super::script::{Lua, eval_ok, field, lua};
use super::{CoordinationConfig, iso_millis, now_ms};
use claudebench_runtime::keys::Keys;

static VOTE: Lua = lua!("quorum_vote", "publish");
/// The scripts of this module, for the registry ([`super::scripts`]).
pub(super) static SCRIPTS: [&Lua; 1] = [&VOTE];

/// The state of a decision after a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuorumResult {
    /// This vote was recorded; `false` when the decision was already final before it.
    pub voted: bool,
    pub reached: bool,
    /// The winning value, once reached.
    pub decision: Option<String>,
    /// Distinct voters so far.
    pub vote_count: u64,
    /// Votes needed (strict majority).
    pub quorum: u64,
    /// Votes for the decision (0 while not reached).
    pub votes_for: u64,
}

/// Quorum voting under one key prefix.
#[derive(Debug, Clone)]
pub struct Quorum {
    keys: Keys,
    config: CoordinationConfig,
}

impl Quorum {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Quorum { keys, config }
    }

    /// `instance` votes `value` on `decision`. The quorum is a majority of `total`, or of the
    /// registered instances when `None`. A re-vote replaces the instance's earlier vote; once
    /// the decision is final, votes are no longer recorded (`voted: false`).
    /// Publishes `quorum.decision.made` when the decision is reached.
    pub async fn vote<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        decision: &str,
        instance: &str,
        value: &str,
        total: Option<u64>,
    ) -> Result<QuorumResult, Error> {
        if decision.is_empty() || instance.is_empty() {
            return Err(Error::new(ErrorCode::Validation, "decision and instance id must not be empty"));
        }
        let now = now_ms();
        let keys = [self.keys.quorum(decision), self.keys.instances(), self.keys.stream("quorum.decision.made")];
        let args = [
            instance.to_string(),
            value.to_string(),
            total.unwrap_or(0).to_string(),
            now.to_string(),
            iso_millis(now),
            self.config.quorum_ttl_ms.to_string(),
            self.config.stream_maxlen.to_string(),
            self.keys.channel("quorum.decision.made"),
            decision.to_string(),
        ];
        let v = eval_ok(con, &VOTE, &keys, &args).await?;
        let n = |i: usize| -> Result<u64, Error> {
            field(&v, i, "quorum_vote")?.parse().map_err(|_| Error::internal("quorum_vote: not a number"))
        };
        let reached = field(&v, 0, "quorum_vote")? == "1";
        Ok(QuorumResult {
            voted: field(&v, 5, "quorum_vote")? == "1",
            reached,
            decision: reached.then(|| field(&v, 1, "quorum_vote").map(str::to_string)).transpose()?,
            vote_count: n(2)?,
            quorum: n(3)?,
            votes_for: n(4)?,
        })
    }
}
