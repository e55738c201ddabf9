//! ClaudeBench-rs: the server binary's library half (what the CLI in `main.rs` wires together).

pub mod bridge;
