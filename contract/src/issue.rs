//! Validation issues, Zod-style: every problem at once, each at a wire-name path.

use serde::{Deserialize, Serialize};

pub use crate::IssueCode;

/// One validation problem: `{path, code, message}` exactly as every transport sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Wire-name path: `updates.priority`, `todos[3].status`; empty for the root value.
    pub path: String,
    pub code: IssueCode,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} ({})", self.message, self.code.as_str())
        } else {
            write!(f, "{}: {} ({})", self.path, self.message, self.code.as_str())
        }
    }
}
