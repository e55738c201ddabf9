//! Whole-spec checks: duplicates across files, references, and values (defaults, examples,
//! fallbacks) that must satisfy schemas which may live in other files.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics, did_you_mean};
use crate::model::*;
use crate::parse::{Loc, Parsed};

/// Finish the model: report what needs the whole spec, then sort.
pub(crate) fn check(parsed: Parsed, diags: &mut Diagnostics) -> Spec {
    let Parsed { definitions, events, refs, variant_refs, root_refs, replaced_by, aliases, value_checks } = parsed;

    // Duplicate definitions and events: report every repeat at the repeat, pointing at the first.
    let mut defs: Vec<Definition> = Vec::new();
    let mut def_locs: HashMap<String, Loc> = HashMap::new();
    for (def, loc) in definitions {
        if let Some(first) = def_locs.get(&def.name) {
            diags.push(
                loc.diag(
                    Diagnostic::new(
                        DiagnosticKind::DuplicateDefinition,
                        format!("definition `{}` is declared twice", def.name),
                    )
                    .help(format!("first declared at {}; rename or remove one", first.short())),
                ),
            );
        } else {
            def_locs.insert(def.name.clone(), loc);
            defs.push(def);
        }
    }
    let mut evs: Vec<Event> = Vec::new();
    let mut names: HashMap<String, Loc> = HashMap::new();
    let mut tools: HashMap<String, String> = HashMap::new();
    for (event, loc) in events {
        let name = event.name.full.clone();
        if let Some(first) = names.get(&name) {
            diags.push(
                loc.diag(
                    Diagnostic::new(DiagnosticKind::DuplicateEvent, format!("event `{name}` is declared twice"))
                        .help(format!("first declared at {}; each event is declared once", first.short())),
                ),
            );
            continue;
        }
        let route = event.name.http_path();
        if claudebench_contract::routes::is_reserved(&route) {
            diags.push(
                loc.diag(
                    Diagnostic::new(
                        DiagnosticKind::ReservedName,
                        format!("event `{name}` would take the route `{route}`"),
                    )
                    .help("the server itself serves that path; rename the event"),
                ),
            );
            continue;
        }
        let tool = event.name.mcp_tool();
        if let Some(other) = tools.get(&tool) {
            diags.push(
                loc.diag(
                    Diagnostic::new(
                        DiagnosticKind::DuplicateToolName,
                        format!("events `{other}` and `{name}` both become the MCP tool `{tool}`"),
                    )
                    .help("rename one event"),
                ),
            );
            continue;
        }
        tools.insert(tool, name.clone());
        names.insert(name, loc);
        evs.push(event);
    }

    // Definition names share one namespace with generated names (Rust types, OpenAPI components).
    for def in &defs {
        let clash = if crate::emit::openapi::RESERVED_COMPONENTS.contains(&def.name.as_str()) {
            Some("a shared schema of the generated API documents".to_string())
        } else {
            evs.iter()
                .find(|e| {
                    [format!("{}Input", e.name.pascal()), format!("{}Output", e.name.pascal())].contains(&def.name)
                })
                .map(|e| format!("the generated type of event `{}`", e.name.full))
        };
        if let Some(what) = clash {
            diags.push(
                def_locs[&def.name].diag(
                    Diagnostic::new(
                        DiagnosticKind::ReservedName,
                        format!("definition name `{}` is reserved", def.name),
                    )
                    .help(format!("it is already {what}; choose another name")),
                ),
            );
        }
    }

    // Aliases: unique, and never the name of a real event.
    let mut seen_aliases: HashMap<&str, &Loc> = HashMap::new();
    for (alias, loc) in &aliases {
        if names.contains_key(alias) {
            diags.push(
                loc.diag(
                    Diagnostic::new(DiagnosticKind::DuplicateAlias, format!("alias `{alias}` is the name of an event"))
                        .help("an alias may only name an event that no longer exists"),
                ),
            );
        } else if let Some(first) = seen_aliases.get(alias.as_str()) {
            diags.push(
                loc.diag(
                    Diagnostic::new(DiagnosticKind::DuplicateAlias, format!("alias `{alias}` is used twice"))
                        .help(format!("first used at {}", first.short())),
                ),
            );
        } else {
            seen_aliases.insert(alias, loc);
        }
    }

    // References.
    let def_names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let mut dangling = false;
    for (name, loc) in &refs {
        if !def_locs.contains_key(name) {
            dangling = true;
            let help = match did_you_mean(name, def_names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if def_names.is_empty() => "declare it under `definitions:` in any spec file".to_string(),
                None => format!("declare it under `definitions:`; known definitions: {}", def_names.join(", ")),
            };
            diags.push(loc.diag(
                Diagnostic::new(DiagnosticKind::DanglingRef, format!("`ref: {name}` names no definition")).help(help),
            ));
        }
    }
    for (from, to, loc) in &replaced_by {
        if from == to {
            diags.push(
                loc.diag(
                    Diagnostic::new(DiagnosticKind::DanglingRef, format!("event `{from}` is replaced by itself"))
                        .help("name the event that supersedes this one"),
                ),
            );
        } else if !names.contains_key(to) {
            let help = did_you_mean(to, names.keys().map(String::as_str))
                .map_or("name an event declared in the spec".to_string(), |s| format!("did you mean `{s}`?"));
            diags.push(loc.diag(
                Diagnostic::new(DiagnosticKind::DanglingRef, format!("`replaced_by: {to}` names no event")).help(help),
            ));
        }
    }

    let spec = Spec { definitions: defs, events: evs };
    if !dangling {
        for (name, loc) in &root_refs {
            if let Some(d) = spec.definition(name)
                && (!matches!(d.schema.kind, SchemaKind::Object(_)) || d.schema.nullable)
            {
                diags.push(
                    loc.diag(
                        Diagnostic::new(
                            DiagnosticKind::RootNotObject,
                            format!("`{name}` is not an object, so it cannot be an event input or output"),
                        )
                        .help("refer to an object definition, or wrap the value in an object"),
                    ),
                );
            }
        }
        for (name, tag, loc) in &variant_refs {
            if let Some(d) = spec.definition(name) {
                match &d.schema.kind {
                    SchemaKind::Object(o) if o.fields.iter().any(|f| &f.wire_name == tag) => diags.push(
                        loc.diag(
                            Diagnostic::new(
                                DiagnosticKind::BadVariant,
                                format!("variant `{name}` declares the tag property `{tag}` itself"),
                            )
                            .help("remove it from the definition: the union adds the tag"),
                        ),
                    ),
                    SchemaKind::Object(_) if !d.schema.nullable => {}
                    _ => diags.push(
                        loc.diag(
                            Diagnostic::new(DiagnosticKind::BadVariant, format!("variant `{name}` is not an object"))
                                .help("each variant is an object schema or a `ref` to one"),
                        ),
                    ),
                }
            }
        }
        for cycle in recursive_definitions(&spec) {
            let loc = &def_locs[&cycle];
            diags.push(
                loc.diag(
                    Diagnostic::new(
                        DiagnosticKind::RecursiveDefinition,
                        format!("definition `{cycle}` refers to itself"),
                    )
                    .help("recursive schemas are not supported; break the cycle with `type: any`"),
                ),
            );
        }
        if diags.is_empty() {
            for vc in &value_checks {
                let mut problems = Vec::new();
                validate(&spec, &vc.schema, &vc.value, String::new(), &mut problems, 0);
                if let Some(first) = problems.first() {
                    let more =
                        if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
                    diags.push(vc.loc.diag(
                        Diagnostic::new(vc.kind, format!("{} does not match its schema: {first}{more}", vc.what)).help(
                            match vc.kind {
                                DiagnosticKind::FallbackMismatch => {
                                    "a fallback is returned as the event's output, so it must validate against `output`"
                                }
                                DiagnosticKind::InvalidDefault => {
                                    "a default must satisfy the property's own constraints"
                                }
                                _ => "fix the example so it is a value the schema accepts",
                            },
                        ),
                    ));
                }
            }
        }
    }

    let mut spec = spec;
    spec.definitions.sort_by(|a, b| a.name.cmp(&b.name));
    spec.events.sort_by(|a, b| a.name.cmp(&b.name));
    diags.sort();
    spec
}

