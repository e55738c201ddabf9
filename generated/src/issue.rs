//! Validation issues, Zod-style: every problem at once, each at a wire-name path.

use serde::{Deserialize, Serialize};

/// Stable issue codes (the same strings Zod uses, plus `required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The value has the wrong JSON type (or `null` where null is not allowed).
    InvalidType,
    /// Below a minimum: number, string length or item count.
    TooSmall,
    /// Above a maximum: number, string length or item count.
    TooBig,
    /// A string that is not one of the enum's values (or an unknown union tag).
    InvalidEnumValue,
    /// An object has keys its schema does not declare (policy `reject`).
    UnrecognizedKeys,
    /// A required key is absent.
    Required,
    /// A string that fails its pattern or format.
    InvalidString,
    /// A cross-field rule failed.
    Custom,
}

impl IssueCode {
    /// The wire string, e.g. `invalid_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::InvalidType => "invalid_type",
            IssueCode::TooSmall => "too_small",
            IssueCode::TooBig => "too_big",
            IssueCode::InvalidEnumValue => "invalid_enum_value",
            IssueCode::UnrecognizedKeys => "unrecognized_keys",
            IssueCode::Required => "required",
            IssueCode::InvalidString => "invalid_string",
            IssueCode::Custom => "custom",
        }
    }
}

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
