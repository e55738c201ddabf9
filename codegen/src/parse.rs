//! YAML tree → raw model (placeholder; being written).
use crate::{Diagnostics, SpecSource};
use crate::model::Spec;

pub(crate) fn parse_sources(_sources: &[SpecSource]) -> (Spec, Diagnostics) {
    (Spec { definitions: vec![], events: vec![] }, Diagnostics::default())
}
