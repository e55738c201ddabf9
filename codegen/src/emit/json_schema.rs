//! JSON Schema (draft 2020-12) for model schemas.
//!
//! One translation serves OpenAPI (`Refs::Components`), MCP and the event table (`Refs::Inline`) and
//! stand-alone documents (`Refs::Defs`). The generated Rust validators are checked against these
//! schemas by a differential test, so every keyword here mirrors validator semantics exactly:
//! a field is `required` only when [`Field::required`] says so (defaults never make a field
//! required), `strip` objects accept extra keys just like `allow` ones, and integers without a bound
//! get the safe-integer range.
//!
//! Output is deterministic: keys are written in a fixed order (serde_json keeps insertion order)
//! and nothing depends on hash iteration.

use serde_json::{Map, Number, Value, json};

use crate::model::{
    Bound, Event, NumberRules, ObjectSchema, Rule, Schema, SchemaKind, Spec, StringRules, Union, UnknownKeys,
};

/// Largest integer a JavaScript client can hold exactly (2^53 − 1); Zod 4 bounds `z.int()` by it.
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// How references to definitions are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refs {
    /// Every `ref` replaced by the definition's schema (MCP, event table).
    Inline,
    /// `{"$ref": "#/components/schemas/Name"}` (OpenAPI).
    Components,
    /// `{"$ref": "#/$defs/Name"}`; the caller adds `$defs`.
    Defs,
}

impl Refs {
    /// The `$ref` target of a definition, or `None` when references are inlined.
    fn pointer(self, name: &str) -> Option<String> {
        match self {
            Refs::Inline => None,
            Refs::Components => Some(format!("#/components/schemas/{name}")),
            Refs::Defs => Some(format!("#/$defs/{name}")),
        }
    }

    /// OpenAPI understands `discriminator`; plain JSON Schema would only carry it as an unknown
    /// keyword, which MCP clients have been seen to choke on.
    fn openapi(self) -> bool {
        self == Refs::Components
    }
}

/// The JSON Schema of one schema node.
pub fn schema(spec: &Spec, s: &Schema, refs: Refs) -> Value {
    Emitter { spec, refs, inlining: Vec::new() }.schema(s)
}

/// Self-contained schema of an event's input (references inlined, root `type: object`).
pub fn event_input(spec: &Spec, event: &Event) -> Value {
    schema(spec, &event.input, Refs::Inline)
}

/// Self-contained schema of an event's output (references inlined, root `type: object`).
pub fn event_output(spec: &Spec, event: &Event) -> Value {
    schema(spec, &event.output, Refs::Inline)
}

/// A stand-alone draft 2020-12 document for one schema: `$schema`, the schema itself and the
/// `$defs` of every definition it reaches (directly or through other definitions).
pub fn document(spec: &Spec, s: &Schema) -> Value {
    let mut root = Map::new();
    root.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    match schema(spec, s, Refs::Defs) {
        Value::Object(body) => root.extend(body),
        other => {
            root.insert("allOf".into(), json!([other]));
        }
    }
    let defs = reachable_definitions(spec, s);
    if !defs.is_empty() {
        let defs: Map<String, Value> = defs
            .into_iter()
            .filter_map(|name| spec.definition(name))
            .map(|d| (d.name.clone(), schema(spec, &d.schema, Refs::Defs)))
            .collect();
        root.insert("$defs".into(), Value::Object(defs));
    }
    Value::Object(root)
}

/// Names of every definition reachable from `s`, sorted (so `$defs` is deterministic).
pub fn reachable_definitions<'a>(spec: &'a Spec, s: &'a Schema) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    let mut stack: Vec<&Schema> = vec![s];
    while let Some(node) = stack.pop() {
        match &node.kind {
            SchemaKind::Ref(name) => {
                if !seen.contains(&name.as_str()) {
                    seen.push(name);
                    if let Some(def) = spec.definition(name) {
                        stack.push(&def.schema);
                    }
                }
            }
            SchemaKind::Array(a) => stack.push(&a.items),
            SchemaKind::Record(values) => stack.push(values),
            SchemaKind::Object(o) => stack.extend(o.fields.iter().map(|f| &f.schema)),
            SchemaKind::OneOf(u) => stack.extend(u.variants.iter().map(|v| &v.schema)),
            SchemaKind::String(_)
            | SchemaKind::Integer(_)
            | SchemaKind::Number(_)
            | SchemaKind::Boolean
            | SchemaKind::Enum(_)
            | SchemaKind::Any => {}
        }
    }
    seen.sort_unstable();
    seen
}

/// A JSON number for a bound: whole values are written as integers (`1`, not `1.0`) so the
/// documents read naturally and integer schemas never carry a fractional-looking bound.
pub fn number(value: f64) -> Value {
    // 2^63 is exactly representable; every whole f64 below it converts to i64 without loss.
    if value.fract() == 0.0 && value.abs() < 9.223_372_036_854_776e18 {
        Value::from(value as i64)
    } else {
        Number::from_f64(value).map(Value::Number).unwrap_or(Value::Null)
    }
}

