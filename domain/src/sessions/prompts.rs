//! The prompts a user submits: inspected for destructive commands, database destruction and
//! secrets (with guidance hints on request, see [`crate::policy::prompt`]) and kept in the
//! session's prompt history (capped, 24 h).

use claudebench_contract::error::Error;
use serde_json::json;

use super::{HISTORY_TTL_SECS, Session, Sessions, now, truncate_chars};
use crate::policy::prompt::{PromptInspection, inspect_prompt};

/// Longest prompt text kept in the history (a pasted log can be megabytes).
const STORED_PROMPT_CHARS: usize = 10_000;

/// What [`Sessions::review_prompt`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptReview {
    pub inspection: PromptInspection,
    /// The prompt with the warnings and hints appended, when there is anything to add.
    pub modified: Option<String>,
}

impl Sessions {
    /// Inspect a submitted prompt (`enhance`: add guidance hints), keep it in the session's
    /// history, publish `hook.user_prompt.executed` and refresh the session's instance.
    pub async fn review_prompt(&self, session: &Session, prompt: &str, enhance: bool) -> Result<PromptReview, Error> {
        let inspection = inspect_prompt(prompt, enhance);
        let modified = inspection.additions().map(|extra| format!("{prompt}\n\n{extra}"));
        let (_, iso) = now();

        let entry = json!({
            "prompt": truncate_chars(prompt, STORED_PROMPT_CHARS),
            "warnings": inspection.warnings,
            "hints": inspection.hints,
            "at": iso,
        });
        let mut pipe = redis::pipe();
        pipe.atomic();
        Sessions::push_history(&mut pipe, &self.keys.hook_prompts(&session.key), entry.to_string(), HISTORY_TTL_SECS);
        self.exec::<()>(&pipe).await?;

        // The event carries what was found, not the prompt: events fan out to every subscriber,
        // and prompts can contain the very secrets the warning is about.
        let executed = json!({
            "sessionId": session.id,
            "warnings": inspection.warnings,
            "hints": inspection.hints,
            "modified": modified.is_some(),
            "promptLength": prompt.chars().count(),
            "timestamp": iso,
        });
        self.bus.publish("hook.user_prompt.executed", &executed).await?;
        self.touch(session).await;
        Ok(PromptReview { inspection, modified })
    }
}
