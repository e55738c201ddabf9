//! A spanned YAML tree (placeholder; being written).
