//! The one error model every transport maps: a stable code, a message and, for validation, the
//! issues. HTTP statuses and JSON-RPC codes are derived here once.

use serde::{Deserialize, Serialize};

use crate::issue::Issue;

pub use crate::ErrorCode;

/// An error as every transport sends it (`{"error": {…}}` over HTTP, `data` over JSON-RPC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// Every validation issue (only for `validation`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
    /// When to retry (for `rate_limited` and `circuit_open`).
    #[serde(default, rename = "retryAfterMs", skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), issues: Vec::new(), retry_after_ms: None }
    }
    /// A `validation` error carrying every issue.
    pub fn validation(issues: Vec<Issue>) -> Self {
        let n = issues.len();
        let message = match issues.first() {
            Some(first) if n == 1 => format!("invalid input: {first}"),
            Some(first) => format!("invalid input: {first} (and {} more)", n - 1),
            None => "invalid input".to_string(),
        };
        Error { code: ErrorCode::Validation, message, issues, retry_after_ms: None }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}
