//! The `claudebench` application: handler implementations and the wiring of one server
//! process. The binary (`src/main.rs`) is the CLI over it.

pub mod app;
pub mod bridge;
pub mod handlers;
pub mod setup;
