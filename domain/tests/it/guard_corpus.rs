//! The guard's table tests: `check_table` judges a table of `tests/fixtures/` (dangerous and
//! routine commands of every class) and fails on any dangerous command allowed, any routine command
//! denied or asked, and any expected `deny` that is only asked. This file runs the main corpus.

use claudebench_domain::policy::{Decision, Guard};

struct Case {
    line: usize,
    expected: Decision,
    class: String,
    cwd: Option<String>,
    command: String,
}

/// The cases of `tests/fixtures/<file>`: decision, class, cwd (`-` for none), command (`⏎` for a
/// newline), tab-separated; `#` lines are comments.
fn table(file: &str) -> Vec<Case> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.splitn(4, '\t');
        let (Some(expected), Some(class), Some(cwd), Some(command)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            panic!("{file}:{}: expected 4 tab-separated columns", i + 1);
        };
        let expected = match expected {
            "allow" => Decision::Allow,
            "ask" => Decision::Ask,
            "deny" => Decision::Deny,
            other => panic!("{file}:{}: unknown decision `{other}`", i + 1),
        };
        cases.push(Case {
            line: i + 1,
            expected,
            class: class.to_string(),
            cwd: (cwd != "-").then(|| cwd.to_string()),
            command: command.replace('⏎', "\n"),
        });
    }
    cases
}

/// Judge every case of a table; print the numbers and fail on any dangerous command allowed, any
/// routine command denied or asked, and any expected `deny` that is only asked.
pub(crate) fn check_table(file: &str, at_least: usize) {
    let guard = Guard::default();
    let cases = table(file);
    assert!(cases.len() >= at_least, "{file} has {} commands", cases.len());
    let (mut dangerous, mut dangerous_allowed, mut deny_only_asked) = (0, 0, 0);
    let (mut benign, mut benign_denied, mut benign_asked) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let d = guard.check_command(&case.command, case.cwd.as_deref());
        let got = d.decision;
        let bad = match case.expected {
            Decision::Allow => {
                benign += 1;
                benign_denied += usize::from(got == Decision::Deny);
                benign_asked += usize::from(got == Decision::Ask);
                got != Decision::Allow
            }
            expected => {
                dangerous += 1;
                dangerous_allowed += usize::from(got == Decision::Allow);
                let weaker = expected == Decision::Deny && got == Decision::Ask;
                deny_only_asked += usize::from(weaker);
                got == Decision::Allow || weaker
            }
        };
        if bad {
            failures.push(format!(
                "  line {} [{}] expected {:?}, got {:?} ({}: {}): {:?}",
                case.line,
                case.class,
                case.expected,
                got,
                d.rule.unwrap_or_default(),
                d.reason.unwrap_or_default(),
                case.command
            ));
        }
    }
    println!(
        "{file}: {} commands; dangerous {dangerous}: allowed {dangerous_allowed}, deny only asked {deny_only_asked}; \
         benign {benign}: denied {benign_denied}, asked {benign_asked}",
        cases.len()
    );
    assert!(failures.is_empty(), "{} cases decided wrongly:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_corpus_is_decided_as_expected_with_no_dangerous_command_allowed_and_no_routine_one_blocked() {
    check_table("guard-corpus.tsv", 250);
}
