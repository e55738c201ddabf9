//! `EVENTS.md`, rendered with minijinja.
//!
//! Rust does the thinking (flattening fields into rows, describing constraints, synthesising
//! examples) and hands the template plain strings; the template in `codegen/templates/` only lays
//! them out. Every cell is escaped for Markdown tables here, so the template never has to.

use serde::Serialize;
use serde_json::{Map, Value};

use super::GENERATED_NOTE;
use super::openapi::ERROR_CODES;
use crate::model::{
    Bound, Event, Fallback, Field, Format, NumberRules, ObjectSchema, Rule, Schema, SchemaKind, Spec, UnknownKeys,
};

const TEMPLATE_NAME: &str = "EVENTS.md";
const TEMPLATE: &str = include_str!("../../templates/EVENTS.md.j2");

/// The Markdown reference of every event.
pub fn emit(spec: &Spec) -> String {
    let spec = &*spec.published();
    let context = Context::new(spec);
    match render(&context) {
        Ok(text) => text,
        // The template is compiled in and covered by tests, so this cannot happen in a release;
        // if it ever does, the staleness test shows the message instead of a silent empty file.
        Err(err) => format!("<!-- {GENERATED_NOTE} -->\n\n# Events\n\nRendering EVENTS.md failed: {err:#}\n"),
    }
}

fn render(context: &Context) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    let mut syntax = minijinja::syntax::SyntaxConfig::builder();
    syntax.trim_blocks(true).lstrip_blocks(true).keep_trailing_newline(true);
    env.set_syntax(syntax.build()?);
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    env.get_template(TEMPLATE_NAME)?.render(minijinja::Value::from(minijinja::value::Serde(context)))
}

#[derive(Serialize)]
struct Context {
    note: &'static str,
    domains: Vec<DomainDoc>,
    hooks: Vec<HookDoc>,
    definitions: Vec<DefinitionDoc>,
    errors: Vec<ErrorDoc>,
}

#[derive(Serialize)]
struct DomainDoc {
    name: String,
    events: Vec<EventDoc>,
}

#[derive(Serialize)]
struct EventDoc {
    name: String,
    anchor: String,
    title: String,
    http_path: String,
    description: String,
    /// `Deprecated.` plus the replacement, when deprecated.
    deprecation: Option<String>,
    input: Table,
    output: Table,
    /// `(label, value)` pairs, already formatted.
    facts: Vec<(String, String)>,
    examples: Vec<ExampleDoc>,
}

/// One row of the Claude Code hook table; every cell already formatted.
#[derive(Serialize)]
struct HookDoc {
    hooks: String,
    when: String,
    event: String,
    anchor: String,
    fields: String,
    answer: String,
}

#[derive(Serialize)]
struct DefinitionDoc {
    name: String,
    anchor: String,
    description: String,
    table: Table,
}

#[derive(Serialize, Default)]
struct Table {
    rows: Vec<Row>,
    /// Object-level notes: unknown-key policy, cross-field rules.
    notes: Vec<String>,
    /// A sentence for tables that have no rows (no fields, or not an object).
    summary: Option<String>,
}

#[derive(Serialize)]
struct Row {
    field: String,
    ty: String,
    required: String,
    default: String,
    constraints: String,
    description: String,
}

#[derive(Serialize)]
struct ExampleDoc {
    name: String,
    request: String,
    response: String,
}

#[derive(Serialize)]
struct ErrorDoc {
    code: String,
    http: u16,
    jsonrpc: i64,
    meaning: String,
}

impl Context {
    fn new(spec: &Spec) -> Self {
        let domains = spec
            .domains()
            .into_iter()
            .map(|d| DomainDoc {
                name: d.to_string(),
                events: spec.events.iter().filter(|e| e.name.domain == d).map(|e| event_doc(spec, e)).collect(),
            })
            .collect();
        let definitions = spec
            .definitions
            .iter()
            .map(|d| DefinitionDoc {
                name: d.name.clone(),
                anchor: definition_anchor(&d.name),
                description: d.schema.description.clone().unwrap_or_default(),
                table: table(spec, &d.schema),
            })
            .collect();
        let errors = ERROR_CODES
            .iter()
            .map(|c| ErrorDoc {
                code: c.code.into(),
                http: c.http_status,
                jsonrpc: c.jsonrpc_code,
                meaning: cell(c.meaning),
            })
            .collect();
        let hooks = spec.events.iter().flat_map(|e| e.claude_code.iter().map(move |r| hook_doc(e, r))).collect();
        Context { note: GENERATED_NOTE, domains, hooks, definitions, errors }
    }
}

