//! `task.update`: Changes a task's text, status, priority or metadata and returns the updated task. Only the fields present in `updates` change; `updates: {}` is allowed and just returns the task. `metadata` is merged key by key into the existing metadata. A priority change re-orders a pending task in the queue. Fails with `not_found` when the task does not exist. Publishes `task.updated`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskUpdate;
use claudebench_generated::types::{TaskUpdateInput, TaskUpdateOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskUpdate<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskUpdateInput) -> Result<TaskUpdateOutput, Error> {
        Err(Error::not_implemented("task.update"))
    }
}
