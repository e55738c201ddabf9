//! Integration tests of the code generator.

mod json_schema;
