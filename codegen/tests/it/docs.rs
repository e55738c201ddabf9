//! EVENTS.md: the snapshot plus what every event section must say.

use claudebench_codegen::emit::{GENERATED_NOTE, docs, json_schema};
use serde_json::Value;

use super::json_schema::{fixture_spec, sample_spec};

/// The section of `text` from `start` up to the next line that begins with `until` (or the end).
fn section<'a>(text: &'a str, start: &str, until: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no `{start}` in:\n{text}"));
    let rest = &text[from + start.len()..];
    let to = rest.find(&format!("\n{until}")).unwrap_or(rest.len());
    &rest[..to]
}

#[test]
fn sample_events_md_snapshot() {
    insta::assert_snapshot!("events_md_sample", docs::emit(&sample_spec()));
}

#[test]
fn fixture_events_md_snapshot() {
    insta::assert_snapshot!("events_md_fixture", docs::emit(&fixture_spec()));
}

#[test]
fn header_notes_generation_and_lists_every_event() {
    let md = docs::emit(&sample_spec());
    assert!(md.starts_with(&format!("<!-- {GENERATED_NOTE} -->")));
    let contents = section(&md, "## Contents", "<a id=");
    for event in &sample_spec().events {
        assert!(contents.contains(&format!("[`{}`]", event.name.full)), "{} missing from contents", event.name.full);
    }
    assert!(contents.contains("(deprecated)"));
}

#[test]
fn each_event_section_documents_transports_limits_and_policy() {
    let md = docs::emit(&sample_spec());
    let create = section(&md, "### `task.create`", "### ");
    for needle in [
        "Create a task and queue it by priority.",
        "**HTTP**: `POST /task/create`",
        "**JSON-RPC method**: `task.create`",
        "**MCP tool**: `task__create`",
        "**Persist**: yes",
        "**Roles**: `worker`, `admin`",
        "**Rate limit**: 100 calls per 60000 ms, per caller",
        "**Timeout**: 5000 ms",
        "**Circuit breaker**: none",
        "**Cache**: none",
        "| Field | Type | Required | Default | Constraints | Description |",
        "| `priority` | integer | no | `50` | 0 ≤ value ≤ 100 |",
        "| `text` | string | yes |  | 1 ≤ length ≤ 500 | What to do \\| how. Examples: `\"Write docs\"` |",
        "#### Example: basic",
        "\"priority\": 70",
    ] {
        assert!(create.contains(needle), "task.create section lacks {needle:?}:\n{create}");
    }

    let complete = section(&md, "### `task.complete`", "### ");
    for needle in [
        "**Circuit breaker**: opens after 5 consecutive failures for 30000 ms",
        "the fallback `{\"task\":null}`",
        "At least one of `id`, `taskId`: Either 'id' or 'taskId' must be provided",
        "At most one of `result`, `error`",
        "Unknown keys are dropped.",
        "| `ratio` | number | no |  | 0 < value < 1.5 |",
        "| `task` | [Task](#def-task) \\| null | yes |",
    ] {
        assert!(complete.contains(needle), "task.complete section lacks {needle:?}:\n{complete}");
    }

    let pre = section(&md, "### `hook.pre_tool`", "### ");
    for needle in [
        "**Cache**: answers cached for 30 s",
        "(tool set `hooks`, read-only, idempotent)",
        "| `params.command` | string | yes |",
        "when `kind` is `\"bash\"`",
    ] {
        assert!(pre.contains(needle), "hook.pre_tool section lacks {needle:?}:\n{pre}");
    }

    let batch = section(&md, "### `system.batch_process`", "### ");
    assert!(batch.contains("**Deprecated.** Use [`task.create`](#task-create) instead."));
    assert!(batch.contains("(aliases: `system.batch.process`)"));

    let health = section(&md, "### `system.health`", "## ");
    assert!(health.contains("**MCP tool**: not exposed"));
    assert!(health.contains("No fields."));
}

#[test]
fn definitions_and_errors_are_documented() {
    let md = docs::emit(&sample_spec());
    let task = section(&md, "### `Task`", "### ");
    assert!(task.contains("A unit of work."));
    assert!(task.contains("| `status` | `\"pending\"` \\| `\"in_progress\"` \\| `\"completed\"` \\| `\"failed\"` ([TaskStatus](#def-taskstatus)) | yes |"));
    let errors = section(&md, "## Errors", "## ");
    assert!(errors.contains("| `rate_limited` | 429 | -32000 |"));
}

/// An example synthesised for an event without spec examples must itself be valid, or the docs
/// would teach a request the server rejects. Every event of every spec we have is tried with its
/// examples removed.
#[test]
fn synthesised_examples_validate_against_the_event_schemas() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let real = claudebench_codegen::load_dir(&root, "spec").map(|(spec, _)| spec);
    for mut spec in [sample_spec(), fixture_spec()].into_iter().chain(real.ok()) {
        for event in &mut spec.events {
            event.examples.clear();
        }
        let md = docs::emit(&spec);
        for event in &spec.published().events {
            let body = section(&md, &format!("### `{}`", event.name.full), "### ");
            let request = section(body, "Request (`POST", "```\n\nResponse");
            let response = section(body, "Response:", "```\n");
            let json_of = |block: &str| -> Value {
                let start = block.find("```json\n").expect("json block") + "```json\n".len();
                let end = block[start..].find("\n```").map(|i| start + i).unwrap_or(block.len());
                serde_json::from_str(&block[start..end]).unwrap_or_else(|e| panic!("{}: {e}\n{block}", event.name.full))
            };
            let (input, output) = (json_of(request), json_of(&format!("{response}\n```")));
            let input_schema = json_schema::event_input(&spec, event);
            let output_schema = json_schema::event_output(&spec, event);
            assert!(jsonschema::draft202012::is_valid(&input_schema, &input), "{}: {input}", event.name.full);
            assert!(jsonschema::draft202012::is_valid(&output_schema, &output), "{}: {output}", event.name.full);
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(docs::emit(&sample_spec()), docs::emit(&sample_spec()));
}
