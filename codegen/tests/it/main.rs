//! Integration tests of the code generator.
