//! Types, validators, handler traits and the event table generated from `spec/`.
//!
//! The hand-written support they are written against lives in `claudebench-contract` and is
//! re-exported here under the paths the generated code uses (`crate::error`, `crate::validation`…),
//! so only this crate and its users rebuild when the spec changes.

pub use claudebench_contract::{error, event, hook, issue, validation};

/// Everything `build.rs` generated from `spec/` (see `OUT_DIR/spec.rs`).
mod spec {
    include!(concat!(env!("OUT_DIR"), "/spec.rs"));
}

pub use spec::{events, handlers, types};
