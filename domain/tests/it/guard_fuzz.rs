//! Random and mutated shell text against the guard: it never panics, always answers, and its
//! cost stays linear in the input (inputs up to the size cap, a bounded number of cases, and a
//! loose bound on the total time instead of per-case timings that would flake).

use std::time::{Duration, Instant};

use claudebench_domain::policy::{Decision, Guard};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Pieces of shell syntax the mutations splice in.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "((",
    "))",
    "$(",
    "`",
    "{",
    "}",
    "${",
    "'",
    "\"",
    "$'\\x72",
    "\\",
    ";",
    "&&",
    "||",
    "|",
    "&",
    "\n",
    "<<EOF\n",
    "EOF\n",
    "<<<",
    "<(",
    ">(",
    ">",
    ">>",
    "2>&1",
    "if ",
    "then ",
    "fi",
    "for x in a; do ",
    "done",
    "case x in ",
    "esac",
    "f() { ",
    "rm -rf /",
    "sudo ",
    "bash -c '",
    "eval ",
    "$X",
    "~",
    "..",
    "/etc/",
    "*",
    "#",
    " ",
    "python3 -c '",
];

fn corpus_commands() -> Vec<String> {
    let text = include_str!("../fixtures/guard-corpus.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.splitn(4, '\t').nth(3))
        .map(|c| c.replace('⏎', "\n"))
        .collect()
}

fn mutate(base: &str, edits: &[(usize, usize, usize)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for &(kind, at, token) in edits {
        let at = if chars.is_empty() { 0 } else { at % (chars.len() + 1) };
        match kind % 3 {
            0 => {
                let t: Vec<char> = TOKENS[token % TOKENS.len()].chars().collect();
                chars.splice(at..at, t);
            }
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ => {
                let t: Vec<char> = TOKENS[token % TOKENS.len()].chars().collect();
                let end = (at + t.len()).min(chars.len());
                chars.splice(at..end, t);
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_corpus_commands_never_panic_and_every_refusal_has_a_reason() {
    let guard = Guard::default();
    let commands = corpus_commands();
    let mut runner = TestRunner::new(Config { cases: 4000, failure_persistence: None, ..Config::default() });
    let strategy = (0..commands.len(), proptest::collection::vec((0usize..3, 0usize..4096, 0usize..64), 1..8));
    let started = Instant::now();
    runner
        .run(&strategy, |(i, edits)| {
            let text = mutate(&commands[i], &edits);
            let d = guard.check_command(&text, Some("/home/dev/project"));
            prop_assert!(d.decision == Decision::Allow || d.reason.is_some(), "{text:?}: no reason for {d:?}");
            Ok(())
        })
        .unwrap();
    println!("guard fuzz: 4000 mutated corpus commands in {:?}", started.elapsed());
}

#[test]
fn random_shell_soup_never_panics() {
    let guard = Guard::default();
    let mut runner = TestRunner::new(Config { cases: 2000, failure_persistence: None, ..Config::default() });
    let token = (0..TOKENS.len()).prop_map(|i| TOKENS[i].to_string());
    let soup = prop_oneof![proptest::collection::vec(token, 0..200).prop_map(|t| t.concat()), ".{0,400}"];
    runner
        .run(&soup, |text| {
            let d = guard.check_command(&text, None);
            prop_assert!(d.decision == Decision::Allow || d.reason.is_some());
            Ok(())
        })
        .unwrap();
}

/// Inputs near the size cap, built to be expensive: the total stays far below what a
/// super-linear parser would need (the bound is loose on purpose: 2 shared cores, debug build).
#[test]
fn adversarial_inputs_up_to_the_cap_cost_linear_time() {
    let guard = Guard::default();
    let n = 60 * 1024;
    let inputs = adversarial(n);
    let small = adversarial(1024);
    let time = |set: &[String]| {
        let t = Instant::now();
        for text in set {
            let d = guard.check_command(text, Some("/home/dev/project"));
            assert!(d.decision == Decision::Allow || d.reason.is_some());
        }
        t.elapsed()
    };
    let small_time = time(&small);
    let big_time = time(&inputs);
    println!("guard adversarial: {} inputs of ~60 KiB in {big_time:?}; of ~1 KiB in {small_time:?}", inputs.len());
    // 60× the input; a quadratic cost would be ~3600×. Allow generous noise.
    assert!(
        big_time < Duration::from_secs(60) && big_time < small_time * 600 + Duration::from_secs(5),
        "60 KiB inputs took {big_time:?} against {small_time:?} for 1 KiB"
    );
    let over = "a".repeat(1 << 20);
    let d = guard.check_command(&over, None);
    assert_eq!((d.decision, d.rule.as_deref()), (Decision::Ask, Some("size_cap")));
}

include!("../fixtures/guard-adversarial.rs");
