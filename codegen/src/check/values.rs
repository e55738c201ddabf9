//! The reference semantics of a schema on a JSON value: what the generated validators and the
//! emitted JSON Schema both implement, used by the checker on defaults, examples and fallbacks.
//! String formats are judged by the wire contract's [`Format::is_valid`], the check the server
//! runs, so the spec cannot hold a value its own server would refuse.

use serde_json::Value;

use crate::model::*;

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn at(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!(" at `{path}`") }
}

/// Validate a JSON value against a model schema (the reference semantics the generated
/// validators and the emitted JSON Schema both implement). Problems are short sentences.
pub(crate) fn validate(spec: &Spec, schema: &Schema, value: &Value, path: String, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        out.push(format!("value nested too deeply{}", at(&path)));
        return;
    }
    if value.is_null() && (schema.nullable || matches!(schema.kind, SchemaKind::Any)) {
        return;
    }
    let expected = |out: &mut Vec<String>, what: &str| {
        out.push(format!("expected {what}, found {}{}", json_kind(value), at(&path)))
    };
    match &schema.kind {
        SchemaKind::Any => {}
        SchemaKind::Boolean => {
            if !value.is_boolean() {
                expected(out, "boolean");
            }
        }
        SchemaKind::String(rules) => match value.as_str() {
            Some(s) => validate_string(rules, s, &path, out),
            None => expected(out, "string"),
        },
        SchemaKind::Integer(rules) | SchemaKind::Number(rules) => {
            let Some(x) = value.as_f64() else {
                return expected(out, "number");
            };
            let integer = matches!(schema.kind, SchemaKind::Integer(_));
            if integer && x.fract() != 0.0 {
                return expected(out, "integer");
            }
            validate_number(rules, integer, x, &path, out);
        }
        SchemaKind::Enum(values) => match value.as_str() {
            Some(s) if values.iter().any(|v| v == s) => {}
            Some(s) => out.push(format!("`{s}` is not one of {}{}", values.join(", "), at(&path))),
            None => expected(out, "string"),
        },
        SchemaKind::Array(a) => match value.as_array() {
            Some(items) => validate_array(spec, a, items, &path, out, depth),
            None => expected(out, "array"),
        },
        SchemaKind::Record(values) => {
            let Some(map) = value.as_object() else {
                return expected(out, "object");
            };
            for (k, v) in map {
                validate(spec, values, v, child(&path, k), out, depth + 1);
            }
        }
        SchemaKind::Object(obj) => validate_object(spec, obj, value, &path, out, depth, None),
        SchemaKind::Ref(name) => {
            if let Some(def) = spec.definition(name) {
                let mut s = def.schema.clone();
                s.nullable |= schema.nullable;
                validate(spec, &s, value, path, out, depth + 1);
            }
        }
        SchemaKind::OneOf(u) => match value.as_object() {
            Some(map) => validate_union(spec, u, value, map, &path, out, depth),
            None => expected(out, "object"),
        },
    }
}

fn validate_string(rules: &StringRules, s: &str, path: &str, out: &mut Vec<String>) {
    let n = s.chars().count() as u64;
    if rules.min_length.is_some_and(|m| n < m) {
        out.push(format!("string shorter than {} characters{}", rules.min_length.unwrap_or(0), at(path)));
    }
    if rules.max_length.is_some_and(|m| n > m) {
        out.push(format!("string longer than {} characters{}", rules.max_length.unwrap_or(0), at(path)));
    }
    if let Some(p) = &rules.pattern
        && regex::Regex::new(p).map(|re| !re.is_match(s)).unwrap_or(true)
    {
        out.push(format!("string does not match `{p}`{}", at(path)));
    }
    if let Some(f) = rules.format
        && !f.is_valid(s)
    {
        out.push(format!("string is not a valid {}{}", f.as_str(), at(path)));
    }
}