struct Emitter<'a> {
    spec: &'a Spec,
    refs: Refs,
    /// Definitions being inlined right now; a reference back into one of them is a cycle that
    /// inlining cannot express.
    inlining: Vec<&'a str>,
}

impl<'a> Emitter<'a> {
    fn schema(&mut self, s: &'a Schema) -> Value {
        self.node(s, s.nullable)
    }

    /// `s` with `nullable` in place of its own flag (a nullable reference makes its target so).
    fn node(&mut self, s: &'a Schema, nullable: bool) -> Value {
        let mut out = match &s.kind {
            SchemaKind::Ref(name) => self.reference(name, nullable),
            SchemaKind::OneOf(u) => or_null(nullable, self.union(u)),
            // `not: {required: [a, b]}` holds for `null` vacuously and its negation then rejects
            // it, so a nullable object with rules puts `null` beside the object instead.
            SchemaKind::Object(o) if nullable && !o.rules.is_empty() => any_of_null(self.object(o, false)),
            kind => self.plain(kind, nullable),
        };
        // Written last, so at a reference site the site's annotations replace the definition's.
        annotate(&mut out, s);
        out
    }

    /// Kinds whose nullability is a `type` array.
    fn plain(&mut self, kind: &'a SchemaKind, nullable: bool) -> Value {
        match kind {
            SchemaKind::String(rules) => string(rules, nullable),
            SchemaKind::Integer(rules) => integer(rules, nullable),
            SchemaKind::Number(rules) => numeric("number", rules, nullable),
            SchemaKind::Boolean => obj([("type", type_of("boolean", nullable))]),
            SchemaKind::Enum(values) => {
                let mut values: Vec<Value> = values.iter().map(|v| json!(v)).collect();
                if nullable {
                    // `enum` is checked on its own, so it must list null as well as the type.
                    values.push(Value::Null);
                }
                obj([("type", type_of("string", nullable)), ("enum", Value::Array(values))])
            }
            SchemaKind::Any => Value::Object(Map::new()),
            SchemaKind::Array(a) => {
                let mut out = obj([("type", type_of("array", nullable)), ("items", self.schema(&a.items))]);
                put_u64(&mut out, "minItems", a.min_items);
                put_u64(&mut out, "maxItems", a.max_items);
                out
            }
            SchemaKind::Record(values) => {
                obj([("type", type_of("object", nullable)), ("additionalProperties", self.schema(values))])
            }
            SchemaKind::Object(o) => self.object(o, nullable),
            // Handled by `node`; kept total so no caller can hit a gap.
            SchemaKind::Ref(_) | SchemaKind::OneOf(_) => Value::Object(Map::new()),
        }
    }

    fn object(&mut self, o: &'a ObjectSchema, nullable: bool) -> Value {
        let mut out = obj([("type", type_of("object", nullable))]);
        self.object_body(&mut out, o, None);
        out
    }

    /// `properties`, `required`, `additionalProperties` and rules of an object; `tag` is a
    /// discriminator property (name and value) declared first, for union variants.
    fn object_body(&mut self, out: &mut Value, o: &'a ObjectSchema, tag: Option<(&str, &str)>) {
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        if let Some((name, value)) = tag {
            properties.insert(name.to_string(), json!({ "const": value }));
            required.push(json!(name));
        }
        for field in &o.fields {
            properties.insert(field.wire_name.clone(), self.schema(&field.schema));
            if field.required() {
                required.push(json!(field.wire_name));
            }
        }
        if !properties.is_empty() {
            put(out, "properties", Value::Object(properties));
        }
        if !required.is_empty() {
            put(out, "required", Value::Array(required));
        }
        // `strip` accepts extra keys (and drops them), so only `reject` closes the object.
        if o.unknown_keys == UnknownKeys::Reject {
            put(out, "additionalProperties", Value::Bool(false));
        }
        if !o.rules.is_empty() {
            put(out, "allOf", Value::Array(o.rules.iter().flat_map(rule).collect()));
        }
    }

    fn reference(&mut self, name: &'a str, nullable: bool) -> Value {
        if let Some(pointer) = self.refs.pointer(name) {
            return or_null(nullable, obj([("$ref", json!(pointer))]));
        }
        let Some(def) = self.spec.definition(name) else {
            // Unreachable for a checked spec; `{}` keeps the emitter total.
            return Value::Object(Map::new());
        };
        if self.inlining.contains(&name) {
            // A recursive definition cannot be inlined finitely. Accepting any value here keeps
            // the document valid; the generated validators still check the real structure.
            return Value::Object(Map::new());
        }
        self.inlining.push(name);
        let out = self.node(&def.schema, nullable || def.schema.nullable);
        self.inlining.pop();
        out
    }

