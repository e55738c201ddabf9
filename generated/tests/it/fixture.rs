//! The code generated from the codegen fixture spec (the text of its insta snapshot) compiles, in
//! the test crate `claudebench-generated-fixtures`, and its table holds the fixture's events.

use claudebench_generated_fixtures::fixture::events::EVENTS;

#[test]
fn the_fixture_specs_code_compiles_into_a_table_of_its_events() {
    let names: Vec<&str> = EVENTS.iter().map(|e| e.name).collect();
    assert_eq!(names, ["note.attach", "note.create", "note.finish", "note.search"]);
}

#[test]
fn the_table_lists_what_each_event_publishes() {
    let publishes: Vec<(&str, &[&str])> = EVENTS.iter().map(|e| (e.name, e.publishes)).collect();
    assert_eq!(
        publishes,
        [
            ("note.attach", &[][..]),
            ("note.create", &["note.created"][..]),
            ("note.finish", &[][..]),
            ("note.search", &[][..])
        ]
    );
}