/// Bounds of a number; an integer without a bound keeps to the safe-integer range (as in Zod 4).
fn validate_number(rules: &NumberRules, integer: bool, x: f64, path: &str, out: &mut Vec<String>) {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    let lo = rules.minimum.or(integer.then_some(Bound { value: -SAFE, exclusive: false }));
    let hi = rules.maximum.or(integer.then_some(Bound { value: SAFE, exclusive: false }));
    if let Some(b) = lo
        && (x < b.value || (b.exclusive && x == b.value))
    {
        out.push(format!("{x} is below the minimum {}{}", b.value, at(path)));
    }
    if let Some(b) = hi
        && (x > b.value || (b.exclusive && x == b.value))
    {
        out.push(format!("{x} is above the maximum {}{}", b.value, at(path)));
    }
}

fn validate_array(spec: &Spec, a: &ArraySchema, items: &[Value], path: &str, out: &mut Vec<String>, depth: usize) {
    if a.min_items.is_some_and(|m| (items.len() as u64) < m) {
        out.push(format!("fewer than {} items{}", a.min_items.unwrap_or(0), at(path)));
    }
    if a.max_items.is_some_and(|m| (items.len() as u64) > m) {
        out.push(format!("more than {} items{}", a.max_items.unwrap_or(0), at(path)));
    }
    for (i, item) in items.iter().enumerate() {
        validate(spec, &a.items, item, format!("{path}[{i}]"), out, depth + 1);
    }
}

/// The tag picks the variant; the rest of the object is validated against it, the tag excepted.
fn validate_union(
    spec: &Spec,
    u: &Union,
    value: &Value,
    map: &serde_json::Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    let Some(tag) = map.get(&u.tag).and_then(Value::as_str) else {
        out.push(format!("missing string tag `{}`{}", u.tag, at(path)));
        return;
    };
    let Some(variant) = u.variants.iter().find(|v| v.tag_value == tag) else {
        let options: Vec<&str> = u.variants.iter().map(|v| v.tag_value.as_str()).collect();
        out.push(format!("tag `{tag}` is not one of {}{}", options.join(", "), at(path)));
        return;
    };
    let mut schema = &variant.schema;
    while let SchemaKind::Ref(name) = &schema.kind {
        match spec.definition(name) {
            Some(d) => schema = &d.schema,
            None => return,
        }
    }
    if let SchemaKind::Object(obj) = &schema.kind {
        validate_object(spec, obj, value, path, out, depth, Some(&u.tag));
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn validate_object(
    spec: &Spec,
    obj: &ObjectSchema,
    value: &Value,
    path: &str,
    out: &mut Vec<String>,
    depth: usize,
    tag: Option<&str>,
) {
    let Some(map) = value.as_object() else {
        out.push(format!("expected object, found {}{}", json_kind(value), at(path)));
        return;
    };
    for f in &obj.fields {
        match map.get(&f.wire_name) {
            Some(v) => validate(spec, &f.schema, v, child(path, &f.wire_name), out, depth + 1),
            None if f.required() => out.push(format!("missing required key `{}`{}", f.wire_name, at(path))),
            None => {}
        }
    }
    if obj.unknown_keys == UnknownKeys::Reject {
        let extra: Vec<&String> =
            map.keys().filter(|k| Some(k.as_str()) != tag && !obj.fields.iter().any(|f| &f.wire_name == *k)).collect();
        if !extra.is_empty() {
            out.push(format!(
                "unknown key{} {}{}",
                if extra.len() > 1 { "s" } else { "" },
                extra.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                at(path)
            ));
        }
    }
    for rule in &obj.rules {
        match rule {
            Rule::AtLeastOneOf { fields, message, .. } if !fields.iter().any(|f| map.contains_key(f)) => {
                out.push(format!("{message}{}", at(path)))
            }
            Rule::MutuallyExclusive { fields, message, .. }
                if fields.iter().filter(|f| map.contains_key(*f)).count() > 1 =>
            {
                out.push(format!("{message}{}", at(path)))
            }
            _ => {}
        }
    }
}
