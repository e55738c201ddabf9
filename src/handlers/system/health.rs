//! `system.health`: Reports overall health from the instances' heartbeats and the reachability of the services. `healthy`: at least one instance and all of them healthy; `degraded`: at least half healthy or degraded, or no instance registered; `unhealthy`: otherwise. `services` tells whether Redis, the SQL store and the MCP endpoint are up.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemHealth;
use claudebench_generated::types::{SystemHealthInput, SystemHealthOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemHealth<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemHealthInput) -> Result<SystemHealthOutput, Error> {
        Err(Error::not_implemented("system.health"))
    }
}
