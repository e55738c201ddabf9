//! The one call to `<url>/hooks/claude-code`, bounded by the configured timeout.

use serde_json::Value;

use super::{BridgeConfig, HookCall};

/// Why the server gave no answer to forward.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The server refused the hook (a non-2xx answer with its error).
    Refused { status: u16, code: String, message: String },
    /// No usable answer: connection refused, a body that is not a JSON object.
    Unreachable(String),
    /// No answer within the timeout.
    Timeout,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { status, code, message } => write!(f, "server error {status} {code}: {message}"),
            CallError::Unreachable(why) => write!(f, "server unreachable: {why}"),
            CallError::Timeout => f.write_str("server did not answer in time"),
        }
    }
}

/// Post the hook input unchanged and return Claude Code's hook output the server answered.
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
    let approve = if config.approve_allowed { "?approve=1" } else { "" };
    let mut request = client
        .post(format!("{}{}{approve}", config.url, claudebench_runtime::claude_code::ENDPOINT))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(hook.body.clone());
    if let Some(token) = &config.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(classify)?;
    let status = response.status();
    let text = response.text().await.map_err(classify)?;
    parse_response(status.as_u16(), &text)
}

fn classify(error: reqwest::Error) -> CallError {
    if error.is_timeout() { CallError::Timeout } else { CallError::Unreachable(error.to_string()) }
}

/// A 2xx answer's hook output, or the server's error.
fn parse_response(status: u16, text: &str) -> Result<Value, CallError> {
    let body = serde_json::from_str::<Value>(text).ok().filter(Value::is_object);
    match body {
        Some(answer) if (200..300).contains(&status) => Ok(answer),
        Some(error) if error.get("error").is_some() => Err(CallError::Refused {
            status,
            code: error["error"]["code"].as_str().unwrap_or("unknown").to_string(),
            message: error["error"]["message"].as_str().unwrap_or("unknown error").to_string(),
        }),
        _ => Err(CallError::Unreachable(format!("HTTP {status}: {}", first_line(text)))),
    }
}

/// At most one line of 200 characters of a server body, for messages.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_errors_and_garbage_are_told_apart() {
        assert_eq!(parse_response(200, "{}"), Ok(json!({})));
        let error = parse_response(429, r#"{"error":{"code":"rate_limited","message":"slow"}}"#).unwrap_err();
        assert_eq!(error, CallError::Refused { status: 429, code: "rate_limited".into(), message: "slow".into() });
        assert!(matches!(parse_response(200, "<html>"), Err(CallError::Unreachable(_))));
        assert!(matches!(parse_response(200, "[]"), Err(CallError::Unreachable(_))));
        assert!(matches!(parse_response(502, "bad gateway"), Err(CallError::Unreachable(_))));
    }
}
