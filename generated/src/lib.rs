//! Placeholder.
pub mod error;
pub mod event;
pub mod issue;
