//! End-to-end tests of the `claudebench` application against the real Redis of this machine.
//! Each test runs its own app under a unique key prefix, so tests run in parallel.

mod support;

mod attack;
mod bridge;
mod browser;
mod circuit_breaker;
mod claude_code;
mod cluster;
mod drills;
mod hook_handlers;
mod leases;
mod load;
mod mcp_toolsets;
mod pipeline;
mod processes;
mod schemathesis;
mod server;
mod setup;
mod spawned;
mod system_handlers;
mod task_handlers;
mod transports;