fn hook_doc(event: &Event, route: &crate::model::HookRoute) -> HookDoc {
    use crate::model::HookSource;
    let code = |s: &str| format!("`{s}`");
    let fields: Vec<String> = route
        .fields
        .iter()
        .map(|(property, source)| {
            let from = match source {
                HookSource::Input => "`$`".to_string(),
                HookSource::Const(v) => format!("`{}`", compact(v)),
                HookSource::Paths { paths, fallback } => {
                    let mut from: Vec<String> = paths.iter().map(|p| code(p)).collect();
                    if let Some(v) = fallback {
                        from.push(format!("`{}`", compact(v)));
                    }
                    from.join(" or ")
                }
            };
            format!("`{property}` ← {from}")
        })
        .collect();
    HookDoc {
        hooks: cell(&route.hooks.iter().map(|h| code(h)).collect::<Vec<_>>().join(", ")),
        when: match &route.when {
            None => String::new(),
            Some((field, value, false)) => cell(&format!("`{field}` is `{value}`")),
            Some((field, value, true)) => cell(&format!("`{field}` is not `{value}`")),
        },
        event: event.name.full.clone(),
        anchor: event_anchor(&event.name.full),
        fields: cell(&fields.join("; ")),
        answer: code(&route.answer),
    }
}

fn event_anchor(name: &str) -> String {
    name.replace(['.', '_'], "-")
}

fn definition_anchor(name: &str) -> String {
    format!("def-{}", name.to_ascii_lowercase())
}

fn event_doc(spec: &Spec, event: &Event) -> EventDoc {
    let deprecation = event.deprecated.then(|| match &event.replaced_by {
        Some(to) => format!("**Deprecated.** Use [`{to}`](#{}) instead.", event_anchor(to)),
        None => "**Deprecated.**".to_string(),
    });
    EventDoc {
        name: event.name.full.clone(),
        anchor: event_anchor(&event.name.full),
        title: event.title.clone(),
        http_path: event.name.http_path(),
        description: event.description.trim_end().to_string(),
        deprecation,
        input: table(spec, &event.input),
        output: table(spec, &event.output),
        facts: facts(event),
        examples: examples(spec, event),
    }
}

/// Everything about an event besides its schemas, one line each.
fn facts(event: &Event) -> Vec<(String, String)> {
    let cfg = &event.config;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut fact = |label: &str, value: String| out.push((label.to_string(), value));
    fact("HTTP", format!("`POST {}`", event.name.http_path()));
    let mut rpc = format!("`{}`", event.name.full);
    if !event.aliases.is_empty() {
        let aliases: Vec<String> = event.aliases.iter().map(|a| format!("`{a}`")).collect();
        rpc.push_str(&format!(" (aliases: {})", aliases.join(", ")));
    }
    fact("JSON-RPC method", rpc);
    let mcp = &cfg.mcp;
    fact(
        "MCP tool",
        if mcp.expose {
            let mut hints = Vec::new();
            for (on, hint) in [
                (mcp.read_only, "read-only"),
                (mcp.destructive, "destructive"),
                (mcp.idempotent, "idempotent"),
                (mcp.open_world, "open-world"),
            ] {
                if on {
                    hints.push(hint);
                }
            }
            let hints = if hints.is_empty() { String::new() } else { format!(", {}", hints.join(", ")) };
            format!("`{}` (tool set `{}`{hints})", event.name.mcp_tool(), mcp.toolset)
        } else {
            "not exposed".to_string()
        },
    );
    fact(
        "Persist",
        match (cfg.persist, cfg.mutates) {
            (true, _) => "yes: state changes go through the outbox into SQL".into(),
            (false, true) => "no (changes Redis state only)".into(),
            (false, false) => "no (read-only)".into(),
        },
    );
    fact(
        "Roles",
        if cfg.roles.is_empty() {
            "anyone".into()
        } else {
            cfg.roles.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
        },
    );
    fact(
        "Rate limit",
        match cfg.rate_limit {
            Some(rl) => format!("{} calls per {} ms, per caller", rl.count, rl.window_ms),
            None => "none".into(),
        },
    );
    fact("Timeout", format!("{} ms", cfg.timeout_ms));
    fact(
        "Circuit breaker",
        match &cfg.circuit_breaker {
            Some(cb) => {
                let fallback = match &cb.fallback {
                    Fallback::Error => "a `circuit_open` error".to_string(),
                    Fallback::Value(v) => format!("the fallback `{}`", compact(v)),
                };
                format!(
                    "opens after {} consecutive failures for {} ms, then lets {} probe(s) through; while open callers get {fallback}",
                    cb.threshold, cb.open_ms, cb.half_open_probes
                )
            }
            None => "none".into(),
        },
    );
    fact(
        "Cache",
        match cfg.cache_ttl_s {
            Some(ttl) => format!("answers cached for {ttl} s"),
            None => "none".into(),
        },
    );
    out
}

