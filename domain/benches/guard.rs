//! Time per `hook.pre_tool` guard decision: every command of the table test
//! (`tests/fixtures/guard-corpus.tsv`), a 1 MB command (over the size cap) and ~60 KiB
//! adversarial commands (just under it). No Redis needed.
//!
//! `cargo bench -p claudebench-runtime --bench guard`; `CB_BENCH_RUNS` sets the runs per command.

use std::time::{Duration, Instant};

use claudebench_domain::policy::Guard;

include!("../tests/fixtures/guard-adversarial.rs");

fn runs() -> usize {
    std::env::var("CB_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(30)
}

/// The median of `runs` decisions of `command`.
fn median(guard: &Guard, command: &str, runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(guard.check_command(std::hint::black_box(command), Some("/home/dev/project")));
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn report(name: &str, commands: &[String], guard: &Guard, runs: usize) {
    let mut medians: Vec<(Duration, &String)> = commands.iter().map(|c| (median(guard, c, runs), c)).collect();
    medians.sort();
    let (worst, worst_cmd) = medians[medians.len() - 1];
    let shown: String = worst_cmd.chars().take(60).collect();
    println!(
        "{name:<22} {:>4} commands: median {:>10.1?}, worst {:>10.1?} ({} bytes: {shown:?})",
        commands.len(),
        medians[medians.len() / 2].0,
        worst,
        worst_cmd.len()
    );
}

fn main() {
    let guard = Guard::default();
    let runs = runs();
    let corpus: Vec<String> = include_str!("../tests/fixtures/guard-corpus.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.splitn(4, '\t').nth(3))
        .map(|c| c.replace('⏎', "\n"))
        .collect();
    report("corpus (typical)", &corpus, &guard, runs);
    report("1 MB (over the cap)", &["rm -rf ./build; ".repeat((1 << 20) / 16)], &guard, runs);
    report("60 KiB adversarial", &adversarial(60 * 1024), &guard, runs.min(5));
}
