//! The protective stages of the request path, each a standalone component with a small API:
//! rate limiting, circuit breaking, response caching and deadlines. `dispatch` composes them.

pub mod cache;
pub mod circuit;
pub mod rate_limit;
pub mod timeout;

pub use cache::ResponseCache;
pub use circuit::{Admission, CircuitBreakers, CircuitState, Permit};
pub use rate_limit::{OwnLimit, RateDecision, RateLimiter};
pub use timeout::with_timeout;
