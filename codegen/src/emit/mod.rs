//! Emitters: each turns a valid [`Spec`](crate::model::Spec) into one artifact. None re-reads YAML.

pub mod docs;
pub mod json_schema;
pub mod mcp;
pub mod openapi;
pub mod rust;

/// The note every generated artifact carries.
pub const GENERATED_NOTE: &str =
    "Generated from spec/ by claudebench-codegen. Do not edit: change the spec and rebuild (see README).";

/// Deterministic JSON text: two-space indentation, keys in insertion order, trailing newline.
pub fn to_pretty_json(value: &serde_json::Value) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_default();
    out.push('\n');
    out
}
