//! Property test of the JSON-RPC decoder (`transport::jsonrpc::handle_bytes`), standing in for a
//! cargo-fuzz target: fuzzing it would put the whole runtime (sqlx, axum, rmcp, …) into the
//! instrumented fuzz build, which costs more CI time than the rest of the fuzzing together.
//!
//! Deterministic cases (so a failure reproduces from its number): envelopes and batches built from
//! every kind of member value, and byte-level mutations of the seed messages in
//! `fuzz/corpus/jsonrpc/`, under the default limits and under small ones (so the batch and
//! answer caps are reached too). Whatever arrives, the decoder must not panic, and every answer
//! must be JSON-RPC 2.0 as published: a parse error for text that is not JSON, and otherwise
//! response objects with `jsonrpc`, an `id` (a string, null or a safe integer) and exactly one of
//! `result` and `error`, never more of them than requests.

use claudebench_generated::events::EVENTS;
use claudebench_runtime::context::{RequestMeta, Transport};
use claudebench_runtime::transport::jsonrpc::{PARSE_ERROR, RpcLimits, handle_bytes};
use serde_json::{Map, Value, json};

use crate::transport_support::TestBackend;

const STRUCTURED_CASES: u64 = 20_000;
const MUTATED_CASES: u64 = 20_000;

// The generated crate's property-test random source, shared rather than copied.
#[path = "../../../generated/tests/it/rng.rs"]
mod rng;
use rng::Rng;

/// Any JSON value, small, of any kind (nested up to `depth`).
fn any_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 8 } else { 10 }) {
        0 => Value::Null,
        1 => json!(rng.chance(50)),
        2 => json!(rng.below(1000) as i64 - 500),
        3 => json!(1.5),
        4 => json!(u64::MAX),
        5 => json!(-1e300),
        6 => json!(["", "x", "task.create", "\u{0}", "é😀"][rng.below(5)]),
        7 => json!("a".repeat(rng.below(300))),
        8 => Value::Array((0..rng.below(4)).map(|_| any_value(rng, depth - 1)).collect()),
        _ => {
            let keys = ["id", "text", "clientId", "sessionId", "correlationId", "jsonrpc", "method", ""];
            let map: Map<String, Value> = (0..rng.below(4))
                .map(|_| (keys[rng.below(keys.len())].to_string(), any_value(rng, depth - 1)))
                .collect();
            Value::Object(map)
        }
    }
}

/// A request envelope, mostly well-formed, with any member possibly wrong or missing.
fn envelope(rng: &mut Rng) -> Value {
    let mut object = Map::new();
    if !rng.chance(5) {
        let version = if rng.chance(85) { json!("2.0") } else { any_value(rng, 0) };
        object.insert("jsonrpc".into(), version);
    }
    if !rng.chance(5) {
        let method = match rng.below(10) {
            0..=5 => {
                let event = &EVENTS[rng.below(EVENTS.len())];
                if event.aliases.is_empty() || rng.chance(50) {
                    json!(event.name)
                } else {
                    json!(event.aliases[rng.below(event.aliases.len())])
                }
            }
            6 => json!("no.such_event"),
            _ => any_value(rng, 1),
        };
        object.insert("method".into(), method);
    }
    if rng.chance(80) {
        let id = match rng.below(6) {
            0 => json!(rng.below(1_000)),
            1 => json!(format!("r-{}", rng.below(1_000))),
            2 => Value::Null,
            _ => any_value(rng, 1),
        };
        object.insert("id".into(), id);
    }
    if rng.chance(80) {
        let params =
            if rng.chance(70) { json!({"text": "write tests", "priority": rng.below(200)}) } else { any_value(rng, 2) };
        object.insert("params".into(), params);
    }
    if rng.chance(30) {
        let metadata = if rng.chance(70) {
            json!({"clientId": any_value(rng, 0), "sessionId": "s-1", "correlationId": any_value(rng, 0)})
        } else {
            any_value(rng, 1)
        };
        object.insert("metadata".into(), metadata);
    }
    if rng.chance(10) {
        object.insert("extra".into(), any_value(rng, 1));
    }
    Value::Object(object)
}

