//! Integration tests of the code generator.

mod diagnostics;
