//! Root integration tests.