/// One message: a request, a batch of requests and stray values, or any other JSON.
fn message(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0..=4 => envelope(rng),
        5..=8 => Value::Array(
            (0..rng.below(12)).map(|_| if rng.chance(85) { envelope(rng) } else { any_value(rng, 2) }).collect(),
        ),
        _ => any_value(rng, 3),
    }
}

/// The seed messages of the (would-be) fuzz target.
fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/jsonrpc");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fuzz/corpus/jsonrpc")
        .map(|entry| std::fs::read(entry.expect("a seed file").path()).expect("read a seed"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "fuzz/corpus/jsonrpc has seeds");
    seeds
}

/// A seed with a few byte-level edits: flips, JSON punctuation, deletions, cuts, repeats.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.insert(at, b"{}[]\",:0-.e\\ntu"[rng.below(15)]),
            2 if at < bytes.len() => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let piece = other[from..(from + rng.below(40)).min(other.len())].to_vec();
                bytes.splice(at..at, piece);
            }
            _ => {
                let end = (at + rng.below(20)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                bytes.splice(at..at, piece);
            }
        }
    }
    bytes
}

/// One response object of the answer.
fn check_response(case: &str, response: &Value) {
    let Value::Object(object) = response else { panic!("{case}: a response is an object: {response}") };
    assert_eq!(object.get("jsonrpc"), Some(&json!("2.0")), "{case}: {response}");
    let id = object.get("id").unwrap_or_else(|| panic!("{case}: a response has an id: {response}"));
    let safe_integer = id.as_i64().is_some_and(|n| n.unsigned_abs() < 1 << 53);
    assert!(id.is_null() || id.is_string() || safe_integer, "{case}: the id is not one the schema allows: {response}");
    match (object.get("result"), object.get("error")) {
        (Some(_), None) => {}
        (None, Some(error)) => {
            assert!(error["code"].is_i64(), "{case}: an error has an integer code: {response}");
            assert!(error["message"].is_string(), "{case}: an error has a message: {response}");
        }
        _ => panic!("{case}: exactly one of result and error: {response}"),
    }
}

/// The server's limits, or small ones that batches and echoed inputs reach.
fn limits(case: u64) -> RpcLimits {
    if case.is_multiple_of(2) { RpcLimits::default() } else { RpcLimits { max_batch: 4, max_response_bytes: 600 } }
}

async fn check(case: &str, body: &[u8], limits: RpcLimits) {
    let backend = TestBackend::with_events(&EVENTS);
    let answer = handle_bytes(backend.as_ref(), body, &RequestMeta::new(Transport::JsonRpc), limits)
        .await
        .map(|text| serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{case}: the answer is JSON: {e}")));
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        let answer = answer.unwrap_or_else(|| panic!("{case}: text that is not JSON gets a parse error"));
        check_response(case, &answer);
        assert_eq!(answer["error"]["code"], json!(PARSE_ERROR), "{case}: {answer}");
        assert_eq!(answer["id"], Value::Null, "{case}: {answer}");
        return;
    };
    match (&message, &answer) {
        (_, None) => {}
        (Value::Array(requests), Some(Value::Array(responses))) => {
            assert!(!responses.is_empty(), "{case}: no answer rather than an empty array");
            assert!(responses.len() <= requests.len(), "{case}: more responses than requests");
            responses.iter().for_each(|r| check_response(case, r));
        }
        (_, Some(answer)) => check_response(case, answer),
    }
}

#[tokio::test]
async fn any_message_gets_well_formed_json_rpc_answers() {
    let mut rng = Rng(0x5eed_0000_1234_abcd);
    for case in 0..STRUCTURED_CASES {
        let body = serde_json::to_vec(&message(&mut rng)).unwrap();
        check(&format!("structured case {case}: {}", String::from_utf8_lossy(&body)), &body, limits(case)).await;
    }
}

#[tokio::test]
async fn mutated_seed_messages_get_well_formed_json_rpc_answers() {
    let seeds = seeds();
    let mut rng = Rng(0x00de_c0de_2025_1130);
    for case in 0..MUTATED_CASES {
        let body = mutate(&mut rng, &seeds);
        check(&format!("mutated case {case}: {}", String::from_utf8_lossy(&body)), &body, limits(case)).await;
    }
}
