//! `system.register`: Registers (or re-registers) an instance with its roles and marks it healthy. Roles the instance no longer announces are dropped. The instance must then send `system.heartbeat` regularly; one that stops is detected as failed and its tasks are handed back to the queue. An instance with the `worker` role is offered pending tasks right away. The first instance to register while no leader exists becomes leader. Publishes `instance.registered`.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemRegister;
use claudebench_generated::types::{SystemRegisterInput, SystemRegisterOutput};

use super::leader_lease_ms;
use crate::handlers::{Ctx, Handlers};

/// The role that receives tasks automatically.
const WORKER_ROLE: &str = "worker";

impl SystemRegister<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemRegisterInput) -> Result<SystemRegisterOutput, Error> {
        let coord = ctx.coord();
        let mut con = ctx.redis();
        // One script: record, role sets (stale ones dropped), liveness, `instance.registered`.
        coord.instances.register(&mut con, &input.id, &input.roles).await?;

        // The acquire script takes the lease only when nobody holds a valid one (and merely
        // extends it when this id already leads), so "first to register while no leader
        // exists" is exactly its semantics, race-free across processes.
        coord.leader.acquire(&mut con, &input.id, leader_lease_ms(ctx)).await?;

        if input.roles.iter().any(|r| r == WORKER_ROLE) {
            // Offer pending work to the workers now, up to one worker's capacity: the load
            // balancer gives each task to the least-loaded live worker, which is this new one
            // whenever the others are busier. The registration already stands, so a failure
            // here must not turn it into an error: the tasks stay pending and claimable.
            let capacity = coord.instances.config().worker_capacity as usize;
            if let Err(e) = coord.tasks.auto_assign(&mut con, capacity).await {
                tracing::warn!(instance = %input.id, error = %e, "auto-assignment after registration failed");
            }
        }
        Ok(SystemRegisterOutput { registered: true })
    }
}
