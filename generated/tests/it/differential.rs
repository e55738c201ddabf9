//! Differential test: for every event of the real spec, the generated validators accept exactly
//! what the `jsonschema` crate accepts for the JSON Schema the spec publishes (`EVENTS[i].input_schema`
//! and `output_schema`), on many generated inputs: values built from the schema, then mutated
//! (keys dropped and added, wrong types, boundary numbers, nulls, long and odd strings).

use claudebench_generated::events::EventId;
use serde_json::{Map, Value, json};

use crate::rng::Rng;

const VALID_FORMATTED: &[(&str, &[&str])] = &[
    ("date-time", &["2025-09-15T10:00:00Z", "2024-02-29T23:59:59.5+01:00", "1990-12-31T23:59:60Z"]),
    ("uuid", &["123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000"]),
    ("uri", &["https://example.com/a?b=c#d", "urn:isbn:0451450523", "mailto:a@b.c"]),
];

/// Values that probe type checks, boundaries and formats wherever they land.
fn interesting(rng: &mut Rng) -> Value {
    let long = "x".repeat(501);
    let choices = [
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(1),
        json!(3.0),
        json!(2.5),
        json!(10),
        json!(11),
        json!(100),
        json!(101),
        json!(1000),
        json!(9007199254740991i64),
        json!(9007199254740992i64),
        json!(-9007199254740992i64),
        json!(1e300),
        json!(-0.0),
        json!(""),
        json!("a"),
        json!(long),
        json!("x".repeat(500)),
        json!("ééé"),
        json!("2025-09-15T10:00:00Z"),
        json!("2025-02-30T10:00:00Z"),
        json!("not a date"),
        json!("123e4567-e89b-12d3-a456-426614174000"),
        json!("https://example.com"),
        json!("pending"),
        json!("in_progress"),
        json!("completed"),
        json!([]),
        json!([1]),
        json!(["a"]),
        json!({}),
        json!({"a": 1}),
    ];
    rng.pick(&choices).clone()
}

fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// A value built from a schema: usually valid, sometimes not (the oracle decides either way).
fn generate(schema: &Value, rng: &mut Rng, depth: usize) -> Value {
    if depth > 8 {
        return json!(null);
    }
    if let Some(examples) = schema.get("examples").and_then(Value::as_array).filter(|e| !e.is_empty())
        && rng.chance(30)
    {
        return rng.pick(examples).clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array).filter(|v| !v.is_empty()) {
        return rng.pick(values).clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array).filter(|o| !o.is_empty())
            && schema.get("type").is_none()
            && schema.get("properties").is_none()
        {
            return generate(rng.pick(options), rng, depth + 1);
        }
    }
    let types = types_of(schema);
    let non_null: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    if types.contains(&"null") && (non_null.is_empty() || rng.chance(15)) {
        return json!(null);
    }
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    match non_null.first().copied() {
        Some("string") => {
            if let Some(fmt) = schema.get("format").and_then(Value::as_str)
                && let Some((_, samples)) = VALID_FORMATTED.iter().find(|(f, _)| *f == fmt)
            {
                return json!(rng.pick(samples));
            }
            let min = num("minLength").unwrap_or(0.0) as usize;
            let max = num("maxLength").map(|m| m as usize).unwrap_or(min + 12).max(min);
            let len = if rng.chance(30) { *rng.pick(&[min, max]) } else { min + rng.below(max - min + 1).min(12) };
            let alphabet = ['a', 'b', 'z', 'é', '日', ' ', '-', '0'];
            json!((0..len).map(|_| *rng.pick(&alphabet)).collect::<String>())
        }
        Some(t @ ("integer" | "number")) => {
            let lo = num("minimum").or(num("exclusiveMinimum").map(|x| x + 1.0)).unwrap_or(-50.0).max(-1e6);
            let hi = num("maximum").or(num("exclusiveMaximum").map(|x| x - 1.0)).unwrap_or(lo + 100.0).min(lo + 1e6);
            let mut x = if rng.chance(30) {
                *rng.pick(&[lo, hi])
            } else {
                lo + (rng.below(((hi - lo).max(0.0)) as usize + 1)) as f64
            };
            if t == "number" && rng.chance(30) {
                x = (x + 0.5).min(hi);
            }
            if t == "integer" { json!(x as i64) } else { json!(x) }
        }
        Some("boolean") => json!(rng.chance(50)),
        Some("array") => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            let min = num("minItems").unwrap_or(0.0) as usize;
            let max = num("maxItems").map(|m| m as usize).unwrap_or(min + 3).max(min).min(min + 3);
            let n = min + rng.below(max - min + 1);
            json!((0..n).map(|_| generate(&items, rng, depth + 1)).collect::<Vec<_>>())
        }
        Some("object") => {
            let mut out = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if required.contains(&k.as_str()) || rng.chance(60) {
                        out.insert(k.clone(), generate(s, rng, depth + 1));
                    }
                }
            }
            if let Some(values) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for i in 0..rng.below(3) {
                    out.insert(format!("k{i}"), generate(values, rng, depth + 1));
                }
            }
            // A discriminated union at this level: pick a variant and merge it in.
            if let Some(options) = schema.get("oneOf").and_then(Value::as_array).filter(|o| !o.is_empty())
                && let Value::Object(variant) = generate(rng.pick(options), rng, depth + 1)
            {
                out.extend(variant);
            }
            Value::Object(out)
        }
        // `any`: a small arbitrary value.
        _ => interesting(rng),
    }
}

