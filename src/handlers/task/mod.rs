//! Handlers of the `task` domain, one file per event.
mod assign;
mod claim;
mod complete;
mod create;
mod delete;
mod get;
mod list;
mod update;
