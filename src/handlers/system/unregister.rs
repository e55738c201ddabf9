//! `system.unregister`: Removes an instance from the registry (a graceful shutdown, or a Claude Code session ending). Its queued and in-progress tasks are released: they become `pending` and unassigned again. If it was the leader, the lease is released. Unregistering an unknown instance returns `unregistered: false`. Publishes `instance.unregistered`.

use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::handlers::SystemUnregister;
use claudebench_generated::types::{SystemUnregisterInput, SystemUnregisterOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemUnregister<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemUnregisterInput) -> Result<SystemUnregisterOutput, Error> {
        // One script re-queues its unfinished tasks, removes the record, liveness entry and role
        // memberships, and publishes `instance.unregistered`.
        let released = match ctx.instances().unregister(&input.id).await {
            Ok(ids) => ids,
            Err(e) if e.code == ErrorCode::NotFound => {
                return Ok(SystemUnregisterOutput { unregistered: false, tasks_released: 0 });
            }
            Err(e) => return Err(e),
        };
        // Hand leadership over at once instead of letting followers wait for the lease to run
        // out. The release is fenced by the term, so it cannot free a newer leader's lease.
        if let Some(leader) = ctx.leader().current().await?
            && leader.id == input.id
        {
            ctx.leader().release(&leader.id, leader.term).await?;
        }
        let tasks_released = i64::try_from(released.len()).unwrap_or(i64::MAX);
        Ok(SystemUnregisterOutput { unregistered: true, tasks_released })
    }
}
