//! One instance's domain: the runtime's shared services with the coordination core and the hook
//! policy on top. The node builds it once; handlers reach it through their [`crate::Ctx`].

use std::sync::Arc;

use claudebench_contract::event::EventDef;
use claudebench_runtime::context::{RequestMeta, Services};

use crate::coordination::Coordination;
use crate::policy::Guard;
use crate::sessions::Sessions;

/// Everything the domain owns for one instance, over the runtime's shared services.
pub struct Domain {
    /// Redis, bus, metrics, SQL store, configuration and the served event table.
    pub runtime: Arc<Services>,
    /// Tasks, instances, leadership, gossip, quorum, batches and global state.
    pub coord: Coordination,
    /// The compiled `hook.pre_tool` guard.
    pub guard: Guard,
    /// Claude Code sessions: todos, snapshots, tool records, prompts, lifecycle.
    pub sessions: Sessions,
}

/// What a handler receives: the request being served (identity, event) and the instance's domain.
#[derive(Clone)]
pub struct Ctx {
    pub meta: RequestMeta,
    pub event: &'static EventDef,
    pub domain: Arc<Domain>,
}

impl Ctx {
    /// A connection to the shared Redis (cheap: a handle to the one multiplexed connection).
    pub fn redis(&self) -> ::redis::aio::ConnectionManager {
        self.domain.runtime.redis.conn()
    }
    /// The coordination core (tasks, instances, leader, gossip, quorum, batches, state).
    pub fn coord(&self) -> &Coordination {
        &self.domain.coord
    }
    /// The session the request belongs to, if the transport knows one.
    pub fn session_id(&self) -> Option<&str> {
        self.meta.session_id.as_deref()
    }
}
