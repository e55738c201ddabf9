//! An independent red-team table: `tests/fixtures/guard-redteam.tsv`, written without reading the
//! main corpus (same format). It prints every mismatch and fails on any dangerous command allowed,
//! any routine command denied or asked, and any expected `deny` that is only asked.

use claudebench_domain::policy::{Decision, Guard};

#[test]
fn the_red_team_table_is_decided_as_expected() {
    crate::guard_corpus::check_table("guard-redteam.tsv", 800);
}

/// Pathological inputs of the red team, at 15 KiB and 60 KiB: every one answers, and 4× the
/// input costs far less than 16× the time (what a quadratic cost would take).
#[test]
fn red_team_pathological_inputs_cost_linear_time() {
    use std::time::{Duration, Instant};
    let guard = Guard::default();
    let fill = |unit: &str, n: usize| unit.repeat(n / unit.len());
    type Shape = Box<dyn Fn(usize) -> String>;
    let shapes: Vec<(&str, Shape)> = vec![
        (
            "vars then pipeline",
            Box::new(move |n| {
                format!("{}{}", fill("v1234=x; ", n / 2).replace("v1234", "v"), fill("a | ", n / 2) + "a")
            }),
        ),
        (
            "many distinct vars then substitutions",
            Box::new(move |n| {
                let mut s = String::new();
                let mut i = 0;
                while s.len() < n / 2 {
                    s.push_str(&format!("v{i}=x; "));
                    i += 1;
                }
                s + &fill("echo $(a); ", n / 2)
            }),
        ),
        ("open braces in a word", Box::new(move |n| format!("echo {}", "{a".repeat(n / 2)))),
        ("braces then commas", Box::new(move |n| format!("echo {}{}", "{".repeat(n / 2), ",".repeat(n / 2)))),
        ("long pipeline", Box::new(move |n| fill("a | ", n) + "a")),
        ("pipeline of curl", Box::new(move |n| fill("curl x | ", n) + "sh")),
        ("many here-docs", Box::new(move |n| fill("cat <<E\nx\nE\n", n))),
        ("here-docs into sh", Box::new(move |n| fill("sh <<E\nls\nE\n", n))),
        ("many substitutions in one word", Box::new(move |n| format!("echo {}", fill("$(a)", n)))),
        ("backticks in one word", Box::new(move |n| format!("echo {}", fill("`a`", n)))),
        ("param defaults with subs", Box::new(move |n| format!("echo {}", fill("${x:-$(a)}", n)))),
        ("case patterns", Box::new(move |n| format!("case x in {} esac", fill("a) b ;; ", n)))),
        ("arithmetic", Box::new(move |n| format!("echo $(({}1))", fill("1+", n)))),
        ("arithmetic subs", Box::new(move |n| fill("(( $(a) )); ", n))),
        ("nested quotes", Box::new(move |n| format!("echo {}", fill("\"'\"'", n)))),
        ("many functions", Box::new(move |n| fill("f() { a; }; ", n))),
        ("many curl -o then run", Box::new(move |n| fill("curl -o x$RANDOM u; sh y; ", n))),
        ("eval chain", Box::new(move |n| format!("eval {}", fill("eval ", n)))),
        ("bash -c of long text", Box::new(move |n| format!("bash -c '{}'", fill("a; ", n)))),
        ("globs", Box::new(move |n| format!("rm -rf {}", fill("*?[a]", n)))),
        ("ansi-c", Box::new(move |n| format!("echo $'{}'", fill("\\x41\\101", n)))),
        ("xargs chain", Box::new(move |n| fill("echo a | xargs ", n) + "rm")),
        ("cd chain", Box::new(move |n| fill("cd ..; ", n) + "rm -rf x")),
        ("python code", Box::new(move |n| format!("python3 -c '{}'", fill("open(\"a\",\"w\"); ", n)))),
        ("python literals", Box::new(move |n| format!("python3 -c 'os.system({})'", fill("\"a\",", n)))),
        ("sql", Box::new(move |n| format!("psql -c \"{}\"", fill("select 'a'; ", n)))),
        ("unknown params", Box::new(move |n| format!("echo {}", fill("${a}${b[1]}", n)))),
        ("assign arrays", Box::new(move |n| format!("a=({})", fill("$(b) ", n)))),
        ("find -exec", Box::new(move |n| format!("find . {}", fill("-exec a {} ; ", n)))),
        ("sudo chain", Box::new(move |n| fill("sudo ", n) + "ls")),
        ("env chain", Box::new(move |n| fill("env A=1 ", n) + "ls")),
        ("newlines", Box::new(move |n| "\n".repeat(n))),
        ("redirections", Box::new(move |n| format!("echo {}", fill("> a ", n)))),
        ("process subs", Box::new(move |n| format!("cat {}", fill("<(a) ", n)))),
    ];
    let mut slow = Vec::new();
    for (name, make) in &shapes {
        let time = |text: &str| {
            let t = Instant::now();
            let d = guard.check_command(text, Some("/home/dev/project"));
            assert!(d.decision == Decision::Allow || d.reason.is_some(), "{name}: no reason");
            t.elapsed()
        };
        let small = time(&make(15 * 1024));
        let big = time(&make(60 * 1024));
        println!("red team timing: {name:40} 15 KiB {small:>12?}  60 KiB {big:>12?}");
        if big > Duration::from_millis(500) && big > small * 10 {
            slow.push(format!("{name}: {small:?} -> {big:?}"));
        }
        // A debug build on 2 shared cores: the product's release build is ~10× faster.
        if big > Duration::from_secs(8) {
            slow.push(format!("{name}: {big:?} at 60 KiB"));
        }
    }
    assert!(slow.is_empty(), "super-linear or slow inputs:\n{}", slow.join("\n"));
}

