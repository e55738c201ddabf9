//! `task.claim`: Lets a worker take up to `maxTasks` tasks in one atomic step: first the
//! pending tasks already assigned to this worker, then unassigned pending tasks, highest
//! priority first. Claimed tasks become `in_progress` and assigned to the worker. A task
//! assigned to another instance is never taken. The worker must be registered and healthy.
//! Returns `claimed: false` and an empty `tasks` list when nothing is available. `taskId` and
//! `task` repeat the first claimed task for callers that claim one at a time. Publishes
//! `task.claimed` for each task.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskClaim;
use claudebench_generated::types::{TaskClaimInput, TaskClaimOutput};

use super::count;
use crate::handlers::{Ctx, Handlers};

impl TaskClaim<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskClaimInput) -> Result<TaskClaimOutput, Error> {
        let max = count("maxTasks", input.max_tasks)?;
        // One script: liveness check of the worker, then ZPOPMIN-based taking, so concurrent
        // claims (from any instance) never hand out the same task twice.
        let tasks = ctx.tasks().claim(&input.worker_id, max).await?;
        let first = tasks.first().cloned();
        Ok(TaskClaimOutput {
            claimed: first.is_some(),
            task_id: first.as_ref().map(|t| t.id.clone()),
            task: first,
            tasks,
        })
    }
}
