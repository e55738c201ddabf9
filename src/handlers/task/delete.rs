//! `task.delete`: Deletes a task in any status: removes it from the pending queue and from its assignee's queue and drops its stored record. A worker that later completes it gets `not_found`. Deleting a task that does not exist is not an error: it returns `deleted: false`, so the call can be retried safely. Publishes `task.deleted`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskDelete;
use claudebench_generated::types::{TaskDeleteInput, TaskDeleteOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskDelete<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskDeleteInput) -> Result<TaskDeleteOutput, Error> {
        Err(Error::not_implemented("task.delete"))
    }
}
