//! Bytes → validated, typed `task.create` input: the generated streaming validator against the
//! usual alternative (`serde_json` → `Value` → compiled `jsonschema` validator → `from_value` into
//! a plain serde struct). Prints ns/op side by side; run with `cargo bench -p claudebench-generated`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use claudebench_generated::events::EventId;
use claudebench_generated::types::TaskCreateInput;
use claudebench_generated::validation::from_slice;
use serde::Deserialize;
use serde_json::Value;

/// What a hand-written service would deserialize into after schema validation.
#[derive(Deserialize)]
#[allow(dead_code)]
struct PlainTaskCreate {
    text: String,
    #[serde(default)]
    priority: i64,
    #[serde(default)]
    metadata: Option<BTreeMap<String, Value>>,
}

const VALID: &[u8] =
    br#"{"text":"Write the benchmark for the streaming validator","priority":70,"metadata":{"owner":"bench","tags":["a","b"],"estimate":3}}"#;
const INVALID: &[u8] = br#"{"text":"","priority":101,"metadata":{"owner":"bench"},"bogus":true}"#;
/// Without `metadata`: both sides then skip building free-form `any` values, which costs the
/// same on either side and so dilutes the difference in the payloads above.
const PLAIN: &[u8] = br#"{"text":"Write the benchmark for the streaming validator","priority":70}"#;

/// Mean time per call over at least `min` of wall time, after a warm-up.
fn ns_per_op(min: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        f();
    }
    let mut iters: u64 = 0;
    let start = Instant::now();
    while start.elapsed() < min {
        for _ in 0..1_000 {
            f();
        }
        iters += 1_000;
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn main() {
    if EventId::from_name("task.create").is_none() {
        println!("the spec has no `task.create`; nothing to measure");
        return;
    }
    let schema: Value = match serde_json::from_str(EventId::TaskCreate.def().input_schema) {
        Ok(s) => s,
        Err(e) => return println!("the published schema is not JSON: {e}"),
    };
    let validator = match jsonschema::draft202012::options().should_validate_formats(true).build(&schema) {
        Ok(v) => v,
        Err(e) => return println!("the published schema does not compile: {e}"),
    };
    let baseline = |bytes: &[u8]| -> Option<PlainTaskCreate> {
        let value: Value = serde_json::from_slice(bytes).ok()?;
        if !validator.is_valid(&value) {
            // Collect every error, as the generated validator does.
            let _errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
            return None;
        }
        serde_json::from_value(value).ok()
    };
    assert!(from_slice::<TaskCreateInput>(VALID).is_ok() && baseline(VALID).is_some());
    assert!(from_slice::<TaskCreateInput>(INVALID).is_err() && baseline(INVALID).is_none());

    let min = Duration::from_millis(700);
    println!("task.create input, bytes → validated typed value (ns/op, lower is better)");
    println!("{:<10} {:>12} {:>22} {:>9}", "payload", "generated", "serde+jsonschema+serde", "speed-up");
    for (name, payload) in [("valid", VALID), ("invalid", INVALID), ("plain", PLAIN)] {
        let ours = ns_per_op(min, || {
            black_box(from_slice::<TaskCreateInput>(black_box(payload)).is_ok());
        });
        let theirs = ns_per_op(min, || {
            black_box(baseline(black_box(payload)).is_some());
        });
        println!("{name:<10} {ours:>12.0} {theirs:>22.0} {:>8.1}×", theirs / ours);
    }
}
