//! Handlers of the `test` domain, one file per event.
mod circuit;
