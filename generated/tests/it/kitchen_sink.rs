//! The kitchen-sink model's generated code, end to end.

#[allow(dead_code)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/kitchen_sink.rs"));
}
