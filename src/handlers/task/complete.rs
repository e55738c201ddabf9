//! `task.complete`: Finishes a task assigned to or claimed by a worker. Send `result` (any JSON
//! value, optional) when the work succeeded — the task becomes `completed` — or `error` with a
//! message when it failed — the task becomes `failed`. Sending neither completes the task
//! without a result; sending both is rejected. Identify the task with `id` or `taskId` (`id`
//! wins when both are sent). When `workerId` is given it must be the task's assignee. Fails
//! with `not_found` for an unknown task and with `conflict` when the task is not assigned or
//! already finished. Publishes `task.completed`.

use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::handlers::TaskComplete;
use claudebench_generated::types::{TaskCompleteInput, TaskCompleteOutput, TaskCompleteOutputStatus};
use claudebench_runtime::coordination::tasks::{Outcome, TaskStatus};

use crate::handlers::{Ctx, Handlers};

impl TaskComplete<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskCompleteInput) -> Result<TaskCompleteOutput, Error> {
        // The spec's rules are enforced by input validation already; they are re-checked so an
        // internal caller bypassing validation cannot complete "no task" or send both outcomes.
        let Some(id) = input.id.or(input.task_id) else {
            return Err(Error::new(ErrorCode::Validation, "Either 'id' or 'taskId' must be provided"));
        };
        let outcome = match (input.result, input.error) {
            (Some(_), Some(_)) => {
                return Err(Error::new(ErrorCode::Validation, "Send either 'result' or 'error', not both"));
            }
            // Failure is explicit: the original treated a missing or falsy result as failure.
            (None, Some(error)) => Outcome::Failed(error),
            (result, None) => Outcome::Completed(result),
        };
        let done = ctx.coord().tasks.complete(&mut ctx.redis(), &id, input.worker_id.as_deref(), outcome).await?;
        let status = match done.task.status {
            TaskStatus::Completed => TaskCompleteOutputStatus::Completed,
            TaskStatus::Failed => TaskCompleteOutputStatus::Failed,
            other => {
                return Err(Error::internal(format!("task {id} is {other} right after completing it")));
            }
        };
        let completed_at = done
            .task
            .completed_at
            .ok_or_else(|| Error::internal(format!("task {id} has no completedAt right after completing it")))?;
        // `system.metrics.tasksCompleted` counts tasks that reached `completed`, not failures.
        if status == TaskCompleteOutputStatus::Completed {
            ctx.services.metrics.task_completed();
        }
        Ok(TaskCompleteOutput { id: done.task.id, status, completed_at, duration_ms: done.duration_ms.max(0) })
    }
}