/// Change one node somewhere in `v`.
fn mutate(v: &mut Value, rng: &mut Rng) {
    let descend = rng.chance(60);
    match v {
        Value::Object(map) if descend && !map.is_empty() => {
            let key = map.keys().nth(rng.below(map.len())).cloned().unwrap_or_default();
            if let Some(child) = map.get_mut(&key) {
                mutate(child, rng);
            }
        }
        Value::Array(items) if descend && !items.is_empty() => {
            let i = rng.below(items.len());
            mutate(&mut items[i], rng);
        }
        Value::Object(map) => match rng.below(4) {
            0 if !map.is_empty() => {
                let key = map.keys().nth(rng.below(map.len())).cloned().unwrap_or_default();
                map.remove(&key);
            }
            1 => {
                map.insert(rng.pick(&["unknown", "extra", "id", "kind", "type"]).to_string(), interesting(rng));
            }
            _ => *v = interesting(rng),
        },
        Value::Array(items) if rng.chance(50) => {
            if items.is_empty() || rng.chance(50) {
                let item = items.first().cloned().unwrap_or_else(|| interesting(rng));
                items.push(item);
            } else {
                items.pop();
            }
        }
        _ => *v = interesting(rng),
    }
}

fn compile(schema_text: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(schema_text).expect("the published schema is JSON");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the published schema compiles")
}

/// One event as the differential test sees it: its name, its two published schemas, and the
/// generated validator of each side.
struct Case {
    name: &'static str,
    input_schema: &'static str,
    output_schema: &'static str,
    check: Check,
}

/// The generated validator of one side: the event's name and a JSON value → ok or the reason.
type Check = Box<dyn Fn(&str, &Value) -> Result<(), String>>;

/// Run the generated cases of every event; returns `(cases, accepted, disagreements)`.
fn differential(events: &[Case]) -> (usize, usize, Vec<String>) {
    let (mut cases, mut accepted, mut disagreements) = (0, 0, Vec::new());
    for event in events {
        for (side, schema_text) in [("input", event.input_schema), ("output", event.output_schema)] {
            let oracle = compile(schema_text);
            let schema: Value = serde_json::from_str(schema_text).unwrap_or_default();
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (event.name.len() as u64) << 7 ^ side.len() as u64);
            for case in 0..400 {
                let mut value = generate(&schema, &mut rng, 0);
                // A quarter of the cases stay as generated; the rest get one to three mutations.
                if case % 4 != 0 {
                    for _ in 0..1 + rng.below(3) {
                        mutate(&mut value, &mut rng);
                    }
                }
                let ours = (event.check)(side, &value);
                let theirs = oracle.is_valid(&value);
                cases += 1;
                accepted += usize::from(theirs);
                if ours.is_ok() != theirs {
                    disagreements.push(format!(
                        "{} {side} case {case}: ours {ours:?}, jsonschema {theirs}\n  {value}",
                        event.name
                    ));
                }
            }
        }
    }
    (cases, accepted, disagreements)
}

fn assert_agreement(events: &[Case]) {
    let (cases, accepted, disagreements) = differential(events);
    eprintln!("{accepted} of {cases} generated cases are valid");
    // Both verdicts must be well represented, or the test proves little.
    assert!(events.is_empty() || (accepted * 5 > cases && accepted * 5 < cases * 4), "{accepted} of {cases} valid");
    assert!(
        disagreements.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        disagreements.len(),
        disagreements.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// One [`Case`] per event of a generated module (the real spec's or the kitchen sink's).
macro_rules! cases_of {
    ($events:path) => {{
        use $events::{EventId, Input, Output};
        EventId::ALL
            .iter()
            .map(|&id| Case {
                name: id.name(),
                input_schema: id.def().input_schema,
                output_schema: id.def().output_schema,
                check: Box::new(move |side: &str, v: &Value| {
                    let r = if side == "input" {
                        Input::from_value(id, v).map(drop)
                    } else {
                        Output::from_value(id, v).map(drop)
                    };
                    r.map_err(|e| e.to_string())
                }),
            })
            .collect::<Vec<Case>>()
    }};
}

#[test]
fn generated_validators_accept_exactly_what_json_schema_accepts() {
    assert_agreement(&cases_of!(claudebench_generated::events));
}

#[test]
fn kitchen_sink_validators_accept_exactly_what_json_schema_accepts() {
    assert_agreement(&cases_of!(crate::kitchen_sink::generated::events));
}

#[test]
fn every_published_schema_compiles() {
    for id in EventId::ALL {
        compile(id.def().input_schema);
        compile(id.def().output_schema);
    }
}
