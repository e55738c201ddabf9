//! The pre-tool hook rules: bypasses of the original validator are closed.

use claudebench_runtime::coordination::hook_rules::{HookEngine, HookRules};
use serde_json::json;

fn bash(engine: &HookEngine, command: &str) -> claudebench_runtime::coordination::hook_rules::HookDecision {
    engine.evaluate("Bash", &json!({ "command": command }))
}

#[test]
fn a_plain_destructive_command_is_blocked_as_dangerous() {
    let d = bash(&HookEngine::default(), "rm -rf /");
    assert!(!d.allow);
    assert!(d.reason.unwrap().to_lowercase().contains("dangerous"));
    assert_eq!(d.rule.as_deref(), Some("dangerous_operations"));
}

#[test]
fn a_safe_first_command_no_longer_lets_a_chained_destructive_one_through() {
    let e = HookEngine::default();
    for cmd in [
        "ls && rm -rf /",
        "ls; rm -rf /",
        "echo x; sudo rm -rf /",
        "pwd || rm -fr /home",
        "ls | rm -rf /",
        "ls & rm -rf /",
        "ls\nrm -rf /",
        "$(rm -rf /)",
        "`rm -rf /`",
        "echo $(rm -rf /)",
        "echo \"$(rm -rf /)\"",
        "echo `rm -rf /`",
        "(rm -rf /)",
        "ls; echo ok && (cd / && rm -r -f *)",
        "psql -c 'DROP DATABASE prod'",
    ] {
        let d = bash(&e, cmd);
        assert!(!d.allow, "{cmd:?} must be blocked");
    }
}

#[test]
fn quoted_text_of_a_safe_command_is_not_a_false_positive() {
    let e = HookEngine::default();
    assert!(bash(&e, "echo 'rm -rf / is dangerous'").allow);
    assert!(bash(&e, "ls -la").allow);
    assert!(bash(&e, "grep -rn TODO src").allow);
    // ...but anything the shell executes inside it is checked.
    assert!(!bash(&e, "echo \"$(rm -rf /)\"").allow);
}

#[test]
fn tool_names_match_exactly_not_by_substring() {
    let e = HookEngine::default();
    // TodoWrite is not Write; a lowercase "bash" is not the Bash tool.
    assert!(e.evaluate("TodoWrite", &json!({"file_path": "/etc/passwd"})).allow);
    assert!(e.evaluate("bash_history_viewer", &json!({"command": "rm -rf /"})).allow);
    assert!(!e.evaluate("Bash", &json!({"command": "rm -rf /"})).allow);
}

#[test]
fn writing_or_editing_system_files_is_blocked_for_every_file_tool() {
    let e = HookEngine::default();
    for tool in ["Write", "Edit", "MultiEdit"] {
        let d = e.evaluate(tool, &json!({"file_path": "/etc/passwd", "content": "x"}));
        assert!(!d.allow, "{tool}");
        assert!(d.reason.unwrap().contains("system directory"));
    }
    assert!(!e.evaluate("NotebookEdit", &json!({"notebook_path": "/boot/x.ipynb"})).allow);
    assert!(!e.evaluate("Write", &json!({"file_path": "/tmp/../etc/shadow"})).allow);
    assert!(e.evaluate("Write", &json!({"file_path": "/home/me/project/etc/config.toml"})).allow);
    assert!(!bash(&e, "echo evil >> /etc/hosts").allow);
    assert!(bash(&e, "make 2>/dev/null").allow);
}

#[test]
fn sudo_is_stripped_and_the_modified_input_returned() {
    let e = HookEngine::default();
    let d = e.evaluate("Bash", &json!({"command": "sudo apt-get install package", "timeout": 5}));
    assert!(d.allow);
    let m = d.modified.expect("modified input");
    assert_eq!(m["command"], "apt-get install package");
    assert_eq!(m["timeout"], 5, "other input fields are kept");
    let d = bash(&e, "make && sudo make install");
    assert_eq!(d.modified.unwrap()["command"], "make && make install");
    assert!(bash(&e, "ls").modified.is_none());
}

#[test]
fn warnings_are_returned_with_an_allowed_decision() {
    let e = HookEngine::default();
    let d = bash(&e, "cat very-large-file.txt");
    assert!(d.allow);
    assert_eq!(d.warnings, vec!["Warning: Large file operation".to_string()]);
    let d = bash(&e, "ls && find / -name x");
    assert!(d.allow);
    assert_eq!(d.warnings, vec!["Warning: Filesystem-wide operation".to_string()]);
}

#[test]
fn a_custom_ruleset_loads_from_json() {
    let rules = HookRules::from_json(
        r#"{"safeCommands": [], "rules": [{"name": "no_curl", "tools": ["Bash"], "severity": "high", "action": "block",
            "target": "command", "patterns": ["\\bcurl\\b"], "message": "network access: {{match}}"}]}"#,
    )
    .unwrap();
    let e = rules.compile().unwrap();
    let d = bash(&e, "ls; CURL http://x");
    assert!(!d.allow);
    assert_eq!(d.reason.as_deref(), Some("network access: CURL"));
    assert!(bash(&e, "rm -rf /").allow, "only the configured rules apply");
}
