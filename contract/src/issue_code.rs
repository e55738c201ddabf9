//! Validation issue codes (Zod's strings, plus `required`).

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
    /// Every code, in declaration order.
    pub const ALL: [IssueCode; 8] = [
        IssueCode::InvalidType,
        IssueCode::TooSmall,
        IssueCode::TooBig,
        IssueCode::InvalidEnumValue,
        IssueCode::UnrecognizedKeys,
        IssueCode::Required,
        IssueCode::InvalidString,
        IssueCode::Custom,
    ];

    /// The wire string, e.g. `invalid_type`.
    pub const fn as_str(self) -> &'static str {
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
