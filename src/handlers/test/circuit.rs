//! `test.circuit`: A test fixture for the circuit breaker: succeeds, or fails with `failureMessage` when `shouldFail` is true, after waiting `delay` milliseconds (a delay above 1000 ms hits the event's timeout). After 5 consecutive failures the circuit opens for 1 s and calls get the fallback answer (`success: false`, a message mentioning the fallback); then 3 half-open probes are let through and 3 successes close it again.
//!
//! Scaffolded by `claudebench-codegen scaffold`; replace the body with the real behaviour.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TestCircuit;
use claudebench_generated::types::{TestCircuitInput, TestCircuitOutput};

use crate::handlers::{Ctx, Handlers};

impl TestCircuit<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, _input: TestCircuitInput) -> Result<TestCircuitOutput, Error> {
        Err(Error::not_implemented("test.circuit"))
    }
}
