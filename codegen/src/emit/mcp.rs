//! MCP tool manifest (`tools/list` result). OWNER: emitters helper (placeholder API).

use serde_json::Value;

use crate::model::Spec;

/// `{"$comment": …, "tools": [...]}`: the tools exactly as `tools/list` returns them.
pub fn emit(spec: &Spec) -> Value {
    let _ = spec;
    Value::Null
}
