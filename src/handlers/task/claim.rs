//! `task.claim`: Lets a worker take up to `maxTasks` tasks in one atomic step: first the pending tasks already assigned to this worker, then unassigned pending tasks, highest priority first. Claimed tasks become `in_progress` and assigned to the worker. A task assigned to another instance is never taken. The worker must be registered and healthy. Returns `claimed: false` and an empty `tasks` list when nothing is available. `taskId` and `task` repeat the first claimed task for callers that claim one at a time. Publishes `task.claimed` for each task.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskClaim;
use claudebench_generated::types::{TaskClaimInput, TaskClaimOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskClaim<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskClaimInput) -> Result<TaskClaimOutput, Error> {
        Err(Error::not_implemented("task.claim"))
    }
}
