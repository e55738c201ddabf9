//! `system.heartbeat`: Tells the server an instance is alive: refreshes its `lastSeen` time, health and registration lifetime (and the leader's lease). Returns `alive: false` for an instance that is not registered (or was declared failed): it must call `system.register` again.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemHeartbeat;
use claudebench_generated::types::{SystemHeartbeatInput, SystemHeartbeatOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemHeartbeat<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemHeartbeatInput) -> Result<SystemHeartbeatOutput, Error> {
        Err(Error::not_implemented("system.heartbeat"))
    }
}
