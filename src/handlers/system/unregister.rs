//! `system.unregister`: Removes an instance from the registry (a graceful shutdown, or a Claude Code session ending). Its queued and in-progress tasks are released: they become `pending` and unassigned again. If it was the leader, the lease is released. Unregistering an unknown instance returns `unregistered: false`. Publishes `instance.unregistered`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemUnregister;
use claudebench_generated::types::{SystemUnregisterInput, SystemUnregisterOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemUnregister<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemUnregisterInput) -> Result<SystemUnregisterOutput, Error> {
        Err(Error::not_implemented("system.unregister"))
    }
}
