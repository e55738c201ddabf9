//! Handler implementations, one file per event: `src/handlers/<domain>/<action>.rs`.
//!
//! Each file implements one generated trait (`claudebench_generated::handlers::<Event>`) for
//! [`Handlers`]; a spec event without one fails the build with a message naming the file to
//! create (`cargo run -p claudebench-codegen -- scaffold` writes a stub).

/// The request context every handler receives (identity, event, shared services).
pub type Ctx = claudebench_domain::Ctx;

/// The one type that implements every event's handler trait.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handlers;

// A missing handler fails here, with the event's own message, even before `serve` uses it.
const _: () = {
    fn every_event_has_a_handler<H: claudebench_generated::handlers::Handlers<Ctx>>() {}
    let _ = every_event_has_a_handler::<Handlers>;
};
mod hook;
mod system;
mod task;
mod test;
