//! JSON-RPC 2.0 at `POST /rpc` (and `/rpc/batch`, kept for clients that send batches there), also
//! spoken on the WebSocket.
//!
//! Every error code in [`ErrorCode::jsonrpc_code`] is really emitted (with the serialized [`Error`] as `data`), and errors answer HTTP 200 like every
//! JSON-RPC response, while a body above the size limit is still an HTTP-level 413.
//!
//! Bounded work per message ([`RpcLimits`]): a batch has at most `max_batch` requests (a longer
//! one is refused whole, -32010), and its answer at most `max_response_bytes`: past it, requests
//! not yet started are not run (-32010) and answers that do not fit are replaced (-32011: the
//! request ran). The caller is who the transport says (`X-Client-Id`, else the connection): the
//! envelope's `metadata` names a session and a correlation id for the handlers and the logs, never
//! a rate-limit identity, so a batch cannot spread itself over invented callers.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use claudebench_contract::error::{Error, ErrorCode};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::AppState;
use super::identity::{Caller, clean_id};
use super::wire::{error_response, json_text, too_large};
use crate::backend::{Backend, Payload};
use crate::context::{RequestMeta, Transport};

/// The protocol errors this transport answers (their one definition is the wire contract).
pub use claudebench_contract::jsonrpc::{
    ANSWER_TOO_LARGE, INVALID_REQUEST, METHOD_NOT_FOUND, NOT_RUN_TOO_LARGE, PARSE_ERROR,
};

/// Largest integer id answered as sent: beyond ±(2^53 − 1) JSON numbers lose precision in most
/// clients, so such an id could not be matched to its request.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// How much one JSON-RPC message may make the server do and send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcLimits {
    /// Most requests in one batch; a longer batch is refused whole (-32010).
    pub max_batch: usize,
    /// Most bytes of one answer (a batch's answers together).
    pub max_response_bytes: usize,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits { max_batch: 100, max_response_bytes: 8 * 1024 * 1024 }
    }
}

/// How many requests of one batch run at the same time (results keep the request order). Each
/// running request holds its output as a `Value`, several times its text; 8 keeps a batch of
/// large answers small in memory and is plenty for I/O-bound events.
const BATCH_CONCURRENCY: usize = 8;

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
    let limits = state.config.rpc;
    match handle_bytes(state.backend.as_ref(), &body, &caller.meta(Transport::JsonRpc), limits).await {
        Some(answer) => json_text(answer),
        // Only notifications: nothing to answer.
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Answer one JSON-RPC message (a request, a notification or a batch) given as raw text, with
/// the answer's JSON text. `None` when nothing is to be sent back (notifications only).
pub async fn handle_bytes(backend: &dyn Backend, body: &[u8], base: &RequestMeta, limits: RpcLimits) -> Option<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(message) => handle_message(backend, message, base, limits).await,
        Err(e) => Some(error_object(Value::Null, PARSE_ERROR, format!("Parse error: {e}"), None).to_string()),
    }
}

/// Answer one parsed JSON-RPC message (a request, a notification or a batch) with the answer's
/// JSON text. Each answer is turned into text as soon as it is ready: text is several times
/// smaller than a `Value` tree, and the response limit counts text.
pub async fn handle_message(
    backend: &dyn Backend,
    message: Value,
    base: &RequestMeta,
    limits: RpcLimits,
) -> Option<String> {
    let budget = Budget::new(limits.max_response_bytes);
    match message {
        Value::Array(items) if items.is_empty() => {
            Some(error_object(Value::Null, INVALID_REQUEST, "Invalid Request: empty batch".into(), None).to_string())
        }
        Value::Array(items) if items.len() > limits.max_batch => {
            let message = format!(
                "batch of {} requests is longer than the limit of {}; nothing was run: split it",
                items.len(),
                limits.max_batch
            );
            Some(error_object(Value::Null, NOT_RUN_TOO_LARGE, message, None).to_string())
        }
        Value::Array(items) => {
            let answers: Vec<String> = futures_util::stream::iter(items)
                .map(|item| handle_single(backend, item, base, &budget))
                .buffered(BATCH_CONCURRENCY)
                .filter_map(std::future::ready)
                .collect()
                .await;
            (!answers.is_empty()).then(|| format!("[{}]", answers.join(",")))
        }
        single => handle_single(backend, single, base, &budget).await,
    }
}

/// The bytes one answer may still take. Requests of a batch run concurrently, so the check is
/// made twice: before a request starts (once the answer is full, nothing more runs) and when
/// its answer is counted (an answer that does not fit is replaced by a -32011 error).
struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Budget { limit, used: AtomicUsize::new(0) }
    }

    fn exhausted(&self) -> bool {
        self.used.load(Ordering::Relaxed) >= self.limit
    }

    /// Count `answer`, or the error to send instead when it does not fit.
    fn admit(&self, id: Value, answer: String) -> String {
        let before = self.used.fetch_add(answer.len(), Ordering::Relaxed);
        if before + answer.len() <= self.limit {
            return answer;
        }
        // The error is small; counting it keeps the whole answer near the limit.
        let error = too_large_answer(id, true, self.limit);
        self.used.fetch_add(error.len(), Ordering::Relaxed);
        error
    }
}

