//! The wire contract of ClaudeBench, in one leaf crate that the generator (`codegen`), the
//! generated crate and the runtime all use, so a code, a status, a format or a route exists once:
//!
//! - [`ErrorCode`] and [`error::Error`]: the stable error codes, with their HTTP status, JSON-RPC
//!   code and meaning, and the one error model every transport maps;
//! - [`IssueCode`] and [`issue::Issue`]: validation issues, each at a wire-name path;
//! - [`validation`]: the streaming validators every generated type is written against, with the
//!   string formats ([`validation::Format`]) the spec checker also uses for defaults and examples;
//! - [`event`]: the row type of the generated event table, all the runtime knows of an event;
//! - [`jsonrpc`]: the JSON-RPC protocol errors `/rpc` answers before any event runs;
//! - [`routes`]: the paths the server itself uses, which no event may take;
//! - [`time`]: epoch milliseconds and their one text form.
//!
//! Nothing here depends on `spec/`: editing the spec regenerates `claudebench-generated` and
//! recompiles what uses its types, never this crate or the runtime built on it.

mod error_code;
mod issue_code;

pub mod error;
pub mod event;
pub mod hook;
pub mod issue;
pub mod jsonrpc;
pub mod routes;
pub mod time;
pub mod validation;

pub use error_code::ErrorCode;
pub use issue_code::IssueCode;
