//! The wire contract of ClaudeBench, in one leaf crate that the generator (`codegen`), the
//! generated crate and the runtime all use, so a code, a status or a route exists once:
//!
//! - [`ErrorCode`]: the stable error codes, with their HTTP status, JSON-RPC code and meaning;
//! - [`IssueCode`]: the validation issue codes;
//! - [`jsonrpc`]: the JSON-RPC protocol errors `/rpc` answers before any event runs;
//! - [`routes`]: the paths the server itself uses, which no event may take.
//!
//! Everything is `const`, so the generator can build its documents from it at compile time.

mod error_code;
mod issue_code;
pub mod jsonrpc;
pub mod routes;

pub use error_code::ErrorCode;
pub use issue_code::IssueCode;
