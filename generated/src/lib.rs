//! Types, validators, handler traits and the event table generated from `spec/`, plus the small
//! hand-written support they are written against (`error`, `event`, `issue`, `validation`).

pub mod error;
pub mod event;
pub mod issue;
pub mod validation;

/// Everything `build.rs` generated from `spec/` (see `OUT_DIR/spec.rs`).
mod spec {
    include!(concat!(env!("OUT_DIR"), "/spec.rs"));
}

pub use spec::{events, handlers, types};

/// The code generated from the small fixture spec of the codegen tests: compiled here so the
/// snapshot of the emitter's output is proven to be valid Rust.
#[cfg(test)]
#[allow(dead_code)]
mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.rs"));
}
