//! REST: `POST /{domain}/{action}` for every event, plus the operational endpoints
//! (`/health`, `/metrics`, `/openapi.json`) and JSON 404/405 fallbacks.

use std::collections::HashSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::event::EventDef;
use claudebench_contract::routes;

use super::AppState;
use super::identity::Caller;
use super::wire::{error_response, error_response_with_status, json_ok, malformed_json, too_large_error};
use crate::backend::Payload;
use crate::context::Transport;

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi));
    let mut mounted: HashSet<&str> = HashSet::new();
    for event in state.backend.events() {
        // A bad, reserved or duplicate path must not take the server down (axum panics on
        // those), and the spec checker already rejects them, so skipping with a warning is enough.
        if !is_plain_path(event.http_path) || routes::is_reserved(event.http_path) || !mounted.insert(event.http_path) {
            tracing::warn!(
                event = event.name,
                path = event.http_path,
                "event not mounted: unusable or duplicate HTTP path"
            );
            continue;
        }
        router = router.route(event.http_path, post(move |state, caller, body| call_event(event, state, caller, body)));
    }
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed)
}

/// `/segment/segment…` of lowercase letters, digits, `_`, `-` and `.`: nothing axum would
/// read as a parameter or wildcard.
fn is_plain_path(path: &str) -> bool {
    path.len() > 1
        && path.starts_with('/')
        && path[1..]
            .split('/')
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)))
}

async fn call_event(
    event: &'static EventDef,
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match read_json_body(body, state.config.body_limit) {
        Ok(body) => body,
        Err((status, error)) => return error_response_with_status(status, &error),
    };
    match state.backend.dispatch(event, Payload::Bytes(&body), caller.into_meta(Transport::Http)).await {
        Ok(output) => json_ok(&output),
        Err(error) => error_response(&error),
    }
}

/// The body of a JSON request, or the error to answer: 413 above the size limit, 400 for a
/// body that is not JSON (its `Content-Type` was checked by the browser policy, `origin.rs`).
/// An empty body means `{}`, so events without required input can be called with a bare `POST`.
pub(crate) fn read_json_body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, (StatusCode, Error)> {
    let invalid = |error: Error| (StatusCode::BAD_REQUEST, error);
    let body = match body {
        Ok(body) => body,
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            return Err(too_large_error(limit));
        }
        Err(other) => {
            return Err(invalid(Error::new(
                ErrorCode::Validation,
                format!("could not read the request body: {other}"),
            )));
        }
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Bytes::from_static(b"{}"));
    }
    // A syntax check only (nothing is built): the backend validates the content, but a body
    // that is not JSON at all gets the same answer whatever the backend does with it.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        return Err(invalid(malformed_json(&e)));
    }
    Ok(body)
}

/// 200 when the server can serve requests, 503 otherwise; the body says which dependency is down.
async fn health(State(state): State<AppState>) -> Response {
    let readiness = state.backend.readiness().await;
    let status = if readiness.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(readiness)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], state.backend.metrics_text()).into_response()
}

async fn openapi(State(state): State<AppState>) -> Response {
    match state.config.openapi.clone() {
        Some(document) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], document.to_string())
                .into_response()
        }
        None => error_response(&Error::not_found("this server has no OpenAPI document")),
    }
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Response {
    error_response(&Error::not_found(format!("no route for {method} {}", uri.path())))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    let error = Error::new(ErrorCode::Validation, format!("{method} is not allowed on {}", uri.path()));
    error_response_with_status(StatusCode::METHOD_NOT_ALLOWED, &error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_are_mounted() {
        assert!(is_plain_path("/task/create"));
        assert!(is_plain_path("/system/batch_process"));
        assert!(!is_plain_path("/"));
        assert!(!is_plain_path("/task/{id}"));
        assert!(!is_plain_path("/task//x"));
        assert!(!is_plain_path("task/create"));
    }
}
