//! `EVENTS.md`, rendered with minijinja. OWNER: emitters helper (placeholder API).

use crate::model::Spec;

/// The Markdown reference of every event.
pub fn emit(spec: &Spec) -> String {
    let _ = spec;
    String::new()
}
