//! `task.assign`: Assigns a pending, unassigned task to a registered, healthy instance and
//! appends it to that instance's queue. The task stays `pending` until the instance claims it
//! with `task.claim`. Fails with `not_found` for an unknown task or instance and with
//! `conflict` when the task is already assigned or finished, or the instance is offline.
//! Publishes `task.assigned`.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskAssign;
use claudebench_generated::types::{TaskAssignInput, TaskAssignOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskAssign<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskAssignInput) -> Result<TaskAssignOutput, Error> {
        // The script checks task and instance, reserves the task and publishes, atomically.
        let task = ctx.tasks().assign(&input.task_id, &input.instance_id).await?;
        // The script stamps `assignedAt` and `updatedAt` with the same instant, and only the
        // latter is part of the task's wire shape.
        Ok(TaskAssignOutput { task_id: task.id, instance_id: input.instance_id, assigned_at: task.updated_at })
    }
}
