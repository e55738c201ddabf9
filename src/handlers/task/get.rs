//! `task.get`: Returns one task with its current status, assignee, result or error. Fails with
//! `not_found` when it does not exist.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskGet;
use claudebench_generated::types::{TaskGetInput, TaskGetOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskGet<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskGetInput) -> Result<TaskGetOutput, Error> {
        ctx.tasks().get(&input.id).await
    }
}
