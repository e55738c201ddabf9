//! `POST /hooks/claude-code`: Claude Code's HTTP hooks (and the `claudebench hook` bridge) post
//! the hook's input here, exactly as Claude Code sends it; the spec's hook table
//! ([`crate::claude_code`]) picks the event, builds its input, runs it through the same pipeline
//! as every call, and the answer is Claude Code's hook output.
//!
//! - `200` with the hook output (`{}` when there is nothing to say), including a `forbidden`
//!   refusal turned into a deny or block;
//! - a non-2xx with the error body otherwise (bad input, rate limits, the server failing): Claude
//!   Code treats that as a non-blocking hook error and carries on, i.e. fails open. The bridge
//!   reads the same answers and can fail closed instead (`--on-error`).
//!
//! `?approve=1` makes PreToolUse answer `allow` for allowed calls (see
//! [`crate::claude_code::AnswerOptions`]). Each Claude Code session is its own caller for rate
//! limits (`claude-code:<session_id>`), whatever `X-Client-Id` says.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::Uri;
use axum::response::Response;
use axum::routing::post;
use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::routes::CLAUDE_CODE_HOOKS;
use serde_json::Value;

use super::AppState;
use super::http::read_json_body;
use super::identity::{Caller, clean_id};
use super::wire::{error_response, error_response_with_status, json_ok};
use crate::backend::Payload;
use crate::claude_code::{self, AnswerOptions};
use crate::context::Transport;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route(CLAUDE_CODE_HOOKS, post(hook))
}

async fn hook(
    State(state): State<AppState>,
    uri: Uri,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match read_json_body(body, state.config.body_limit) {
        Ok(body) => body,
        Err((status, error)) => return error_response_with_status(status, &error),
    };
    let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(&body) else {
        return error_response(&Error::new(ErrorCode::Validation, "a Claude Code hook input is a JSON object"));
    };
    let Some(route) = claude_code::route(state.backend.hook_routes(), &input) else {
        return error_response(&Error::new(
            ErrorCode::Validation,
            "the hook input has no `hook_event_name` string, or no route serves it",
        ));
    };
    let Some(event) = state.backend.resolve(route.event) else {
        return error_response(&Error::internal(format!(
            "the hook table names `{}`, which is not served",
            route.event
        )));
    };
    let mut meta = caller.into_meta(Transport::Hook);
    let session = input.get("session_id").and_then(Value::as_str).filter(|s| !s.is_empty());
    meta.session_id = session.map(str::to_string);
    meta.client_id =
        Some(session.and_then(|s| clean_id(&format!("claude-code:{s}"))).unwrap_or_else(|| "claude-code-hook".into()));
    let approve =
        uri.query().unwrap_or_default().split('&').any(|p| matches!(p, "approve" | "approve=1" | "approve=true"));
    let params = claude_code::params(route, &input);
    match state.backend.dispatch(event, Payload::Value(params), meta).await {
        Ok(output) => json_ok(&claude_code::answer(route, &input, &output, AnswerOptions { approve_allowed: approve })),
        Err(error) => match claude_code::refusal(&input, &error) {
            Some(answer) => json_ok(&answer),
            None => error_response(&error),
        },
    }
}
