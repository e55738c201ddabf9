//! `hook.stop` (and its alias `hook.agent_stop`): records that Claude or a subagent finished its
//! turn and reports the session's in-progress tasks. Never asks Claude to continue.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookStop;
use claudebench_generated::types::{HookStopInput, HookStopOutput};

use super::common::{SESSION_STATE_TTL_SECS, Session, count, in_progress_tasks, now, redis_error, touch_session};
use crate::handlers::{Ctx, Handlers};

impl HookStop<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookStopInput) -> Result<HookStopOutput, Error> {
        let named = Session::named(input.session_id.as_deref(), ctx);
        let session = named.clone().unwrap_or_else(|| Session::resolve(None, ctx));
        let (_, iso) = now();
        let key = ctx.domain.runtime.keys.hook_session(&session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HINCRBY").arg(&key).arg(if input.subagent { "subagentStops" } else { "stops" }).arg(1).ignore();
        pipe.cmd("HSET")
            .arg(&key)
            .arg("lastStopAt")
            .arg(&iso)
            .arg("lastStopSubagent")
            .arg(input.subagent.to_string())
            .ignore();
        if let Some(t) = &input.agent_type {
            pipe.cmd("HSET").arg(&key).arg("lastAgentType").arg(t).ignore();
        }
        if let Some(a) = &input.agent_id {
            pipe.cmd("HSET").arg(&key).arg("lastAgentId").arg(a).ignore();
        }
        pipe.cmd("EXPIRE").arg(&key).arg(SESSION_STATE_TTL_SECS).ignore();
        let mut con = ctx.redis();
        pipe.query_async::<()>(&mut con).await.map_err(redis_error)?;

        // Only a named session has an instance whose tasks can be counted.
        let in_progress = match &named {
            Some(s) => Some(count(in_progress_tasks(ctx, &mut con, &s.instance_id()).await?.1)),
            None => None,
        };
        touch_session(ctx, &session).await;
        Ok(HookStopOutput { acknowledged: true, in_progress_tasks: in_progress })
    }
}
