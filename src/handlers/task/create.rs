//! `task.create`: Creates a task and adds it to the pending queue, ordered by priority (highest first) and then by age. The task starts `pending` and unassigned; workers pick it up with `task.claim`, or an instance is chosen explicitly with `task.assign`. Publishes `task.created`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskCreate;
use claudebench_generated::types::{TaskCreateInput, TaskCreateOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskCreate<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskCreateInput) -> Result<TaskCreateOutput, Error> {
        Err(Error::not_implemented("task.create"))
    }
}
