//! How long code generation takes: the real spec (load + Rust emitter) and a synthetic spec of
//! 1,000 events. Run with `cargo bench -p claudebench-codegen`.

use std::path::Path;
use std::time::Instant;

use claudebench_codegen::emit::rust::{RustOptions, emit};
use claudebench_codegen::model::{EventName, Spec};

fn opts() -> RustOptions {
    RustOptions { support: "crate".into(), handlers_dir: "src/handlers".into() }
}

/// 1,000 events made by renaming copies of the real ones into fresh domains.
fn synthetic(real: &Spec, n: usize) -> Spec {
    let mut events: Vec<_> = (0..n)
        .map(|i| {
            let mut e = real.events[i % real.events.len()].clone();
            e.name = EventName::new(&format!("d{i:04}"), &e.name.action);
            e.aliases.clear();
            e.replaced_by = None;
            e
        })
        .collect();
    events.sort_by(|a, b| a.name.cmp(&b.name));
    Spec { definitions: real.definitions.clone(), events }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let start = Instant::now();
    let real = match claudebench_codegen::load_dir(&dir, "spec") {
        Ok((spec, _)) => spec,
        Err(d) => return println!("the spec does not load:\n{d}"),
    };
    let load = start.elapsed();
    if real.events.is_empty() {
        return println!("the spec has no events; nothing to measure");
    }
    let start = Instant::now();
    let out = emit(&real, &opts());
    let rust = start.elapsed();
    println!(
        "real spec ({} events): load {:.1} ms, Rust emitter {:.1} ms ({} lines)",
        real.events.len(),
        load.as_secs_f64() * 1e3,
        rust.as_secs_f64() * 1e3,
        out.lines().count()
    );

    let big = synthetic(&real, 1_000);
    let start = Instant::now();
    let out = emit(&big, &opts());
    let took = start.elapsed();
    println!(
        "synthetic spec (1,000 events): Rust emitter {:.0} ms ({} lines) — goal < 1000 ms",
        took.as_secs_f64() * 1e3,
        out.lines().count()
    );
}