/// The rows of an object schema (following a root reference), or a summary for anything else.
fn table(spec: &Spec, s: &Schema) -> Table {
    let mut out = Table::default();
    match &resolve(spec, s).kind {
        SchemaKind::Object(o) => {
            object_rows(spec, o, "", &mut out);
            if out.rows.is_empty() && out.notes.is_empty() {
                out.summary = Some("No fields.".into());
            }
        }
        _ => {
            let mut constraints = Vec::new();
            describe_constraints(s, &mut constraints);
            let mut summary = format!("Type: {}", type_name(spec, s));
            if !constraints.is_empty() {
                summary.push_str(&format!(" ({})", constraints.join(", ")));
            }
            out.summary = Some(summary);
        }
    }
    out
}

/// Rows for every field of `o`, with nested inline objects flattened under dotted paths.
fn object_rows(spec: &Spec, o: &ObjectSchema, prefix: &str, out: &mut Table) {
    let owner = prefix.trim_end_matches('.');
    let at = if owner.is_empty() { String::new() } else { format!(" (in `{owner}`)") };
    match o.unknown_keys {
        UnknownKeys::Reject => {}
        UnknownKeys::Strip => out.notes.push(format!("Unknown keys are dropped{at}.")),
        UnknownKeys::Allow => out.notes.push(format!("Unknown keys are kept{at}.")),
    }
    for r in &o.rules {
        out.notes.push(rule_note(r, &at));
    }
    for field in &o.fields {
        let path = format!("{prefix}{}", field.wire_name);
        out.rows.push(field_row(spec, field, &path));
        nested_rows(spec, &field.schema, &path, out);
    }
}

/// Rows for what sits inside an inline schema (objects, arrays of objects, records, unions).
fn nested_rows(spec: &Spec, s: &Schema, path: &str, out: &mut Table) {
    match &s.kind {
        SchemaKind::Object(o) => object_rows(spec, o, &format!("{path}."), out),
        SchemaKind::Array(a) => nested_rows(spec, &a.items, &format!("{path}[]"), out),
        SchemaKind::Record(values) => nested_rows(spec, values, &format!("{path}.*"), out),
        SchemaKind::OneOf(u) => {
            for v in &u.variants {
                if let SchemaKind::Object(o) = &v.schema.kind {
                    let mut inner = Table::default();
                    object_rows(spec, o, &format!("{path}."), &mut inner);
                    for mut row in inner.rows {
                        row.constraints =
                            join_cell(&format!("when `{}` is `\"{}\"`", u.tag, v.tag_value), &row.constraints);
                        out.rows.push(row);
                    }
                    out.notes.extend(inner.notes);
                }
            }
        }
        _ => {}
    }
}

fn field_row(spec: &Spec, field: &Field, path: &str) -> Row {
    let s = &field.schema;
    // A reference to a scalar definition (`TaskText`, `Priority`) shows that definition's
    // constraints and description here, so the table is complete without following the link.
    let target = resolve(spec, s);
    let shown = if matches!(target.kind, SchemaKind::Object(_) | SchemaKind::OneOf(_)) { s } else { target };
    let mut constraints = Vec::new();
    describe_constraints(shown, &mut constraints);
    let mut description = s.description.clone().or_else(|| target.description.clone()).unwrap_or_default();
    if !s.examples.is_empty() {
        let examples: Vec<String> = s.examples.iter().map(|v| format!("`{}`", compact(v))).collect();
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(&format!("Examples: {}", examples.join(", ")));
    }
    Row {
        field: format!("`{path}`"),
        ty: cell(&type_name(spec, s)),
        required: if field.required() { "yes".into() } else { "no".into() },
        default: s.default.as_ref().map(|d| cell(&format!("`{}`", compact(d)))).unwrap_or_default(),
        constraints: cell(&constraints.join(", ")),
        description: cell(&description),
    }
}

