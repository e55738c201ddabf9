//! `test.circuit`: A test fixture for the circuit breaker: succeeds, or fails with
//! `failureMessage` when `shouldFail` is true, after waiting `delay` milliseconds (a delay above
//! 1000 ms hits the event's timeout). After 5 consecutive failures the circuit opens for 1 s and
//! calls get the fallback answer (`success: false`, a message mentioning the fallback); then 3
//! half-open probes are let through and 3 successes close it again.
//!
//! The breaker, the fallback and the timeout are all the pipeline's: this handler only has to
//! fail, succeed or be slow on request.

use std::time::Duration;

use claudebench_generated::error::Error;
use claudebench_generated::handlers::TestCircuit;
use claudebench_generated::types::{TestCircuitInput, TestCircuitOutput};

use crate::handlers::{Ctx, Handlers};

/// The failure message when the caller did not choose one.
const DEFAULT_FAILURE: &str = "Simulated failure";

impl TestCircuit<Ctx> for Handlers {
    async fn handle(&self, _ctx: &Ctx, input: TestCircuitInput) -> Result<TestCircuitOutput, Error> {
        if let Some(ms) = input.delay.filter(|ms| *ms > 0) {
            // A timer, not a blocking sleep: when the pipeline's deadline drops this future the
            // wait ends there, which is what the timeout tests observe.
            tokio::time::sleep(Duration::from_millis(u64::try_from(ms).unwrap_or(0))).await;
        }
        if input.should_fail {
            // `internal` is one of the codes that count against a circuit (a caller error such
            // as `validation` would not).
            return Err(Error::internal(input.failure_message.unwrap_or_else(|| DEFAULT_FAILURE.to_string())));
        }
        Ok(TestCircuitOutput { success: true, message: "Operation succeeded".to_string() })
    }
}
