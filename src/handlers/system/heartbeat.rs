//! `system.heartbeat`: Tells the server an instance is alive: refreshes its `lastSeen` time, health and registration lifetime (and the leader's lease). Returns `alive: false` for an instance that is not registered (or was declared failed): it must call `system.register` again.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemHeartbeat;
use claudebench_generated::types::{SystemHeartbeatInput, SystemHeartbeatOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemHeartbeat<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemHeartbeatInput) -> Result<SystemHeartbeatOutput, Error> {
        // Refuses (false) unknown, unregistered and failed instances: their tasks may already
        // belong to others, so they must register again rather than silently resume.
        let alive = ctx.instances().heartbeat(&input.instance_id).await?;
        if alive {
            // An instance that became leader through `system.register` keeps its lease by
            // heartbeating. Renewal is fenced by the term, so a lease that lapsed and was taken
            // by someone else in between is never extended.
            if let Some(leader) = ctx.leader().current().await?
                && leader.id == input.instance_id
            {
                let lease_ms = ctx.instances().config().leader_lease_ms();
                ctx.leader().renew(&leader.id, leader.term, lease_ms).await?;
            }
        }
        Ok(SystemHeartbeatOutput { alive })
    }
}
