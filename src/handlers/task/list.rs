//! `task.list`: Lists tasks, oldest first (ties broken by id), optionally filtered by status and by assignee. Pages with `limit` (default 50, at most 200) and `offset`; `total` counts every task matching the filters and `nextOffset` is the offset of the next page, or `null` on the last page. Send `assignedTo: null` to list only unassigned tasks.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskList;
use claudebench_generated::types::{TaskListInput, TaskListOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskList<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TaskListInput) -> Result<TaskListOutput, Error> {
        Err(Error::not_implemented("task.list"))
    }
}
