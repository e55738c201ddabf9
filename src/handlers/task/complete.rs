//! `task.complete`: the worker a task is assigned to finishes it, with a result (`completed`)
//! or an error (`failed`). Retrying the same completion answers the same; anyone but the
//! assignee gets `conflict`.

use claudebench_domain::coordination::tasks::Outcome;
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::handlers::TaskComplete;
use claudebench_generated::types::{TaskCompleteInput, TaskCompleteOutput, TaskCompleteOutputStatus, TaskStatus};

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
            // Failure is explicit (`error`); any result, missing or null included, completes the task.
            (None, Some(error)) => Outcome::Failed(error),
            (result, None) => Outcome::Completed(result),
        };
        // The domain counts a task that reached `completed` (not a failure) in
        // `system.metrics.tasksCompleted`.
        let done = ctx.tasks().complete(&id, &input.worker_id, outcome).await?;
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
        Ok(TaskCompleteOutput { id: done.task.id, status, completed_at, duration_ms: done.duration_ms.max(0) })
    }
}
