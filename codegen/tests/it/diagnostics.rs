//! Every kind of spec error: one bad fixture per case under `tests/fixtures/bad/`, each rendered
//! diagnostic snapshotted, and the kinds each fixture must produce asserted.

use std::path::Path;

use claudebench_codegen::{SpecSource, load_sources};

fn diagnose(case: &str) -> (Vec<&'static str>, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad").join(format!("{case}.yaml"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let source = SpecSource { path: format!("spec/{case}.yaml"), text };
    match load_sources(&[source]) {
        Ok(_) => panic!("fixture `{case}` unexpectedly loaded without errors"),
        Err(diags) => (diags.iter().map(|d| d.kind.as_str()).collect(), diags.to_string()),
    }
}

macro_rules! case {
    ($test:ident, $case:literal, [$($kind:literal),+ $(,)?]) => {
        #[test]
        fn $test() {
            let (kinds, rendered) = diagnose($case);
            for expected in [$($kind),+] {
                assert!(kinds.contains(&expected), "expected a `{expected}` diagnostic for {}, got {kinds:?}\n{rendered}", $case);
            }
            insta::assert_snapshot!($case, rendered);
        }
    };
}

case!(unknown_keys_are_reported_with_the_nearest_valid_key, "unknown-key", ["unknown-key"]);
case!(values_of_the_wrong_type_are_reported_each, "wrong-type", ["wrong-type"]);
case!(malformed_event_names_get_a_suggested_name, "bad-event-name", ["bad-event-name"]);
case!(a_repeated_event_points_at_the_first_declaration, "duplicate-event", ["duplicate-event"]);
case!(definitions_whose_generated_constants_would_clash_are_refused, "constant-clash", ["duplicate-definition"]);
case!(integer_bounds_must_be_safe_integers_and_admit_a_value, "integer-bounds", ["wrong-type", "min-greater-than-max"]);
case!(names_the_generated_rust_cannot_use_are_refused, "rust-name-clash", ["bad-definition-name", "duplicate-event"]);
case!(
    jsonrpc_reserved_names_and_long_publishes_lists_are_refused,
    "jsonrpc-reserved",
    ["reserved-name", "out-of-range"]
);
case!(a_dangling_ref_suggests_the_closest_definition, "dangling-ref", ["dangling-ref"]);
case!(defaults_must_satisfy_their_own_constraints, "invalid-default", ["invalid-default"]);
case!(
    date_times_are_checked_with_the_servers_own_rfc_3339_rules,
    "invalid-date-time",
    ["invalid-default", "invalid-example"]
);
case!(lower_bounds_above_upper_bounds_are_refused, "min-greater-than-max", ["min-greater-than-max"]);
case!(a_fallback_must_validate_against_the_output, "fallback-mismatch", ["fallback-mismatch"]);
case!(state_changing_events_cannot_be_cached, "cache-on-mutating-event", ["cache-on-mutating-event"]);
case!(tool_set_names_are_lowercase_identifiers_and_not_all, "bad-toolset", ["bad-toolset", "wrong-type"]);
case!(exposed_events_need_a_short_description_for_a_model, "mcp-description", ["mcp-description"]);
case!(invalid_regexes_are_refused_with_the_reason, "invalid-regex", ["invalid-regex"]);
case!(yaml_syntax_errors_point_at_the_line, "yaml-syntax", ["yaml-syntax"]);
case!(
    every_structural_error_is_reported_in_one_run,
    "structural",
    ["root-not-object", "misplaced-key", "unknown-type", "persist-without-mutates", "bad-rule"]
);

#[test]
fn the_fixture_spec_loads_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    let (spec, files) = claudebench_codegen::load_dir(&dir, "spec").unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(files.len(), 2);
    let names: Vec<&str> = spec.events.iter().map(|e| e.name.full.as_str()).collect();
    assert_eq!(names, ["note.attach", "note.create", "note.finish", "note.search"]);
    assert_eq!(spec.definitions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["Note", "NoteStatus"]);
}

#[test]
fn the_real_spec_loads_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    if let Err(d) = claudebench_codegen::load_dir(&dir, "spec") {
        panic!("{d}");
    }
}

#[test]
fn diagnostics_never_panic_on_arbitrary_yaml_shapes() {
    let shapes = [
        "",
        "[]",
        "42",
        "events: 3",
        "events: [1, 2]",
        "events: [{name: a.b}]",
        "definitions: []",
        "definitions: {X: 1}",
        "events: [{name: a.b, description: d, input: {type: object, properties: [1]}, output: {}}]",
        "events: [{name: a.b, description: d, input: {type: one_of}, output: {type: object}}]",
        "events: [{name: a.b, description: d, input: {type: object, rules: [{}]}, output: {type: object}}]",
        "definitions: {A: {ref: B}, B: {ref: A}}\nevents: [{name: a.b, description: d, input: {ref: A}, output: {type: object}}]",
        "x: &a [*a]",
    ];
    for text in shapes {
        let _ = load_sources(&[SpecSource { path: "spec/x.yaml".into(), text: text.into() }]);
    }
}

case!(definition_names_cannot_shadow_generated_names, "reserved-name", ["reserved-name"]);
case!(events_cannot_take_the_servers_own_routes, "reserved-route", ["reserved-name"]);
case!(
    published_names_are_notifications_never_events_of_the_spec,
    "publishes",
    ["publishes-spec-event", "duplicate-published-name", "bad-event-name"]
);
case!(
    claude_code_routes_fill_their_events_input_and_reach_one_event_each,
    "bad-hook-route",
    ["bad-hook-route", "wrong-value"]
);
case!(claude_code_routes_that_do_not_fit_the_spec_are_refused, "hook-table", ["bad-hook-route"]);
