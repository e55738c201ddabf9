//! `task.assign`: Assigns a pending, unassigned task to a registered, healthy instance and appends it to that instance's queue. The task stays `pending` until the instance claims it with `task.claim`. Fails with `not_found` for an unknown task or instance and with `conflict` when the task is already assigned or finished, or the instance is offline. Publishes `task.assigned`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskAssign;
use claudebench_generated::types::{TaskAssignInput, TaskAssignOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskAssign<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskAssignInput) -> Result<TaskAssignOutput, Error> {
        Err(Error::not_implemented("task.assign"))
    }
}
