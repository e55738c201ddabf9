//! End-to-end tests of the `claudebench` application against the real Redis of this machine.
//! Each test runs its own app under a unique key prefix, so tests run in parallel.

mod support;
mod stubs_smoke;
mod hook_handlers;
