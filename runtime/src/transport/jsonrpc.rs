//! JSON-RPC 2.0 at `POST /rpc` (and `/rpc/batch`, the original's batch route), also spoken on
//! the WebSocket.
//!
//! Differences from the original, on purpose: `metadata` is used for the caller's identity,
//! every error code in [`ErrorCode::jsonrpc_code`] is really emitted (with the serialized
//! [`Error`] as `data`), and errors answer HTTP 200 like every JSON-RPC response, while a body
//! above the size limit is still an HTTP-level 413.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use claudebench_generated::error::{Error, ErrorCode};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::AppState;
use super::identity::{Caller, clean_id};
use super::wire::{error_response, json_ok, too_large};
use crate::backend::{Backend, Payload};
use crate::context::{RequestMeta, Transport};

/// Standard JSON-RPC 2.0 error codes the transport itself produces.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;

/// How many requests of one batch run at the same time (results keep the request order).
const BATCH_CONCURRENCY: usize = 32;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/rpc", post(rpc)).route("/rpc/batch", post(rpc))
}

async fn rpc(State(state): State<AppState>, caller: Caller, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            return too_large(state.config.body_limit);
        }
        Err(other) => {
            return error_response(&Error::new(
                ErrorCode::Validation,
                format!("could not read the request body: {other}"),
            ));
        }
    };
    match handle_bytes(state.backend.as_ref(), &body, &caller.meta(Transport::JsonRpc)).await {
        Some(response) => json_ok(&response),
        // Only notifications: nothing to answer.
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Answer one JSON-RPC message (a request, a notification or a batch) given as raw text.
/// `None` when nothing is to be sent back (notifications only).
pub async fn handle_bytes(backend: &dyn Backend, body: &[u8], base: &RequestMeta) -> Option<Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(message) => handle_message(backend, message, base).await,
        Err(e) => Some(error_object(Value::Null, PARSE_ERROR, format!("Parse error: {e}"), None)),
    }
}

/// Answer one parsed JSON-RPC message (a request, a notification or a batch).
pub async fn handle_message(backend: &dyn Backend, message: Value, base: &RequestMeta) -> Option<Value> {
    match message {
        Value::Array(items) if items.is_empty() => {
            Some(error_object(Value::Null, INVALID_REQUEST, "Invalid Request: empty batch".into(), None))
        }
        Value::Array(items) => {
            let responses: Vec<Value> = futures_util::stream::iter(items)
                .map(|item| handle_single(backend, item, base))
                .buffered(BATCH_CONCURRENCY)
                .filter_map(std::future::ready)
                .collect()
                .await;
            (!responses.is_empty()).then_some(Value::Array(responses))
        }
        single => handle_single(backend, single, base).await,
    }
}

/// A decoded request envelope.
struct Envelope {
    method: String,
    params: Value,
    /// `None` = a notification (the `id` member is absent; `"id": null` is a request).
    id: Option<Value>,
    metadata: Map<String, Value>,
}

async fn handle_single(backend: &dyn Backend, item: Value, base: &RequestMeta) -> Option<Value> {
    let envelope = match decode(item) {
        Ok(envelope) => envelope,
        Err((id, detail)) => {
            return Some(error_object(id, INVALID_REQUEST, format!("Invalid Request: {detail}"), None));
        }
    };
    let Some(event) = backend.resolve(&envelope.method) else {
        let id = envelope.id?;
        return Some(error_object(id, METHOD_NOT_FOUND, format!("Method not found: {}", envelope.method), None));
    };
    let meta = caller_meta(base, &envelope.metadata);
    // Notifications are executed too; only their outcome is not sent back.
    let outcome = backend.dispatch(event, Payload::Value(envelope.params), meta).await;
    let id = envelope.id?;
    Some(match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(error) => error_from(id, &error),
    })
}

