//! `hook.stop`: Records that Claude (or, with `subagent: true`, a subagent) finished its turn, and reports how many tasks the session's instance still has in progress. Never asks Claude to continue: the bridge does not block stopping.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookStop;
use claudebench_generated::types::{HookStopInput, HookStopOutput};

use crate::handlers::{Ctx, Handlers};

impl HookStop<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookStopInput) -> Result<HookStopOutput, Error> {
        Err(Error::not_implemented("hook.stop"))
    }
}