    /// A discriminated union: `oneOf` variants that each require their tag as a `const`.
    ///
    /// Every variant is written out as an object with the tag declared first, even when it is a
    /// reference: a referenced definition that rejects unknown keys would reject the tag, which
    /// is not what the validators do (they read the tag, then check the rest against the variant).
    fn union(&mut self, u: &'a Union) -> Value {
        let mut variants = Vec::with_capacity(u.variants.len());
        for v in &u.variants {
            let mut out = obj([("type", json!("object"))]);
            match variant_object(self.spec, &v.schema) {
                Some((object, definition)) => {
                    self.object_body(&mut out, object, Some((&u.tag, &v.tag_value)));
                    if let Some(definition) = definition {
                        annotate(&mut out, definition);
                    }
                }
                // Unreachable for a checked spec: still require the tag so the variant is exact.
                None => put(&mut out, "required", json!([u.tag])),
            }
            annotate(&mut out, &v.schema);
            variants.push(out);
        }
        let mut out = obj([("oneOf", Value::Array(variants))]);
        if self.refs.openapi() {
            put(&mut out, "discriminator", json!({ "propertyName": u.tag }));
        }
        out
    }
}

/// The object behind a variant, following references, and the definition it came from (whose
/// annotations describe the variant unless the variant has its own).
fn variant_object<'a>(spec: &'a Spec, s: &'a Schema) -> Option<(&'a ObjectSchema, Option<&'a Schema>)> {
    let mut node = s;
    let mut definition = None;
    // A chain of references is finite in a checked spec; the bound only guards against cycles.
    for _ in 0..=spec.definitions.len() {
        match &node.kind {
            SchemaKind::Object(o) => return Some((o, definition)),
            SchemaKind::Ref(name) => {
                node = &spec.definition(name)?.schema;
                definition = Some(node);
            }
            _ => return None,
        }
    }
    None
}

fn rule(r: &Rule) -> Vec<Value> {
    match r {
        Rule::AtLeastOneOf { fields, .. } => {
            vec![json!({ "anyOf": fields.iter().map(|f| json!({ "required": [f] })).collect::<Vec<_>>() })]
        }
        Rule::MutuallyExclusive { fields, .. } => {
            let mut out = Vec::new();
            for (i, a) in fields.iter().enumerate() {
                for b in &fields[i + 1..] {
                    out.push(json!({ "not": { "required": [a, b] } }));
                }
            }
            out
        }
    }
}

fn string(rules: &StringRules, nullable: bool) -> Value {
    let mut out = obj([("type", type_of("string", nullable))]);
    if let Some(format) = rules.format {
        put(&mut out, "format", json!(format.as_str()));
    }
    put_u64(&mut out, "minLength", rules.min_length);
    put_u64(&mut out, "maxLength", rules.max_length);
    if let Some(pattern) = &rules.pattern {
        put(&mut out, "pattern", json!(pattern));
    }
    out
}

/// Integers are bounded on both sides: an unbounded side gets the safe-integer limit.
fn integer(rules: &NumberRules, nullable: bool) -> Value {
    let safe = NumberRules {
        minimum: Some(rules.minimum.unwrap_or(Bound { value: -(MAX_SAFE_INTEGER as f64), exclusive: false })),
        maximum: Some(rules.maximum.unwrap_or(Bound { value: MAX_SAFE_INTEGER as f64, exclusive: false })),
    };
    numeric("integer", &safe, nullable)
}

fn numeric(ty: &str, rules: &NumberRules, nullable: bool) -> Value {
    let mut out = obj([("type", type_of(ty, nullable))]);
    if let Some(b) = rules.minimum {
        put(&mut out, if b.exclusive { "exclusiveMinimum" } else { "minimum" }, number(b.value));
    }
    if let Some(b) = rules.maximum {
        put(&mut out, if b.exclusive { "exclusiveMaximum" } else { "maximum" }, number(b.value));
    }
    out
}

/// `description`, `default` and `examples`, after the structural keywords.
fn annotate(out: &mut Value, s: &Schema) {
    if let Some(d) = &s.description {
        put(out, "description", json!(d));
    }
    if let Some(d) = &s.default {
        put(out, "default", d.clone());
    }
    if !s.examples.is_empty() {
        put(out, "examples", Value::Array(s.examples.clone()));
    }
}

fn or_null(nullable: bool, inner: Value) -> Value {
    if nullable { any_of_null(inner) } else { inner }
}

/// `anyOf: [X, {type: null}]`: nullability for schemas that have no single `type` to extend.
fn any_of_null(inner: Value) -> Value {
    obj([("anyOf", json!([inner, { "type": "null" }]))])
}

fn type_of(ty: &str, nullable: bool) -> Value {
    if nullable { json!([ty, "null"]) } else { json!(ty) }
}

fn obj<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn put(out: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = out {
        map.insert(key.to_string(), value);
    }
}

fn put_u64(out: &mut Value, key: &str, value: Option<u64>) {
    if let Some(v) = value {
        put(out, key, json!(v));
    }
}
