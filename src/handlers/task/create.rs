//! `task.create`: Creates a task and adds it to the pending queue, ordered by priority (highest
//! first) and then by age. The task starts `pending` and unassigned; workers pick it up with
//! `task.claim`, or an instance is chosen explicitly with `task.assign`. Publishes
//! `task.created`.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TaskCreate;
use claudebench_generated::types::{TaskCreateInput, TaskCreateOutput};

use crate::handlers::{Ctx, Handlers};

impl TaskCreate<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: TaskCreateInput) -> Result<TaskCreateOutput, Error> {
        // The id comes from a cluster-wide Redis counter inside the create script, so two
        // instances creating in the same millisecond never collide (a time-based id could). The
        // same script checks the caller's rate limit (the pipeline left it to this handler).
        ctx.tasks().create_limited(input.into(), ctx.own_limit.as_ref()).await
    }
}
