//! `task.update`: Changes a task's text, status, priority or metadata and returns the updated
//! task. Only the fields present in `updates` change; `updates: {}` is allowed and just returns
//! the task. `metadata` is merged key by key into the existing metadata. A priority change
//! re-orders a pending task in the queue. Fails with `not_found` when the task does not exist.
//! Publishes `task.updated`.

use claudebench_domain::coordination::tasks;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskUpdate;
use claudebench_generated::types::{TaskUpdateInput, TaskUpdateOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskUpdate<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskUpdateInput) -> Result<TaskUpdateOutput, Error> {
        let update = tasks::TaskUpdate::from(input.updates);
        let tasks = ctx.tasks();
        // An empty update changes nothing, so it must not bump `updatedAt` or publish a
        // `task.updated` that would tell subscribers (and the SQL outbox) about a non-change.
        if update == tasks::TaskUpdate::default() {
            tasks.get(&input.id).await
        } else {
            tasks.update(&input.id, update).await
        }
    }
}
