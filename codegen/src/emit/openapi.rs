//! OpenAPI 3.1.0 document. OWNER: emitters helper (placeholder API).

use serde_json::Value;

use crate::model::Spec;

/// Document-level settings that do not come from the spec.
#[derive(Debug, Clone)]
pub struct OpenApiOptions {
    /// `info.version` (the crate version).
    pub version: String,
    /// The `servers[0].url`.
    pub server_url: String,
}

/// The whole OpenAPI document.
pub fn emit(spec: &Spec, opts: &OpenApiOptions) -> Value {
    let _ = (spec, opts);
    Value::Null
}
