//! `hook.pre_compact`: Saves a snapshot of the session's todo list and in-progress tasks before Claude Code compacts the conversation, so that `hook.session_start` with `source: compact` can remind Claude of open work afterwards.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreCompact;
use claudebench_generated::types::{HookPreCompactInput, HookPreCompactOutput};

use crate::handlers::{Ctx, Handlers};

impl HookPreCompact<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookPreCompactInput) -> Result<HookPreCompactOutput, Error> {
        Err(Error::not_implemented("hook.pre_compact"))
    }
}
