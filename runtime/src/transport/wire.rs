//! The HTTP wire form of results and of the one error model.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::issue::{Issue, IssueCode};
use serde_json::{Value, json};

/// `{"error": {code, message, issues?, retryAfterMs?}}` with the code's HTTP status, plus
/// `Retry-After` (whole seconds, rounded up) when the error says when to retry.
pub(crate) fn error_response(error: &Error) -> Response {
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_response_with_status(status, error)
}

/// The error body with an explicit status (413 has no error code of its own).
pub(crate) fn error_response_with_status(status: StatusCode, error: &Error) -> Response {
    let mut response = (status, axum::Json(json!({ "error": error }))).into_response();
    if let Some(value) = retry_after_seconds(error).and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Whole seconds for `Retry-After`, at least 1: rate limits, open circuits, and an
/// `unavailable` that knows when to come back (task state being recovered, ids being reserved).
pub(crate) fn retry_after_seconds(error: &Error) -> Option<u64> {
    match error.code {
        ErrorCode::RateLimited | ErrorCode::CircuitOpen => {
            Some(error.retry_after_ms.unwrap_or(1000).div_ceil(1000).max(1))
        }
        ErrorCode::Unavailable => error.retry_after_ms.map(|ms| ms.div_ceil(1000).max(1)),
        _ => None,
    }
}

/// A 200 with a JSON body that is already a `Value`.
pub(crate) fn json_ok(value: &Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// 200 with JSON already turned into text.
pub(crate) fn json_text(text: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], text).into_response()
}

/// A `validation` error for a body that is not JSON at all.
pub(crate) fn malformed_json(detail: &serde_json::Error) -> Error {
    let issue = Issue {
        path: String::new(),
        code: IssueCode::InvalidType,
        message: format!("the body is not valid JSON: {detail}"),
    };
    Error::validation(vec![issue])
}

/// The error for a body above the configured size limit (413, in the `validation` shape).
pub(crate) fn too_large_error(limit: usize) -> (StatusCode, Error) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Error::new(ErrorCode::Validation, format!("the request body exceeds the limit of {limit} bytes")),
    )
}

pub(crate) fn too_large(limit: usize) -> Response {
    let (status, error) = too_large_error(limit);
    error_response_with_status(status, &error)
}
