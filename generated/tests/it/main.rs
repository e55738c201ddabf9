//! Integration tests of the generated crate: the validation runtime, and the code generated from
//! the codegen fixture spec and the kitchen-sink model (every feature of the spec language), and
//! from the real spec.

mod differential;
mod fixture;
mod kitchen_sink;
mod readers;
mod rng;
