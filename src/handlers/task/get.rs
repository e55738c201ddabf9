//! `task.get`: Returns one task with its current status, assignee, result or error. Fails with `not_found` when it does not exist.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskGet;
use claudebench_generated::types::{TaskGetInput, TaskGetOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskGet<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskGetInput) -> Result<TaskGetOutput, Error> {
        Err(Error::not_implemented("task.get"))
    }
}