/// Check the envelope. On failure, the id to answer with (null when it is unusable) and why.
fn decode(item: Value) -> Result<Envelope, (Value, String)> {
    let Value::Object(mut object) = item else {
        return Err((Value::Null, "a request must be an object".into()));
    };
    let id = match object.remove("id") {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_) | Value::Null)) => Some(id),
        Some(_) => {
            return Err((Value::Null, "`id` must be a string, a number or null".into()));
        }
    };
    let answer_id = id.clone().unwrap_or(Value::Null);
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err((answer_id, "`jsonrpc` must be \"2.0\"".into()));
    }
    let method = match object.remove("method") {
        Some(Value::String(method)) if !method.is_empty() => method,
        _ => return Err((answer_id, "`method` must be a non-empty string".into())),
    };
    let params = match object.remove("params") {
        None => Value::Object(Map::new()),
        Some(params @ (Value::Object(_) | Value::Array(_))) => params,
        Some(_) => return Err((answer_id, "`params` must be an object or an array".into())),
    };
    let metadata = match object.remove("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(metadata)) => metadata,
        Some(_) => return Err((answer_id, "`metadata` must be an object".into())),
    };
    Ok(Envelope { method, params, id, metadata })
}

/// The transport's identity, refined by the envelope's `metadata` (which names the session
/// and correlation; its `clientId` wins over the `X-Client-Id` header because it is more
/// specific to the request).
fn caller_meta(base: &RequestMeta, metadata: &Map<String, Value>) -> RequestMeta {
    let field = |name: &str| metadata.get(name).and_then(Value::as_str).and_then(clean_id);
    let mut meta = base.clone();
    if let Some(client) = field("clientId") {
        meta.client_id = Some(client);
    }
    if let Some(session) = field("sessionId") {
        meta.session_id = Some(session);
    }
    if let Some(correlation) = field("correlationId") {
        meta.correlation_id = Some(correlation);
    }
    meta
}

/// A JSON-RPC error response for a pipeline error: its own code, its message, and the whole
/// error (issues, retryAfterMs) as `data`.
pub fn error_from(id: Value, error: &Error) -> Value {
    let data = serde_json::to_value(error).ok();
    error_object(id, error.code.jsonrpc_code(), error.message.clone(), data)
}

/// `{"jsonrpc":"2.0","error":{code,message,data?},"id":…}` (`data` omitted, not null, when absent).
pub fn error_object(id: Value, code: i64, message: String, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(data), Value::Object(object)) = (data, &mut error) {
        object.insert("data".into(), data);
    }
    json!({ "jsonrpc": "2.0", "error": error, "id": id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_id_is_a_notification_but_a_null_id_is_a_request() {
        let notification = decode(json!({"jsonrpc": "2.0", "method": "task.get"})).ok().unwrap();
        assert_eq!(notification.id, None);
        let request = decode(json!({"jsonrpc": "2.0", "method": "task.get", "id": null})).ok().unwrap();
        assert_eq!(request.id, Some(Value::Null));
    }

    #[test]
    fn envelope_errors_keep_a_usable_id() {
        let (id, _) = decode(json!({"jsonrpc": "1.0", "method": "x", "id": 7})).err().unwrap();
        assert_eq!(id, json!(7));
        let (id, _) = decode(json!({"jsonrpc": "2.0", "method": "x", "id": {"a": 1}})).err().unwrap();
        assert_eq!(id, Value::Null);
        let (_, why) = decode(json!({"jsonrpc": "2.0", "method": "x", "params": 3, "id": 1})).err().unwrap();
        assert!(why.contains("params"));
    }

    #[test]
    fn metadata_names_the_session_and_overrides_the_header_client() {
        let mut base = RequestMeta::new(Transport::JsonRpc);
        base.client_id = Some("from-header".into());
        let metadata = json!({"sessionId": "s-1", "clientId": "c-1", "correlationId": 5}).as_object().unwrap().clone();
        let meta = caller_meta(&base, &metadata);
        assert_eq!(meta.session_id.as_deref(), Some("s-1"));
        assert_eq!(meta.client_id.as_deref(), Some("c-1"));
        assert_eq!(meta.correlation_id, None, "a non-string correlation id is ignored");
    }

    #[test]
    fn error_objects_omit_data_rather_than_sending_null() {
        let e = error_object(json!(1), METHOD_NOT_FOUND, "Method not found: x".into(), None);
        assert!(e["error"].get("data").is_none());
        let e = error_from(json!(1), &Error::new(ErrorCode::RateLimited, "slow down"));
        assert_eq!(e["error"]["code"], json!(-32000));
        assert_eq!(e["error"]["data"]["code"], json!("rate_limited"));
    }
}
