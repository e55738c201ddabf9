//! ClaudeBench runtime: everything between a decoded request and a handler, and between a handler
//! and durable state. Spec-agnostic: it dispatches by the generated event table.

pub mod backend;
pub mod bus;
pub mod claude_code;
pub mod config;
pub mod context;
pub mod keys;
pub mod metrics;
pub mod persist;
pub mod pipeline;
pub mod redis;
pub mod resilience;
pub mod scripts;
pub mod transport;
