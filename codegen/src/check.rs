//! Semantic checks (placeholder; being written).
use crate::{Diagnostics, SpecSource};
use crate::model::Spec;

pub(crate) fn check(spec: Spec, _sources: &[SpecSource], _diags: &mut Diagnostics) -> Spec {
    spec
}
