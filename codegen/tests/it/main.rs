//! Integration tests of the code generator.

mod diagnostics;
mod json_schema;
mod openapi;
mod mcp;
mod docs;
mod rust_emit;
