//! One instance's domain: the runtime's shared services with the coordination core and the hook
//! policy on top. The node builds it once; handlers reach it through their [`crate::Ctx`].
//!
//! Handlers use the typed facades — [`Domain::tasks`], [`Domain::instances`],
//! [`Domain::leader`], [`Domain::quorum`], [`Domain::batches`] (each service bound to the shared
//! Redis connection, see [`crate::connected`]) and [`Domain::views`] (read-only views for
//! dashboards, health and metrics) — and never Redis, keys or stored field names.

use std::sync::Arc;

use claudebench_contract::event::EventDef;
use claudebench_runtime::context::{RequestMeta, Services};
use claudebench_runtime::resilience::OwnLimit;

use crate::connected::Connected;
use crate::coordination::Coordination;
use crate::coordination::batch::Batches;
use crate::coordination::instances::Instances;
use crate::coordination::leader::LeaderLease;
use crate::coordination::quorum::Quorum;
use crate::coordination::tasks::Tasks;
use crate::leases::Leases;
use crate::policy::Guard;
use crate::sessions::Sessions;
use crate::views::Views;

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
    /// File leases between sessions.
    pub leases: Leases,
}

impl Domain {
    /// The task queue.
    pub fn tasks(&self) -> Connected<'_, Tasks> {
        Connected::new(&self.coord.tasks, self)
    }
    /// The instance registry and failure detection.
    pub fn instances(&self) -> Connected<'_, Instances> {
        Connected::new(&self.coord.instances, self)
    }
    /// The cluster leadership lease.
    pub fn leader(&self) -> Connected<'_, LeaderLease> {
        Connected::new(&self.coord.leader, self)
    }
    /// Quorum votes.
    pub fn quorum(&self) -> Connected<'_, Quorum> {
        Connected::new(&self.coord.quorum, self)
    }
    /// Batch locks and progress.
    pub fn batches(&self) -> Connected<'_, Batches> {
        Connected::new(&self.coord.batches, self)
    }
    /// Read-only views: recent events and tasks, instances, health, counters.
    pub fn views(&self) -> Views<'_> {
        Views::new(self)
    }
    /// The events this instance serves (the generated table, filtered by configuration).
    pub fn events(&self) -> &'static [EventDef] {
        self.runtime.events
    }
}

/// What a handler receives: the request being served (identity, event) and the instance's domain.
#[derive(Clone)]
pub struct Ctx {
    pub meta: RequestMeta,
    pub event: &'static EventDef,
    pub domain: Arc<Domain>,
    /// The caller's rate limit, for the handlers that check it in their own script (the
    /// pipeline skipped its check; see `EventHandlers::checks_own_rate_limit`).
    pub own_limit: Option<OwnLimit>,
}

impl Ctx {
    /// [`Domain::tasks`].
    pub fn tasks(&self) -> Connected<'_, Tasks> {
        self.domain.tasks()
    }
    /// [`Domain::instances`].
    pub fn instances(&self) -> Connected<'_, Instances> {
        self.domain.instances()
    }
    /// [`Domain::leader`].
    pub fn leader(&self) -> Connected<'_, LeaderLease> {
        self.domain.leader()
    }
    /// [`Domain::quorum`].
    pub fn quorum(&self) -> Connected<'_, Quorum> {
        self.domain.quorum()
    }
    /// [`Domain::batches`].
    pub fn batches(&self) -> Connected<'_, Batches> {
        self.domain.batches()
    }
    /// [`Domain::views`].
    pub fn views(&self) -> Views<'_> {
        self.domain.views()
    }
    /// The session the request belongs to, if the transport knows one.
    pub fn session_id(&self) -> Option<&str> {
        self.meta.session_id.as_deref()
    }
}
