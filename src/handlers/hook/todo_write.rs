//! `hook.todo_write`: Receives the full todo list Claude Code wrote with TodoWrite and compares it, by `content`, with the previous list of the same session (todos sent without a `sessionId` share one `default` session). Each new todo that is not completed becomes a task (priority 75 when in progress, else 50; metadata records the source, session and `activeForm`), so the queue mirrors what Claude is working on; `createdTasks` lists their ids. Status changes are recorded in the session's history, and `changes` counts what changed. Publishes `hook.todo_write.executed`.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookTodoWrite;
use claudebench_generated::types::{HookTodoWriteInput, HookTodoWriteOutput};

use crate::handlers::{Ctx, Handlers};

impl HookTodoWrite<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookTodoWriteInput) -> Result<HookTodoWriteOutput, Error> {
        Err(Error::not_implemented("hook.todo_write"))
    }
}
