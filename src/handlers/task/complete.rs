//! `task.complete`: Finishes a task assigned to or claimed by a worker. Send `result` (any JSON value, optional) when the work succeeded — the task becomes `completed` — or `error` with a message when it failed — the task becomes `failed`. Sending neither completes the task without a result; sending both is rejected. Identify the task with `id` or `taskId` (`id` wins when both are sent). When `workerId` is given it must be the task's assignee. Fails with `not_found` for an unknown task and with `conflict` when the task is not assigned or already finished. Publishes `task.completed`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskComplete;
use claudebench_generated::types::{TaskCompleteInput, TaskCompleteOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskComplete<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskCompleteInput) -> Result<TaskCompleteOutput, Error> {
        Err(Error::not_implemented("task.complete"))
    }
}