/// Definitions that reach themselves through refs.
fn recursive_definitions(spec: &Spec) -> Vec<String> {
    fn refs_of(s: &Schema, out: &mut Vec<String>) {
        match &s.kind {
            SchemaKind::Ref(r) => out.push(r.clone()),
            SchemaKind::Array(a) => refs_of(&a.items, out),
            SchemaKind::Record(v) => refs_of(v, out),
            SchemaKind::Object(o) => o.fields.iter().for_each(|f| refs_of(&f.schema, out)),
            SchemaKind::OneOf(u) => u.variants.iter().for_each(|v| refs_of(&v.schema, out)),
            _ => {}
        }
    }
    let mut cyclic = Vec::new();
    for d in &spec.definitions {
        let mut stack = Vec::new();
        refs_of(&d.schema, &mut stack);
        let mut visited = HashSet::new();
        while let Some(r) = stack.pop() {
            if r == d.name {
                cyclic.push(d.name.clone());
                break;
            }
            if visited.insert(r.clone())
                && let Some(def) = spec.definition(&r)
            {
                refs_of(&def.schema, &mut stack);
            }
        }
    }
    cyclic
}

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
        SchemaKind::String(rules) => {
            let Some(s) = value.as_str() else {
                return expected(out, "string");
            };
            let n = s.chars().count() as u64;
            if rules.min_length.is_some_and(|m| n < m) {
                out.push(format!("string shorter than {} characters{}", rules.min_length.unwrap_or(0), at(&path)));
            }
            if rules.max_length.is_some_and(|m| n > m) {
                out.push(format!("string longer than {} characters{}", rules.max_length.unwrap_or(0), at(&path)));
            }
            if let Some(p) = &rules.pattern
                && regex::Regex::new(p).map(|re| !re.is_match(s)).unwrap_or(true)
            {
                out.push(format!("string does not match `{p}`{}", at(&path)));
            }
            if let Some(f) = rules.format
                && !format_ok(f, s)
            {
                out.push(format!("string is not a valid {}{}", f.as_str(), at(&path)));
            }
        }
        SchemaKind::Integer(rules) | SchemaKind::Number(rules) => {
            let Some(x) = value.as_f64() else {
                return expected(out, "number");
            };
            let integer = matches!(schema.kind, SchemaKind::Integer(_));
            if integer && x.fract() != 0.0 {
                return expected(out, "integer");
            }
            const SAFE: f64 = 9_007_199_254_740_991.0;
            let lo = rules.minimum.or(integer.then_some(Bound { value: -SAFE, exclusive: false }));
            let hi = rules.maximum.or(integer.then_some(Bound { value: SAFE, exclusive: false }));
            if let Some(b) = lo
                && (x < b.value || (b.exclusive && x == b.value))
            {
                out.push(format!("{x} is below the minimum {}{}", b.value, at(&path)));
            }
            if let Some(b) = hi
                && (x > b.value || (b.exclusive && x == b.value))
            {
                out.push(format!("{x} is above the maximum {}{}", b.value, at(&path)));
            }
        }
        SchemaKind::Enum(values) => match value.as_str() {
            Some(s) if values.iter().any(|v| v == s) => {}
            Some(s) => out.push(format!("`{s}` is not one of {}{}", values.join(", "), at(&path))),
            None => expected(out, "string"),
        },
        SchemaKind::Array(a) => {
            let Some(items) = value.as_array() else {
                return expected(out, "array");
            };
            if a.min_items.is_some_and(|m| (items.len() as u64) < m) {
                out.push(format!("fewer than {} items{}", a.min_items.unwrap_or(0), at(&path)));
            }
            if a.max_items.is_some_and(|m| (items.len() as u64) > m) {
                out.push(format!("more than {} items{}", a.max_items.unwrap_or(0), at(&path)));
            }
            for (i, item) in items.iter().enumerate() {
                validate(spec, &a.items, item, format!("{path}[{i}]"), out, depth + 1);
            }
        }
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
        SchemaKind::OneOf(u) => {
            let Some(map) = value.as_object() else {
                return expected(out, "object");
            };
            let Some(tag) = map.get(&u.tag).and_then(Value::as_str) else {
                out.push(format!("missing string tag `{}`{}", u.tag, at(&path)));
                return;
            };
            let Some(variant) = u.variants.iter().find(|v| v.tag_value == tag) else {
                let options: Vec<&str> = u.variants.iter().map(|v| v.tag_value.as_str()).collect();
                out.push(format!("tag `{tag}` is not one of {}{}", options.join(", "), at(&path)));
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
                validate_object(spec, obj, value, &path, out, depth, Some(&u.tag));
            }
        }
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

/// The string formats, as the generated validators implement them (kept simple and strict).
fn format_ok(format: Format, s: &str) -> bool {
    match format {
        Format::Uuid => {
            let b = s.as_bytes();
            b.len() == 36
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
        }
        Format::DateTime => {
            static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
                    .expect("static regex")
            });
            RE.is_match(s)
        }
        Format::Uri => {
            static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$").expect("static regex")
            });
            RE.is_match(s)
        }
    }
}