/// The error for one request of an answer that is full: -32011 when it ran, -32010 when it did
/// not (a mutation that ran must not look like one that did not).
fn too_large_answer(id: Value, ran: bool, limit: usize) -> String {
    let error = if ran {
        let message = format!("the request ran, but its answer does not fit in the response limit of {limit} bytes");
        error_object(id, ANSWER_TOO_LARGE, message, None)
    } else {
        let message = format!("not run: the batch's answer already reached the response limit of {limit} bytes");
        error_object(id, NOT_RUN_TOO_LARGE, message, None)
    };
    error.to_string()
}

/// A decoded request envelope.
struct Envelope {
    method: String,
    params: Value,
    /// `None` = a notification (the `id` member is absent; `"id": null` is a request).
    id: Option<Value>,
    metadata: Map<String, Value>,
}

async fn handle_single(backend: &dyn Backend, item: Value, base: &RequestMeta, budget: &Budget) -> Option<String> {
    let envelope = match decode(item) {
        Ok(envelope) => envelope,
        Err((id, detail)) => {
            return Some(error_object(id, INVALID_REQUEST, format!("Invalid Request: {detail}"), None).to_string());
        }
    };
    if budget.exhausted() {
        return envelope.id.map(|id| too_large_answer(id, false, budget.limit));
    }
    let Some(event) = backend.resolve(&envelope.method) else {
        let id = envelope.id?;
        let error = error_object(id, METHOD_NOT_FOUND, format!("Method not found: {}", envelope.method), None);
        return Some(error.to_string());
    };
    let meta = caller_meta(base, &envelope.metadata);
    // Notifications are executed too; only their outcome is not sent back.
    let outcome = backend.dispatch(event, Payload::Value(envelope.params), meta).await;
    let id = envelope.id?;
    let answer = match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(error) => error_from(id.clone(), &error),
    };
    Some(budget.admit(id, answer.to_string()))
}

/// Check the envelope. On failure, the id to answer with (null when it is unusable) and why.
fn decode(item: Value) -> Result<Envelope, (Value, String)> {
    let Value::Object(mut object) = item else {
        return Err((Value::Null, "a request must be an object".into()));
    };
    let id = match object.remove("id") {
        None => None,
        Some(id) if usable_id(&id) => Some(id),
        Some(_) => {
            return Err((Value::Null, "`id` must be a string, an integer within ±(2^53 − 1) or null".into()));
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

/// An id the answer can echo exactly: a string, null, or an integer every client reads back
/// unchanged (JSON-RPC 2.0: numbers SHOULD NOT have fractions; the published schema says
/// `integer`).
fn usable_id(id: &Value) -> bool {
    match id {
        Value::String(_) | Value::Null => true,
        Value::Number(n) => n.as_i64().is_some_and(|n| n.abs() <= MAX_SAFE_INTEGER),
        _ => false,
    }
}

/// The transport's identity plus the envelope's `metadata`: the session and correlation id it
/// names. `metadata.clientId` is ignored — who calls is the transport's to say, or one batch
/// could give each of its requests a rate-limit bucket of its own.
fn caller_meta(base: &RequestMeta, metadata: &Map<String, Value>) -> RequestMeta {
    let field = |name: &str| metadata.get(name).and_then(Value::as_str).and_then(clean_id);
    let mut meta = base.clone();
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
    fn metadata_names_the_session_but_never_the_caller() {
        let mut base = RequestMeta::new(Transport::JsonRpc);
        base.client_id = Some("from-header".into());
        base.peer = Some("127.0.0.1:5000".into());
        let metadata = json!({"sessionId": "s-1", "clientId": "c-1", "correlationId": 5}).as_object().unwrap().clone();
        let meta = caller_meta(&base, &metadata);
        assert_eq!(meta.session_id.as_deref(), Some("s-1"));
        assert_eq!(meta.client_id.as_deref(), Some("from-header"));
        assert_eq!(meta.caller_key(), base.caller_key());
        assert_eq!(meta.correlation_id, None, "a non-string correlation id is ignored");

        base.client_id = None;
        let meta = caller_meta(&base, &metadata);
        assert_eq!(meta.caller_key(), "peer:127.0.0.1:5000", "a named session does not make a new caller");
    }

    #[test]
    fn ids_are_strings_null_or_safe_integers() {
        for id in [json!("a"), json!(null), json!(0), json!(-7), json!(MAX_SAFE_INTEGER), json!(-MAX_SAFE_INTEGER)] {
            assert!(decode(json!({"jsonrpc": "2.0", "method": "m", "id": id})).is_ok(), "{id}");
        }
        for id in [json!(1.5), json!(1e300), json!(MAX_SAFE_INTEGER + 1), json!(u64::MAX), json!(true), json!([1])] {
            let (answer_id, why) = decode(json!({"jsonrpc": "2.0", "method": "m", "id": id})).err().unwrap();
            assert_eq!(answer_id, Value::Null, "{id}");
            assert!(why.contains("integer"), "{why}");
        }
    }

    #[test]
    fn an_answer_that_overflows_the_budget_says_whether_it_ran() {
        let budget = Budget::new(100);
        let small = json!({"jsonrpc": "2.0", "result": "x", "id": 1}).to_string();
        assert_eq!(budget.admit(json!(1), small.clone()), small);
        let big = json!({"jsonrpc": "2.0", "result": "y".repeat(200), "id": 2}).to_string();
        let error: Value = serde_json::from_str(&budget.admit(json!(2), big)).unwrap();
        assert_eq!(error["error"]["code"], json!(ANSWER_TOO_LARGE));
        assert!(error["error"].get("data").is_none(), "protocol errors carry no error model");
        assert_eq!(error["id"], json!(2));
        assert!(budget.exhausted());
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
