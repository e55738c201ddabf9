//! `system.get_state`: A bounded snapshot for dashboards: the 10 most recently updated tasks, the registered instances (at most 100) and the 10 most recent events on the bus. Use `task.list` to page through all tasks.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemGetState;
use claudebench_generated::types::{SystemGetStateInput, SystemGetStateOutput};

use crate::handlers::{Ctx, Handlers};

impl SystemGetState<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: SystemGetStateInput) -> Result<SystemGetStateOutput, Error> {
        Err(Error::not_implemented("system.get_state"))
    }
}
