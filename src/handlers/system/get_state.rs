//! `system.get_state`: A bounded snapshot for dashboards: the 10 most recently updated tasks, the registered instances (at most 100), the 10 most recent events on the bus, the 20 most recent instance failures and the current leader (`null` when none). Use `task.list` to page through all tasks.
//!
//! The domain's views read everything through indexes and capped ranges (no key scans); see
//! `claudebench_domain::views`.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::SystemGetState;
use claudebench_generated::types::{SystemGetStateInput, SystemGetStateOutput};

use crate::handlers::{Ctx, Handlers};

const MAX_TASKS: usize = 10;
const MAX_INSTANCES: usize = 100;
const MAX_EVENTS: usize = 10;
const MAX_FAILURES: usize = 20;

impl SystemGetState<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, _input: SystemGetStateInput) -> Result<SystemGetStateOutput, Error> {
        let recent = ctx.views().recent(MAX_TASKS, MAX_EVENTS).await?;
        let (instances, leader) = ctx.views().instances_and_leader(MAX_INSTANCES).await?;
        let failures = ctx.views().failures(MAX_FAILURES).await?;
        Ok(SystemGetStateOutput { tasks: recent.tasks, instances, recent_events: recent.events, failures, leader })
    }
}
