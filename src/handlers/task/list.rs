//! `task.list`: Lists tasks, oldest first (ties broken by id), newest first with `order:
//! newest`, or pending tasks in claim order (priority, then age) with `order: claim`, optionally
//! filtered by status and by assignee. Pages with `limit` (default 50, at most 200) and `offset`;
//! `total` counts every task matching the filters and `nextOffset` is the offset of the next page,
//! or `null` on the last page. Send `assignedTo: null` to list only unassigned tasks.

use claudebench_domain::coordination::tasks::{ListOrder, TaskQuery};
use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskList;
use claudebench_generated::types::{TaskListInput, TaskListInputOrder, TaskListOutput};

use super::count;
use crate::handlers::{Ctx, Handlers};

impl TaskList<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskListInput) -> Result<TaskListOutput, Error> {
        let offset = count("offset", input.offset)?;
        let query = TaskQuery {
            status: input.status,
            // Absent: any assignee; `null`: unassigned only; a string: that instance only.
            unassigned_only: matches!(input.assigned_to, Some(None)),
            assigned_to: input.assigned_to.flatten(),
            offset,
            limit: count("limit", input.limit)?,
            // The indexes are scored by the creation sequence, which is unique per task, so
            // oldest-first is also the spec's "ties broken by id" order (and newest-first its reverse).
            order: match input.order {
                TaskListInputOrder::Oldest => ListOrder::Oldest,
                TaskListInputOrder::Newest => ListOrder::Newest,
                TaskListInputOrder::Claim => ListOrder::Claim,
            },
        };
        let page = ctx.tasks().list(&query).await?;
        let total = i64::try_from(page.total).unwrap_or(i64::MAX);
        let end = offset.saturating_add(page.tasks.len());
        let next_offset = (u64::try_from(end).unwrap_or(u64::MAX) < page.total && !page.tasks.is_empty())
            .then(|| i64::try_from(end).unwrap_or(i64::MAX));
        Ok(TaskListOutput { tasks: page.tasks, total, next_offset })
    }
}
