//! The one JSON-RPC call to `<url>/rpc`, bounded by the configured timeout.

use serde_json::{Value, json};

use super::{BridgeConfig, HookCall};

/// Why the server gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The server answered with a JSON-RPC error.
    Rpc { code: i64, message: String, data: Option<Value> },
    /// No usable answer: connection refused, HTTP error, a body that is not JSON-RPC.
    Unreachable(String),
    /// No answer within the timeout.
    Timeout,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Rpc { code, message, .. } => write!(f, "server error {code}: {message}"),
            CallError::Unreachable(why) => write!(f, "server unreachable: {why}"),
            CallError::Timeout => f.write_str("server did not answer in time"),
        }
    }
}

/// Send the hook as a JSON-RPC request and return its `result`.
pub(crate) async fn call(config: &BridgeConfig, hook: &HookCall) -> Result<Value, CallError> {
    // The client's own timeout covers the request; the outer one also covers DNS and connect
    // on platforms where those are not interruptible by reqwest.
    match tokio::time::timeout(config.timeout, send(config, hook)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(CallError::Timeout),
    }
}

async fn send(config: &BridgeConfig, hook: &HookCall) -> Result<Value, CallError> {
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .build()
        .map_err(|e| CallError::Unreachable(format!("cannot build the HTTP client: {e}")))?;
    let mut body = json!({ "jsonrpc": "2.0", "method": hook.event, "params": hook.params, "id": 1 });
    if let Some(session) = &hook.session_id {
        body["metadata"] = json!({ "sessionId": session });
    }
    let mut request = client
        .post(format!("{}/rpc", config.url))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("x-client-id", client_id(hook))
        .body(body.to_string());
    if let Some(token) = &config.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(classify)?;
    let status = response.status();
    let text = response.text().await.map_err(classify)?;
    if !status.is_success() {
        return Err(CallError::Unreachable(format!("HTTP {status}: {}", first_line(&text))));
    }
    parse_response(&text)
}

/// Who is calling (`X-Client-Id`), for the server's per-caller rate limits: each Claude Code
/// session is its own caller, so one busy session cannot exhaust the limits of every other (a
/// hook without a usable session shares one bucket). An id the server would ignore (see
/// `transport::client_id`) falls back to the shared name.
fn client_id(hook: &HookCall) -> String {
    hook.session_id
        .as_deref()
        .and_then(|session| claudebench_runtime::transport::client_id(&format!("claude-code:{session}")))
        .unwrap_or_else(|| "claude-code-hook".into())
}

fn classify(error: reqwest::Error) -> CallError {
    if error.is_timeout() { CallError::Timeout } else { CallError::Unreachable(error.to_string()) }
}

/// The `result` of a JSON-RPC response, or its `error`.
fn parse_response(text: &str) -> Result<Value, CallError> {
    let not_rpc = || CallError::Unreachable(format!("not a JSON-RPC response: {}", first_line(text)));
    let Ok(Value::Object(mut response)) = serde_json::from_str::<Value>(text) else {
        return Err(not_rpc());
    };
    if let Some(result) = response.remove("result") {
        return Ok(result);
    }
    let error = response.remove("error").ok_or_else(not_rpc)?;
    Err(CallError::Rpc {
        code: error.get("code").and_then(Value::as_i64).unwrap_or(-32603),
        message: error.get("message").and_then(Value::as_str).unwrap_or("unknown error").to_string(),
        data: error.get("data").cloned(),
    })
}

/// At most one line of 200 characters of a server body, for messages.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_errors_and_garbage_are_told_apart() {
        assert_eq!(parse_response(r#"{"jsonrpc":"2.0","result":{"allow":true},"id":1}"#), Ok(json!({"allow": true})));
        let error = parse_response(r#"{"jsonrpc":"2.0","error":{"code":-32003,"message":"no"},"id":1}"#).unwrap_err();
        assert_eq!(error, CallError::Rpc { code: -32003, message: "no".into(), data: None });
        assert!(matches!(parse_response("<html>"), Err(CallError::Unreachable(_))));
        assert!(matches!(parse_response(r#"{"jsonrpc":"2.0","id":1}"#), Err(CallError::Unreachable(_))));
    }

    #[test]
    fn each_claude_code_session_is_its_own_caller() {
        let hook = |session: Option<&str>| {
            let mut call = crate::bridge::input::parse_hook(
                r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
            )
            .unwrap();
            call.session_id = session.map(String::from);
            client_id(&call)
        };
        let (a, b) = (hook(Some("session-a")), hook(Some("session-b")));
        assert_ne!(a, b, "sessions must not share a rate-limit bucket");
        assert_eq!(a, "claude-code:session-a");
        assert_eq!(hook(None), "claude-code-hook");
        assert_eq!(hook(Some("has space")), "claude-code-hook", "the server would ignore it");
    }
}