/// A short type for tables: `string`, `array of integer`, `"a" | "b"`, `[Task](#def-task)`, `… | null`.
fn type_name(spec: &Spec, s: &Schema) -> String {
    let base = match &s.kind {
        SchemaKind::String(_) => "string".to_string(),
        SchemaKind::Integer(_) => "integer".to_string(),
        SchemaKind::Number(_) => "number".to_string(),
        SchemaKind::Boolean => "boolean".to_string(),
        SchemaKind::Enum(values) => values.iter().map(|v| format!("`\"{v}\"`")).collect::<Vec<_>>().join(" | "),
        SchemaKind::Any => "any".to_string(),
        // Words rather than `array<T>`: Markdown renderers take `<string>` for an HTML tag.
        SchemaKind::Array(a) => format!("array of {}", type_name(spec, &a.items)),
        SchemaKind::Record(values) => format!("record of {}", type_name(spec, values)),
        SchemaKind::Object(_) => "object".to_string(),
        SchemaKind::Ref(name) => {
            let link = format!("[{name}](#{})", definition_anchor(name));
            match spec.definition(name).map(|d| &d.schema) {
                Some(def) if !matches!(def.kind, SchemaKind::Object(_) | SchemaKind::OneOf(_) | SchemaKind::Ref(_)) => {
                    format!("{} ({link})", type_name(spec, def))
                }
                _ => link,
            }
        }
        SchemaKind::OneOf(u) => format!("one of (by `{}`)", u.tag),
    };
    if s.nullable && !matches!(s.kind, SchemaKind::Any) { format!("{base} | null") } else { base }
}

fn describe_constraints(s: &Schema, out: &mut Vec<String>) {
    match &s.kind {
        SchemaKind::String(r) => {
            if let Some(f) = r.format {
                out.push(format!("format `{}`", f.as_str()));
            }
            range(out, "length", r.min_length.map(inclusive), r.max_length.map(inclusive));
            if let Some(p) = &r.pattern {
                out.push(format!("pattern `{p}`"));
            }
        }
        SchemaKind::Integer(NumberRules { minimum, maximum })
        | SchemaKind::Number(NumberRules { minimum, maximum }) => {
            range(out, "value", *minimum, *maximum);
        }
        SchemaKind::Array(a) => {
            range(out, "items", a.min_items.map(inclusive), a.max_items.map(inclusive));
            let mut each = Vec::new();
            describe_constraints(&a.items, &mut each);
            if !each.is_empty() {
                out.push(format!("each: {}", each.join(", ")));
            }
        }
        SchemaKind::Object(o) if o.fields.is_empty() => {
            out.push(
                match o.unknown_keys {
                    UnknownKeys::Reject => "no keys",
                    UnknownKeys::Strip => "unknown keys dropped",
                    UnknownKeys::Allow => "any keys",
                }
                .into(),
            );
        }
        SchemaKind::OneOf(u) => {
            let tags: Vec<String> = u.variants.iter().map(|v| format!("`\"{}\"`", v.tag_value)).collect();
            out.push(format!("`{}` is one of {}", u.tag, tags.join(", ")));
        }
        _ => {}
    }
}

fn inclusive(value: u64) -> Bound {
    Bound { value: value as f64, exclusive: false }
}

/// `1 ≤ length ≤ 200`, `value > 0`, `items ≤ 10`.
fn range(out: &mut Vec<String>, what: &str, min: Option<Bound>, max: Option<Bound>) {
    let n = |b: Bound| number_text(b.value);
    let text = match (min, max) {
        (Some(l), Some(u)) => {
            format!(
                "{} {} {what} {} {}",
                n(l),
                if l.exclusive { "<" } else { "≤" },
                if u.exclusive { "<" } else { "≤" },
                n(u)
            )
        }
        (Some(l), None) => format!("{what} {} {}", if l.exclusive { ">" } else { "≥" }, n(l)),
        (None, Some(u)) => format!("{what} {} {}", if u.exclusive { "<" } else { "≤" }, n(u)),
        (None, None) => return,
    };
    out.push(text);
}

fn number_text(v: f64) -> String {
    super::json_schema::number(v).to_string()
}

fn rule_note(r: &Rule, at: &str) -> String {
    let (kind, fields, message) = match r {
        Rule::AtLeastOneOf { fields, message, .. } => ("At least one of", fields, message),
        Rule::MutuallyExclusive { fields, message, .. } => ("At most one of", fields, message),
    };
    let fields: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    format!("{kind} {}{at}: {message}", fields.join(", "))
}

/// The spec's examples, or one synthesised from the schemas when it has none.
fn examples(spec: &Spec, event: &Event) -> Vec<ExampleDoc> {
    if event.examples.is_empty() {
        return vec![ExampleDoc {
            name: "synthesised from the schema".into(),
            request: pretty(&synthesise(spec, &event.input, 0)),
            response: pretty(&synthesise(spec, &event.output, 0)),
        }];
    }
    event
        .examples
        .iter()
        .map(|x| ExampleDoc { name: x.name.clone(), request: pretty(&x.input), response: pretty(&x.output) })
        .collect()
}

