//! Root integration tests.

mod bridge;
