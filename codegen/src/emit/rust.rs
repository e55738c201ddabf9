//! Rust types, validators, handler traits and the event table. OWNER: rust-emitter helper (placeholder API).

use crate::model::Spec;

/// Settings for the Rust emitter.
#[derive(Debug, Clone)]
pub struct RustOptions {
    /// Path of the crate that holds the hand-written support (`validation`, `error`, `event`,
    /// `issue` modules): `crate` inside `claudebench-generated`.
    pub support: String,
}

/// The generated Rust source, prettyplease-formatted.
pub fn emit(spec: &Spec, opts: &RustOptions) -> String {
    let _ = (spec, opts);
    String::new()
}
