//! The Rust emitter: a snapshot of the fixture spec's output (which the test crate
//! `claudebench-generated-fixtures` also compiles, as `fixture`), and properties of the output on
//! hand-built models.

use std::path::Path;

use claudebench_codegen::emit::rust::{RustOptions, emit};
use claudebench_codegen::model::*;

#[path = "../../../generated/fixtures/kitchen_sink.rs"]
mod kitchen_sink;

fn opts() -> RustOptions {
    RustOptions { support: "crate".into(), handlers_dir: "src/handlers".into() }
}

fn fixture() -> Spec {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    claudebench_codegen::load_dir(&dir, "spec").unwrap_or_else(|d| panic!("{d}")).0
}

#[test]
fn the_fixture_spec_generates_this_rust() {
    insta::assert_snapshot!("fixture_rust", emit(&fixture(), &opts()));
}

#[test]
fn the_kitchen_sink_model_generates_this_rust() {
    insta::assert_snapshot!("kitchen_sink_rust", emit(&kitchen_sink::spec(), &opts()));
}

#[test]
fn a_missing_handler_names_its_file_in_the_handlers_dir_given() {
    let out = emit(&fixture(), &RustOptions { handlers_dir: "app/src/events/".into(), ..opts() });
    assert!(out.contains("create `app/src/events/note/create.rs` with"), "{out}");
    assert!(!out.contains("src/handlers"), "{out}");
}

#[test]
fn output_starts_with_the_do_not_edit_note_and_parses_as_rust() {
    let out = emit(&kitchen_sink::spec(), &opts());
    assert!(out.starts_with("// Generated from spec/"), "{}", &out[..80]);
    assert!(out.contains("Do not edit"));
    syn::parse_file(&out).expect("the output is valid Rust");
    assert!(!out.contains("compile_error!"));
}

#[test]
fn emitting_is_deterministic() {
    assert_eq!(emit(&kitchen_sink::spec(), &opts()), emit(&kitchen_sink::spec(), &opts()));
}

#[test]
fn an_empty_spec_still_has_every_module() {
    let out = emit(&Spec { definitions: vec![], events: vec![] }, &opts());
    for item in [
        "pub mod types",
        "pub mod events",
        "pub mod handlers",
        "pub enum EventId",
        "pub static EVENTS",
        "pub async fn call",
    ] {
        assert!(out.contains(item), "missing `{item}`");
    }
}

#[test]
fn the_support_path_is_used_for_every_support_item() {
    let out = emit(
        &kitchen_sink::spec(),
        &RustOptions { support: "::claudebench_generated".into(), handlers_dir: "src/handlers".into() },
    );
    assert!(out.contains("use ::claudebench_generated::validation as v;"));
    assert!(out.contains("use ::claudebench_generated::error::Error;"));
    assert!(!out.contains("crate::"));
}

#[test]
fn wire_names_are_kept_with_serde_renames_and_descriptions_become_docs() {
    let out = emit(&kitchen_sink::spec(), &opts());
    assert!(out.contains("#[serde(rename = \"createdAt\")]\n        pub created_at: ::std::string::String,"));
    assert!(out.contains("/// A unit of work.\n"));
    assert!(out.contains("/// What to do.\n"));
}

#[test]
fn anonymous_types_are_named_after_where_they_appear() {
    let out = emit(&kitchen_sink::spec(), &opts());
    for name in [
        "pub struct TaskUpdateInputUpdates",
        "pub struct HookTodoWriteInputTodosItem",
        "pub enum HookTodoWriteInputTodosItemStatus",
        "pub struct ActionBash",
    ] {
        assert!(out.contains(name), "missing `{name}`");
    }
}

#[test]
fn rust_keywords_become_raw_identifiers() {
    let out = emit(&kitchen_sink::spec(), &opts());
    assert!(out.contains("pub r#type: ::core::option::Option<::std::string::String>"));
}

#[test]
fn a_missing_handler_names_the_event_and_the_file_to_create() {
    let out = emit(&kitchen_sink::spec(), &opts());
    assert!(out.contains("message = \"event `task.create` has no handler\""));
    assert!(out.contains("create `src/handlers/task/create.rs` with `impl handlers::TaskCreate<{C}> for {Self}"));
}

#[test]
fn a_name_collision_gets_a_numeric_suffix() {
    let mut spec = kitchen_sink::spec();
    // A definition named like the anonymous type `task.update` would otherwise produce.
    spec.definitions.push(Definition {
        name: "TaskUpdateInputUpdates".into(),
        schema: Schema::of(SchemaKind::Boolean),
        origin: Origin::default(),
    });
    spec.definitions.sort_by(|a, b| a.name.cmp(&b.name));
    let out = emit(&spec, &opts());
    assert!(out.contains("pub type TaskUpdateInputUpdates = bool;"));
    assert!(out.contains("pub struct TaskUpdateInputUpdates2"));
    syn::parse_file(&out).expect("valid Rust");
}

#[test]
fn carriage_returns_in_descriptions_become_line_breaks() {
    // rustc refuses a bare CR in a doc comment, so one in a description must never reach it.
    let mut spec = fixture();
    spec.definitions[0].schema.description = Some("first\rsecond\r\nthird".into());
    spec.events[0].description = "an event\rdescribed".into();
    let out = emit(&spec, &opts());
    assert!(!out.contains('\r'), "a carriage return reached the generated source");
    assert!(out.contains("/// first\n") && out.contains("/// second\n"), "{out}");
}
