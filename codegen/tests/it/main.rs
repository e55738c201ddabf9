//! Integration tests of the code generator.

mod artifacts;
mod diagnostics;
mod docs;
mod json_schema;
mod mcp;
mod openapi;
mod rust_emit;
