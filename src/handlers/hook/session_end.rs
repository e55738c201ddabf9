//! `hook.session_end`: Unregisters the session's instance (`claude-code-<first 8 characters of sessionId>`), releases its tasks back to the pending queue and forgets the session's todo state. Same effect as `system.unregister` for that instance.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookSessionEnd;
use claudebench_generated::types::{HookSessionEndInput, HookSessionEndOutput};

use crate::handlers::{Ctx, Handlers};

impl HookSessionEnd<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: HookSessionEndInput) -> Result<HookSessionEndOutput, Error> {
        Err(Error::not_implemented("hook.session_end"))
    }
}
