//! The coordination core: tasks, instances, leadership, gossip, quorum, batches and global state,
//! as a typed Rust API over atomic Lua scripts.
//!
//! Every state transition is one script that changes the state *and* appends its event to the
//! event's stream (and publishes it) through the shared prelude `lua/lib/publish.lua`, so the two
//! can never be separated. Every script touches the keys of one hash slot (see
//! [`claudebench_runtime::keys`]): task scripts one task partition, the others the control slot,
//! so the scripts are Redis-Cluster-legal. Where a script would otherwise have to discover a
//! key of another slot, the Rust side reads it first and the script re-checks it (a fence, a
//! version), answering "retry" or refusing if it changed in between.
//!
//! The APIs are generic over [`redis::aio::ConnectionLike`], so they work with the runtime's
//! `Conn` (one Redis or a cluster) as well as a plain multiplexed connection.

pub mod batch;
pub mod gossip;
pub mod instances;
pub mod leader;
pub mod quorum;
pub mod state;
pub mod tasks;

mod script;

pub use claudebench_contract::error::{Error, ErrorCode};
use claudebench_runtime::scripts::Lua;

use claudebench_runtime::keys::Keys;

/// Tunables shared by the coordination modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinationConfig {
    /// Approximate cap (`MAXLEN ~`) of every event stream the scripts append to.
    pub stream_maxlen: u64,
    /// An instance without a heartbeat for this long is not alive (may not claim or receive
    /// tasks) and is declared failed by the next sweep.
    pub failure_timeout_ms: u64,
    /// Expiry of an instance record, refreshed by every heartbeat. Must be longer than
    /// `failure_timeout_ms`, so a dead instance is detected while its record still exists.
    pub instance_record_ttl_ms: u64,
    /// Most tasks auto-assignment puts in one worker's queue.
    pub worker_capacity: u32,
    /// How long quorum votes and decisions are kept after the last vote.
    pub quorum_ttl_ms: u64,
    /// Gossip entries older than this are removed.
    pub gossip_stale_ms: u64,
    /// How long a finished batch's record is kept.
    pub batch_retention_ms: u64,
    /// How many task partitions (hash slots) tasks are spread over (`CLAUDEBENCH_PARTITIONS`);
    /// fixed for the life of a deployment's Redis (see `claudebench_runtime::keys::Partitions`).
    pub partitions: u32,
    /// How long a finished task stays in Redis once SQL holds its final state
    /// (`CLAUDEBENCH_TASK_RETENTION_S`); after that SQL alone answers for it.
    pub task_retention_ms: u64,
    /// File leases: their idle TTL and the answer to a conflicting edit
    /// (`CLAUDEBENCH_LEASE_TTL_S`, `CLAUDEBENCH_LEASE_CONFLICT`).
    pub leases: crate::leases::LeaseConfig,
}

impl Default for CoordinationConfig {
    fn default() -> Self {
        CoordinationConfig {
            stream_maxlen: 10_000,
            failure_timeout_ms: 30_000,
            instance_record_ttl_ms: 90_000,
            worker_capacity: 10,
            quorum_ttl_ms: 3_600_000,
            gossip_stale_ms: 60_000,
            batch_retention_ms: 3_600_000,
            partitions: 1,
            task_retention_ms: 300_000,
            leases: crate::leases::LeaseConfig::default(),
        }
    }
}

impl CoordinationConfig {
    /// The record TTL actually used: never shorter than twice the failure timeout, whatever was
    /// configured, so the liveness guarantee above cannot be configured away.
    pub fn effective_record_ttl_ms(&self) -> u64 {
        self.instance_record_ttl_ms.max(self.failure_timeout_ms.saturating_mul(2))
    }

    /// How often an instance must beat: a third of the failure timeout, so two late or lost
    /// heartbeats in a row do not make a live instance look failed. The server's own
    /// heartbeat job uses it, and `system.register` tells every other instance.
    pub fn heartbeat_interval_ms(&self) -> u64 {
        (self.failure_timeout_ms / 3).max(1)
    }

    /// Length of a leadership lease, for the node's own elector and for leaders elected
    /// through `system.register` alike: one failure timeout, within 1 s..30 s, so a silent
    /// leader is replaced about when it would be declared failed.
    pub fn leader_lease_ms(&self) -> u64 {
        self.failure_timeout_ms.clamp(1_000, 30_000)
    }
}

/// Every coordination service under one key prefix and configuration.
#[derive(Debug, Clone)]
pub struct Coordination {
    pub tasks: tasks::Tasks,
    pub instances: instances::Instances,
    pub leader: leader::LeaderLease,
    pub gossip: gossip::Gossip,
    pub quorum: quorum::Quorum,
    pub batches: batch::Batches,
    pub state: state::GlobalState,
}

impl Coordination {
    pub fn new(keys: Keys, config: CoordinationConfig) -> Self {
        Self::with_tasks(tasks::Tasks::new(keys.clone(), config.clone()), keys, config)
    }

    /// The services over `tasks` (e.g. tasks reading finished ones from SQL, see
    /// [`tasks::Tasks::with_store`]).
    pub fn with_tasks(tasks: tasks::Tasks, keys: Keys, config: CoordinationConfig) -> Self {
        Coordination {
            instances: instances::Instances::new(keys.clone(), config.clone(), tasks.clone()),
            state: state::GlobalState::new(keys.clone(), config.clone(), tasks.clone()),
            tasks,
            leader: leader::LeaderLease::new(keys.clone()),
            gossip: gossip::Gossip::new(keys.clone(), config.clone()),
            quorum: quorum::Quorum::new(keys.clone(), config.clone()),
            batches: batch::Batches::new(keys, config),
        }
    }
}

/// Every coordination script, for loading them at start (the runtime's own are
/// `claudebench_runtime::scripts::ALL`).
pub fn scripts() -> impl Iterator<Item = &'static Lua> {
    [
        &batch::SCRIPTS[..],
        &gossip::SCRIPTS[..],
        &instances::SCRIPTS[..],
        &leader::SCRIPTS[..],
        &quorum::SCRIPTS[..],
        &state::SCRIPTS[..],
        &tasks::SCRIPTS[..],
    ]
    .into_iter()
    .flatten()
    .copied()
}

pub use claudebench_contract::time::{iso_millis, now_ms, parse_iso_millis};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ttl_always_outlives_the_failure_timeout() {
        let c = CoordinationConfig { failure_timeout_ms: 60_000, instance_record_ttl_ms: 30_000, ..Default::default() };
        assert!(c.effective_record_ttl_ms() > c.failure_timeout_ms);
    }
}
