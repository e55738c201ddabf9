//! `task.delete`: Deletes a task in any status: removes it from the pending queue and from its
//! assignee's queue and drops its stored record. A worker that later completes it gets
//! `not_found`. Deleting a task that does not exist is not an error: it returns
//! `deleted: false`, so the call can be retried safely. Publishes `task.deleted`.

use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::handlers::TaskDelete;
use claudebench_generated::types::{TaskDeleteInput, TaskDeleteOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskDelete<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskDeleteInput) -> Result<TaskDeleteOutput, Error> {
        match ctx.tasks().delete(&input.id).await {
            Ok(_) => Ok(TaskDeleteOutput { id: input.id, deleted: true }),
            // Idempotent by contract: "already gone" is an answer, not a failure.
            Err(e) if e.code == ErrorCode::NotFound => Ok(TaskDeleteOutput { id: input.id, deleted: false }),
            Err(e) => Err(e),
        }
    }
}
