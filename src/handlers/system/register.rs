//! `system.register`: Registers (or re-registers) an instance with its roles and marks it healthy. Roles the instance no longer announces are dropped. The instance must then send `system.heartbeat` every `heartbeatIntervalMs` (a third of the server's failure timeout); one that stops is detected as failed and its tasks are handed back to the queue. An instance with the `worker` role is offered pending tasks right away. The first instance to register while no leader exists becomes leader. Publishes `instance.registered`.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemRegister;
use claudebench_generated::types::{SystemRegisterInput, SystemRegisterOutput};

use crate::handlers::{Ctx, Handlers};

/// The role that receives tasks automatically.
const WORKER_ROLE: &str = "worker";

impl SystemRegister<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: SystemRegisterInput) -> Result<SystemRegisterOutput, Error> {
        let instances = ctx.instances();
        // One script: record, role sets (stale ones dropped), liveness, `instance.registered`.
        instances.register(&input.id, &input.roles).await?;

        // The acquire script takes the lease only when nobody holds a valid one (and merely
        // extends it when this id already leads), so "first to register while no leader
        // exists" is exactly its semantics, race-free across processes. The lease is as long as
        // the server's own elector's (one failure timeout, within 1 s..30 s).
        ctx.leader().acquire(&input.id, instances.config().leader_lease_ms()).await?;

        if input.roles.iter().any(|r| r == WORKER_ROLE) {
            // Offer pending work to the workers now, up to one worker's capacity: the load
            // balancer gives each task to the least-loaded live worker, which is this new one
            // whenever the others are busier. The registration already stands, so a failure
            // here must not turn it into an error: the tasks stay pending and claimable.
            let capacity = instances.config().worker_capacity as usize;
            if let Err(e) = ctx.tasks().auto_assign(capacity).await {
                tracing::warn!(instance = %input.id, error = %e, "auto-assignment after registration failed");
            }
        }
        let interval = i64::try_from(instances.config().heartbeat_interval_ms()).unwrap_or(i64::MAX);
        Ok(SystemRegisterOutput { registered: true, heartbeat_interval_ms: Some(interval) })
    }
}
