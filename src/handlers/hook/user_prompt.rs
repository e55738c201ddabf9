//! `hook.user_prompt`: warns about destructive commands, database destruction and secrets in a
//! prompt, adds guidance hints on request, and keeps the prompt in the session's history (24 h).

use claudebench_domain::policy::prompt::inspect_prompt;
use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookUserPrompt;
use claudebench_generated::types::{HookUserPromptInput, HookUserPromptOutput};
use serde_json::json;

use super::common::{HISTORY_CAP, HISTORY_TTL_SECS, Session, now, redis_error, touch_session, truncate_chars};
use crate::handlers::{Ctx, Handlers};

/// Longest prompt text kept in the history (a pasted log can be megabytes).
const STORED_PROMPT_CHARS: usize = 10_000;

impl HookUserPrompt<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookUserPromptInput) -> Result<HookUserPromptOutput, Error> {
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        let inspection = inspect_prompt(&input.prompt, input.context.enhance == Some(true));
        let modified = inspection.additions().map(|extra| format!("{}\n\n{extra}", input.prompt));
        let (_, iso) = now();

        let entry = json!({
            "prompt": truncate_chars(&input.prompt, STORED_PROMPT_CHARS),
            "warnings": inspection.warnings,
            "hints": inspection.hints,
            "at": iso,
        });
        let key = ctx.domain.runtime.keys.hook_prompts(&session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("LPUSH").arg(&key).arg(entry.to_string()).ignore();
        pipe.cmd("LTRIM").arg(&key).arg(0).arg(HISTORY_CAP - 1).ignore();
        pipe.cmd("EXPIRE").arg(&key).arg(HISTORY_TTL_SECS).ignore();
        let mut con = ctx.redis();
        pipe.query_async::<()>(&mut con).await.map_err(redis_error)?;

        // The event carries what was found, not the prompt: events fan out to every subscriber,
        // and prompts can contain the very secrets the warning is about.
        let executed = json!({
            "sessionId": session.id,
            "warnings": inspection.warnings,
            "hints": inspection.hints,
            "modified": modified.is_some(),
            "promptLength": input.prompt.chars().count(),
            "timestamp": iso,
        });
        ctx.domain.runtime.bus.publish("hook.user_prompt.executed", &executed).await?;
        touch_session(ctx, &session).await;
        Ok(HookUserPromptOutput { modified })
    }
}
