//! The coordination services as handlers use them: each bound to the instance's shared Redis
//! connection, so a call reads `ctx.tasks().create(new)` with no connection, key or command in
//! sight.
//!
//! The services themselves ([`crate::coordination`]) take the connection as a parameter, for
//! tests, benchmarks and callers that run several calls on one connection of their own; the
//! methods here only supply the connection (one multiplexed connection, so a handle is cheap),
//! and where a request-level effect belongs to the call (counting a completed task for
//! `system.metrics`) they add it. Their rules and errors are documented on the services.

use claudebench_contract::error::Error;
use claudebench_generated::types::{Task, TaskStatus};
use claudebench_runtime::redis::Conn;
use claudebench_runtime::resilience::OwnLimit;

use crate::coordination::CoordinationConfig;
use crate::coordination::batch::{BatchLock, BatchProgress, Batches};
use crate::coordination::instances::{FailedInstance, Instances, Registration};
use crate::coordination::leader::{LeaderInfo, LeaderLease, LeaseState};
use crate::coordination::quorum::{Quorum, QuorumResult};
use crate::coordination::tasks::{Assignment, Completion, NewTask, Outcome, TaskPage, TaskQuery, TaskUpdate, Tasks};
use crate::services::Domain;

/// A coordination service with the instance's Redis connection (see the module docs).
#[derive(Clone, Copy)]
pub struct Connected<'a, S> {
    service: &'a S,
    domain: &'a Domain,
}

impl<'a, S> Connected<'a, S> {
    pub(crate) fn new(service: &'a S, domain: &'a Domain) -> Self {
        Connected { service, domain }
    }

    fn con(&self) -> Conn {
        self.domain.runtime.redis.conn()
    }
}

/// See [`Tasks`].
impl Connected<'_, Tasks> {
    pub async fn create(&self, new: NewTask) -> Result<Task, Error> {
        self.service.create(&mut self.con(), new).await
    }
    pub async fn create_limited(&self, new: NewTask, own_limit: Option<&OwnLimit>) -> Result<Task, Error> {
        self.service.create_limited(&mut self.con(), new, own_limit).await
    }
    pub async fn get(&self, id: &str) -> Result<Task, Error> {
        self.service.get(&mut self.con(), id).await
    }
    pub async fn list(&self, query: &TaskQuery) -> Result<TaskPage, Error> {
        self.service.list(&mut self.con(), query).await
    }
    pub async fn update(&self, id: &str, update: TaskUpdate) -> Result<Task, Error> {
        self.service.update(&mut self.con(), id, update).await
    }
    pub async fn claim(&self, worker_id: &str, max_tasks: usize) -> Result<Vec<Task>, Error> {
        self.service.claim(&mut self.con(), worker_id, max_tasks).await
    }
    pub async fn assign(&self, task_id: &str, instance_id: &str) -> Result<Task, Error> {
        self.service.assign(&mut self.con(), task_id, instance_id).await
    }
    pub async fn auto_assign(&self, limit: usize) -> Result<Vec<Assignment>, Error> {
        self.service.auto_assign(&mut self.con(), limit).await
    }
    /// [`Tasks::complete`], counting a task that reached `completed` (not a failure) in
    /// `system.metrics.tasksCompleted`.
    pub async fn complete(&self, id: &str, worker_id: &str, outcome: Outcome) -> Result<Completion, Error> {
        let done = self.service.complete(&mut self.con(), id, worker_id, outcome).await?;
        if done.task.status == TaskStatus::Completed {
            self.domain.runtime.metrics.task_completed();
        }
        Ok(done)
    }
    pub async fn delete(&self, id: &str) -> Result<Task, Error> {
        self.service.delete(&mut self.con(), id).await
    }
}

/// See [`Instances`].
impl Connected<'_, Instances> {
    /// The configuration in force (failure timeout, worker capacity, lease length).
    pub fn config(&self) -> &CoordinationConfig {
        self.service.config()
    }
    pub async fn register(&self, id: &str, roles: &[String]) -> Result<Registration, Error> {
        self.service.register(&mut self.con(), id, roles).await
    }
    pub async fn heartbeat(&self, id: &str) -> Result<bool, Error> {
        self.service.heartbeat(&mut self.con(), id).await
    }
    pub async fn unregister(&self, id: &str) -> Result<Vec<String>, Error> {
        self.service.unregister(&mut self.con(), id).await
    }
    pub async fn sweep_failed(&self, now_ms: i64, timeout_ms: u64) -> Result<Vec<FailedInstance>, Error> {
        self.service.sweep_failed(&mut self.con(), now_ms, timeout_ms).await
    }
    pub async fn registered(&self) -> Result<Vec<(String, i64)>, Error> {
        self.service.registered(&mut self.con()).await
    }
    pub async fn failed(&self) -> Result<Vec<String>, Error> {
        self.service.failed(&mut self.con()).await
    }
}

/// See [`LeaderLease`].
impl Connected<'_, LeaderLease> {
    pub async fn acquire(&self, id: &str, lease_ms: u64) -> Result<LeaseState, Error> {
        self.service.acquire(&mut self.con(), id, lease_ms).await
    }
    pub async fn renew(&self, id: &str, term: u64, lease_ms: u64) -> Result<bool, Error> {
        self.service.renew(&mut self.con(), id, term, lease_ms).await
    }
    pub async fn release(&self, id: &str, term: u64) -> Result<bool, Error> {
        self.service.release(&mut self.con(), id, term).await
    }
    pub async fn current(&self) -> Result<Option<LeaderInfo>, Error> {
        self.service.current(&mut self.con()).await
    }
}

/// See [`Quorum`].
impl Connected<'_, Quorum> {
    pub async fn vote(
        &self,
        decision: &str,
        instance: &str,
        value: &str,
        total: Option<u64>,
    ) -> Result<QuorumResult, Error> {
        self.service.vote(&mut self.con(), decision, instance, value, total).await
    }
}

/// See [`Batches`].
impl Connected<'_, Batches> {
    pub async fn acquire(
        &self,
        batch_id: &str,
        processor: &str,
        total: u64,
        lock_ttl_ms: u64,
    ) -> Result<BatchLock, Error> {
        self.service.acquire(&mut self.con(), batch_id, processor, total, lock_ttl_ms).await
    }
    pub async fn progress(
        &self,
        batch_id: &str,
        processor: &str,
        processed: u64,
        lock_ttl_ms: u64,
    ) -> Result<BatchProgress, Error> {
        self.service.progress(&mut self.con(), batch_id, processor, processed, lock_ttl_ms).await
    }
    pub async fn complete(&self, batch_id: &str, processor: &str, processed: u64) -> Result<BatchProgress, Error> {
        self.service.complete(&mut self.con(), batch_id, processor, processed).await
    }
    pub async fn release(&self, batch_id: &str, processor: &str, processed: u64) -> Result<BatchProgress, Error> {
        self.service.release(&mut self.con(), batch_id, processor, processed).await
    }
    pub async fn completed_by(&self, batch_id: &str) -> Result<Option<String>, Error> {
        self.service.completed_by(&mut self.con(), batch_id).await
    }
}