/// A probe for investigating one input: `RT_PROBE=file cargo test … guard_redteam::probe -- --ignored`
/// judges the file's text (and, with `RT_PROBE_CMDS`, prints each command line of it).
#[test]
#[ignore]
fn probe() {
    let guard = Guard::default();
    let Ok(path) = std::env::var("RT_PROBE") else { return };
    let text = std::fs::read_to_string(path).unwrap();
    for chunk in text.split("\u{0}\n") {
        let t = std::time::Instant::now();
        if std::env::var("RT_PROBE_PARSE").is_ok() {
            use claudebench_domain::policy::{paths::Loc, shell};
            let s = shell::parse(chunk, &Loc::project(), 0, 8);
            println!("parse {:>10?} {} cmds", t.elapsed(), s.cmds.len());
        }
        let t = std::time::Instant::now();
        let d = guard.check_command(chunk, Some("/home/dev/project"));
        println!(
            "{:>10?} {:>5} {:?} {:?}: {:?}",
            t.elapsed(),
            chunk.len(),
            d.decision,
            d.rule.unwrap_or_default(),
            d.reason.unwrap_or_default().chars().take(100).collect::<String>()
        );
        let e = guard.evaluate("Bash", &serde_json::json!({ "command": chunk }));
        if let Some(m) = e.modified {
            println!("    rewritten to {m} ({:?})", e.decision);
        }
    }
}

/// Removing a plain `sudo` leaves the same command, unprivileged: its environment words stay,
/// and an option that changes what the command reads (`-S`) is asked instead.
#[test]
fn sudo_rewrites_keep_the_command() {
    let guard = Guard::default();
    let rewrite = |command: &str| {
        let d = guard.evaluate("Bash", &serde_json::json!({ "command": command }));
        (d.decision, d.modified.and_then(|m| m["command"].as_str().map(str::to_string)))
    };
    let same =
        |command: &str, to: &str| assert_eq!(rewrite(command), (Decision::Allow, Some(to.to_string())), "{command}");
    same("sudo PATH=/tmp/evil:$PATH ls", "PATH=/tmp/evil:$PATH ls");
    same("sudo LD_PRELOAD=/tmp/x.so ls", "LD_PRELOAD=/tmp/x.so ls");
    same("sudo -E FOO=1 make install", "FOO=1 make install");
    same("sudo -- ls -la", "ls -la");
    same("sudo -n apt-get install -y jq && sudo -E make install", "apt-get install -y jq && make install");
    assert_eq!(rewrite("sudo -S cat <<< pw"), (Decision::Ask, None));
    assert_eq!(rewrite("sudo -u bob ls"), (Decision::Ask, None));
}

/// A shell reading its input drops NUL bytes: what it would run is judged, and asked at least.
#[test]
fn nul_bytes_do_not_hide_a_command() {
    let guard = Guard::default();
    assert_eq!(guard.check_command("\0rm -rf /", Some("/home/dev/project")).decision, Decision::Deny);
    assert_eq!(guard.check_command("r\0m -rf /", Some("/home/dev/project")).decision, Decision::Deny);
    assert_eq!(guard.check_command("ls\0", Some("/home/dev/project")).decision, Decision::Ask);
}
