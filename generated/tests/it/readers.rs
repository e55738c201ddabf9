//! The validation runtime's readers, used directly (no generated code).

use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::issue::IssueCode;
use claudebench_generated::validation::*;
use serde_json::json;

fn codes<R: Reader>(reader: &R, json: &str) -> Vec<(String, IssueCode)> {
    match read_slice(json.as_bytes(), reader) {
        Ok(_) => vec![],
        Err(ValidationError::Invalid(issues)) => issues.into_iter().map(|i| (i.path, i.code)).collect(),
        Err(e) => panic!("malformed: {e}"),
    }
}

fn ok<R: Reader>(reader: &R, json: &str) -> bool {
    read_slice(json.as_bytes(), reader).is_ok()
}

#[test]
fn string_lengths_count_code_points_not_bytes() {
    let r = Str::new().min_length(2).max_length(3);
    assert!(ok(&r, r#""éé""#));
    assert!(ok(&r, r#""日本語""#));
    assert_eq!(codes(&r, r#""é""#), vec![(String::new(), IssueCode::TooSmall)]);
    assert_eq!(codes(&r, r#""abcd""#), vec![(String::new(), IssueCode::TooBig)]);
}

#[test]
fn length_bounds_decided_by_byte_length_agree_with_counting() {
    // Byte length alone settles most strings; multi-byte text near a bound must still be counted.
    let r = Str::new().min_length(3).max_length(4);
    for (text, valid) in [
        ("abc", true),
        ("abcd", true),
        ("ab", false),
        ("abcde", false),
        ("ééé", true),    // 6 bytes, 3 code points
        ("éééé", true),   // 8 bytes, 4 code points
        ("ééééé", false), // 10 bytes, 5 code points
        ("😀😀", false),  // 8 bytes, 2 code points: too short although long in bytes
        ("😀😀😀", true), // 12 bytes, 3 code points
        ("a😀", false),
    ] {
        assert_eq!(ok(&r, &serde_json::to_string(text).unwrap()), valid, "{text:?}");
    }
}

#[test]
fn a_pattern_is_searched_unanchored() {
    static DIGITS: Pattern = Pattern::new("[0-9]+");
    let r = Str::new().pattern(&DIGITS);
    assert!(ok(&r, r#""abc123def""#));
    assert_eq!(codes(&r, r#""abc""#), vec![(String::new(), IssueCode::InvalidString)]);
}

#[test]
fn a_broken_pattern_becomes_an_issue_not_a_panic() {
    static BROKEN: Pattern = Pattern::new("([a-z");
    assert_eq!(codes(&Str::new().pattern(&BROKEN), r#""a""#), vec![(String::new(), IssueCode::InvalidString)]);
}

#[test]
fn date_times_follow_rfc_3339() {
    let r = Str::new().format(Format::DateTime);
    for good in [
        "2025-09-15T10:00:00Z",
        "2025-09-15t10:00:00.123z",
        "2024-02-29T23:59:60Z",
        "2025-01-01T00:00:00+05:30",
        "1998-12-31T18:59:60-05:00",
    ] {
        assert!(ok(&r, &format!("\"{good}\"")), "{good}");
    }
    for bad in [
        "2025-09-15",
        "2025-09-15 10:00:00Z",
        "2025-02-29T10:00:00Z",
        "2025-13-01T00:00:00Z",
        "2025-09-15T24:00:00Z",
        "2025-09-15T10:00:00",
        "2025-09-15T10:00:60Z",
        "2025-09-15T10:00:00.Z",
        "2025-09-15T10:00:00+0530",
    ] {
        assert!(!ok(&r, &format!("\"{bad}\"")), "{bad}");
    }
}

#[test]
fn uuids_are_hyphenated_hex_of_any_version_and_case() {
    let r = Str::new().format(Format::Uuid);
    assert!(ok(&r, r#""123e4567-e89b-12d3-a456-426614174000""#));
    assert!(ok(&r, r#""123E4567-E89B-12D3-A456-426614174000""#));
    assert!(!ok(&r, r#""123e4567e89b12d3a456426614174000""#));
    assert!(!ok(&r, r#""123e4567-e89b-12d3-a456-42661417400g""#));
}

#[test]
fn uris_need_a_scheme_and_valid_characters() {
    let r = Str::new().format(Format::Uri);
    for good in [
        "https://example.com",
        "urn:isbn:0451450523",
        "mailto:a@b.c",
        "http://[::1]:8080/x?y#z",
        "file:///tmp/a%20b",
        "a:",
    ] {
        assert!(ok(&r, &format!("\"{good}\"")), "{good}");
    }
    for bad in [
        "/relative/path",
        "example.com",
        "http://exa mple.com",
        "1http://x",
        "http://x/%zz",
        "http://[::zz]/",
        "http://host:port/",
    ] {
        assert!(!ok(&r, &format!("\"{bad}\"")), "{bad}");
    }
}

#[test]
fn integer_bounds_can_be_exclusive() {
    let r = Int::new().exclusive_min(0).exclusive_max(10);
    assert!(ok(&r, "1") && ok(&r, "9"));
    assert_eq!(codes(&r, "0"), vec![(String::new(), IssueCode::TooSmall)]);
    assert_eq!(codes(&r, "10"), vec![(String::new(), IssueCode::TooBig)]);
    assert!(matches!(read_slice(b"1e400", &r), Err(ValidationError::Malformed { .. })));
}

#[test]
fn numbers_accept_integers_and_fractions() {
    let r = Num::new().min(-1.5).max(1.5);
    assert!(ok(&r, "1") && ok(&r, "-1.5") && ok(&r, "0.25"));
    assert_eq!(codes(&r, "1.6"), vec![(String::new(), IssueCode::TooBig)]);
    assert_eq!(codes(&r, "true"), vec![(String::new(), IssueCode::InvalidType)]);
}

#[test]
fn nullable_accepts_null_and_validates_anything_else() {
    let r = Nullable(Str::new().min_length(1));
    assert_eq!(read_slice(b"null", &r).unwrap(), None);
    assert_eq!(read_slice(br#""a""#, &r).unwrap(), Some("a".to_string()));
    assert_eq!(codes(&r, r#""""#), vec![(String::new(), IssueCode::TooSmall)]);
    assert_eq!(codes(&Str::new(), "null"), vec![(String::new(), IssueCode::InvalidType)]);
}

#[test]
fn arrays_and_records_report_each_bad_element() {
    let r = Array::new(Record(Int::new().min(0))).max_items(2);
    assert_eq!(
        codes(&r, r#"[{"a": 1}, {"b": -1, "c": "x"}, {}]"#),
        vec![
            ("[1].b".into(), IssueCode::TooSmall),
            ("[1].c".into(), IssueCode::InvalidType),
            (String::new(), IssueCode::TooBig)
        ]
    );
}

#[test]
fn any_accepts_every_json_value() {
    for v in ["null", "1", "\"s\"", "[1,{}]", "{\"a\":null}"] {
        assert!(ok(&Any, v));
    }
}

#[test]
fn wrong_container_types_are_consumed_so_reading_continues() {
    let r = Array::new(Bool);
    assert_eq!(
        codes(&r, r#"[{"x": [1, 2]}, [true], true]"#),
        vec![("[0]".into(), IssueCode::InvalidType), ("[1]".into(), IssueCode::InvalidType)]
    );
}

#[test]
fn a_validation_error_becomes_a_validation_error_code() {
    let err = read_value(&json!(5), &Str::new()).unwrap_err();
    let e: Error = err.into();
    assert_eq!(e.code, ErrorCode::Validation);
    assert_eq!(e.issues.len(), 1);
    let malformed: Error = read_slice(b"{", &Any).unwrap_err().into();
    assert_eq!(malformed.code, ErrorCode::Validation);
    assert!(malformed.message.contains("malformed JSON"), "{}", malformed.message);
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A small deterministic fuzz: every prefix and byte flip of a valid document.
    let doc = br#"{"a": [1, 2.5, "x", {"b": null}], "c": true}"#;
    let r = Record(Array::new(Nullable(Num::new())));
    for end in 0..=doc.len() {
        let _ = read_slice(&doc[..end], &r);
    }
    for i in 0..doc.len() {
        for b in [b'{', b'}', b'[', b']', b'"', b',', b':', b'0', 0xff] {
            let mut d = doc.to_vec();
            d[i] = b;
            let _ = read_slice(&d, &r);
        }
    }
}

#[test]
fn a_repeated_key_means_its_last_occurrence_on_the_bytes_and_the_value_path() {
    use claudebench_generated::events::{EventId, Input};
    // Found by the `validators` fuzz target: the bytes path kept the first occurrence's issue
    // while `serde_json::Value` (JSON-RPC, MCP) keeps only the last occurrence.
    for (body, valid) in [
        (r#"{"text": 5, "text": "write tests"}"#, true),
        (r#"{"text": "write tests", "text": 5}"#, false),
        (r#"{"text": "a", "priority": 500, "priority": 7, "text": "b"}"#, true),
        (r#"{"text": "a", "metadata": {"k": 1}, "metadata": 3}"#, false),
    ] {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        let from_bytes = Input::parse(EventId::TaskCreate, body.as_bytes());
        let from_value = Input::from_value(EventId::TaskCreate, &value);
        assert_eq!(from_bytes.is_ok(), valid, "{body}: {from_bytes:?}");
        assert_eq!(from_bytes.ok(), from_value.ok(), "{body}");
    }
}

#[test]
fn a_repeated_record_key_means_its_last_occurrence() {
    let r = Record(Int::new().min(0));
    assert!(ok(&r, r#"{"a": -1, "a": 2}"#));
    assert_eq!(read_slice(br#"{"a": -1, "a": 2, "b": 1}"#, &r).unwrap(), [("a".into(), 2), ("b".into(), 1)].into());
    assert_eq!(codes(&r, r#"{"a": 2, "a": -1}"#), vec![("a".into(), IssueCode::TooSmall)]);
}