/// Beyond this depth a synthesised example stops descending (recursive definitions).
const MAX_EXAMPLE_DEPTH: usize = 8;

/// A plausible value for `s`: its default or first example when it has one, otherwise the
/// smallest value its type and constraints allow. Objects get their required and defaulted
/// fields (and one field of each `at_least_one_of` rule).
fn synthesise(spec: &Spec, s: &Schema, depth: usize) -> Value {
    if let Some(v) = s.default.as_ref().or(s.examples.first()) {
        return v.clone();
    }
    if depth > MAX_EXAMPLE_DEPTH {
        return Value::Null;
    }
    match &s.kind {
        SchemaKind::String(r) => Value::String(example_string(r.format, r.min_length)),
        SchemaKind::Integer(r) | SchemaKind::Number(r) => example_number(r, matches!(s.kind, SchemaKind::Integer(_))),
        SchemaKind::Boolean => Value::Bool(false),
        SchemaKind::Enum(values) => values.first().map(|v| Value::String(v.clone())).unwrap_or(Value::Null),
        SchemaKind::Any => Value::Null,
        SchemaKind::Array(a) => {
            let n = a.min_items.unwrap_or(0).max(1).min(a.max_items.unwrap_or(1)) as usize;
            Value::Array((0..n).map(|_| synthesise(spec, &a.items, depth + 1)).collect())
        }
        SchemaKind::Record(_) => Value::Object(Map::new()),
        SchemaKind::Object(o) => example_object(spec, o, depth),
        SchemaKind::Ref(name) => match spec.definition(name) {
            Some(def) => synthesise(spec, &def.schema, depth + 1),
            None => Value::Null,
        },
        SchemaKind::OneOf(u) => match u.variants.first() {
            Some(v) => {
                let mut out = Map::new();
                out.insert(u.tag.clone(), Value::String(v.tag_value.clone()));
                if let Value::Object(rest) = synthesise(spec, &v.schema, depth + 1) {
                    out.extend(rest);
                }
                Value::Object(out)
            }
            None => Value::Null,
        },
    }
}

fn example_object(spec: &Spec, o: &ObjectSchema, depth: usize) -> Value {
    let mut wanted: Vec<&str> = Vec::new();
    for r in &o.rules {
        if let Rule::AtLeastOneOf { fields, .. } = r
            && let Some(first) = fields.first()
        {
            wanted.push(first);
        }
    }
    let mut out = Map::new();
    for f in &o.fields {
        if f.required() || f.schema.default.is_some() || wanted.contains(&f.wire_name.as_str()) {
            out.insert(f.wire_name.clone(), synthesise(spec, &f.schema, depth + 1));
        }
    }
    Value::Object(out)
}

fn example_string(format: Option<Format>, min_length: Option<u64>) -> String {
    match format {
        Some(Format::DateTime) => "2025-01-01T00:00:00Z".into(),
        Some(Format::Uuid) => "00000000-0000-4000-8000-000000000000".into(),
        Some(Format::Uri) => "https://example.com/".into(),
        None => {
            let mut text = String::from("string");
            while (text.chars().count() as u64) < min_length.unwrap_or(0) {
                text.push('x');
            }
            text
        }
    }
}

fn example_number(r: &NumberRules, integer: bool) -> Value {
    let step = if integer { 1.0 } else { 0.5 };
    let value = match (r.minimum, r.maximum) {
        (Some(b), _) => b.value + if b.exclusive { step } else { 0.0 },
        (None, Some(b)) if b.value < 0.0 || (b.value == 0.0 && b.exclusive) => {
            b.value - if b.exclusive { step } else { 0.0 }
        }
        _ => 0.0,
    };
    super::json_schema::number(value)
}

/// A definition reached through a root `ref`, so tables show its fields.
fn resolve<'a>(spec: &'a Spec, s: &'a Schema) -> &'a Schema {
    let mut node = s;
    for _ in 0..=spec.definitions.len() {
        match &node.kind {
            SchemaKind::Ref(name) => match spec.definition(name) {
                Some(def) => node = &def.schema,
                None => return node,
            },
            _ => return node,
        }
    }
    node
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn join_cell(first: &str, rest: &str) -> String {
    if rest.is_empty() { cell(first) } else { format!("{}, {rest}", cell(first)) }
}

/// Text safe inside a Markdown table cell: pipes escaped, line breaks as `<br>`.
fn cell(text: &str) -> String {
    text.trim().replace('|', "\\|").replace("\r\n", "\n").replace('\n', "<br>")
}
