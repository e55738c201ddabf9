//! Whole-spec checks: what `parse` could not decide file by file. Each pass below reports one
//! kind of problem — duplicates across files, names the generated code or the server already
//! uses, references, and values (defaults, examples, fallbacks) that must satisfy schemas which
//! may live in other files — and [`check`] runs them in order.

mod hooks;
mod values;

use std::collections::{HashMap, HashSet};

use crate::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics, did_you_mean};
use crate::model::*;
use crate::parse::{Loc, Parsed, ValueCheck};

pub(crate) use values::validate;

/// Finish the model: report what needs the whole spec, then sort.
pub(crate) fn check(parsed: Parsed, diags: &mut Diagnostics) -> Spec {
    let Parsed {
        definitions,
        events,
        refs,
        variant_refs,
        root_refs,
        replaced_by,
        aliases,
        published,
        hook_routes,
        value_checks,
    } = parsed;
    let (definitions, def_locs) = unique_definitions(definitions, diags);
    let (events, event_locs) = unique_events(events, diags);
    reserved_definition_names(&definitions, &def_locs, &events, diags);
    unique_aliases(&aliases, &event_locs, diags);
    published_names_are_not_events(&published, &event_locs, &aliases, diags);
    let dangling = dangling_refs(&refs, &definitions, &def_locs, diags);
    dangling_replacements(&replaced_by, &event_locs, diags);

    let mut spec = Spec { definitions, events };
    // The remaining passes follow references, so they need every one of them to resolve.
    if !dangling {
        root_refs_are_objects(&spec, &root_refs, diags);
        variant_refs_are_objects(&spec, &variant_refs, diags);
        recursion(&spec, &def_locs, diags);
        hooks::routes_fit(&spec, &hook_routes, diags);
        // Against a spec with other errors, a value check would mostly repeat them.
        if diags.is_empty() {
            values_match_their_schemas(&spec, &value_checks, diags);
        }
    }
    spec.definitions.sort_by(|a, b| a.name.cmp(&b.name));
    spec.events.sort_by(|a, b| a.name.cmp(&b.name));
    diags.sort();
    spec
}

/// Report `message` (with `help`) at `loc`.
fn report(diags: &mut Diagnostics, loc: &Loc, kind: DiagnosticKind, message: String, help: impl Into<String>) {
    diags.push(loc.diag(Diagnostic::new(kind, message).help(help)));
}

/// The first declaration of each definition, and where it is; every repeat is reported at the
/// repeat, pointing at the first.
fn unique_definitions(
    definitions: Vec<(Definition, Loc)>,
    diags: &mut Diagnostics,
) -> (Vec<Definition>, HashMap<String, Loc>) {
    let mut defs = Vec::new();
    let mut locs: HashMap<String, Loc> = HashMap::new();
    // The generated bound constants are named by this prefix, so two definitions sharing it
    // would generate Rust that does not compile.
    let mut prefixes: HashMap<String, (String, Loc)> = HashMap::new();
    for (def, loc) in definitions {
        if let Some(first) = locs.get(&def.name) {
            let help = format!("first declared at {}; rename or remove one", first.short());
            let message = format!("definition `{}` is declared twice", def.name);
            report(diags, &loc, DiagnosticKind::DuplicateDefinition, message, help);
        } else if let Some((other, first)) = prefixes.get(&constant_prefix(&def.name)) {
            let help = format!("`{other}` is declared at {}; rename one of them", first.short());
            let message = format!(
                "definitions `{}` and `{other}` would generate the same constant names (`{}_…`)",
                def.name,
                constant_prefix(&def.name)
            );
            report(diags, &loc, DiagnosticKind::DuplicateDefinition, message, help);
        } else {
            prefixes.insert(constant_prefix(&def.name), (def.name.clone(), loc.clone()));
            locs.insert(def.name.clone(), loc);
            defs.push(def);
        }
    }
    (defs, locs)
}

/// The events that can be served, and where each is declared: not a repeat, not on a route the
/// server itself serves, and not the MCP tool of another event.
fn unique_events(events: Vec<(Event, Loc)>, diags: &mut Diagnostics) -> (Vec<Event>, HashMap<String, Loc>) {
    let mut evs = Vec::new();
    let mut names: HashMap<String, Loc> = HashMap::new();
    let mut tools: HashMap<String, String> = HashMap::new();
    // The Rust items of an event are named by its PascalCase stem, which is not injective
    // (`task.creat_e` and `task.creat__e` are both `TaskCreatE`).
    let mut stems: HashMap<String, String> = HashMap::new();
    for (event, loc) in events {
        let name = event.name.full.clone();
        if let Some(first) = names.get(&name) {
            let help = format!("first declared at {}; each event is declared once", first.short());
            report(diags, &loc, DiagnosticKind::DuplicateEvent, format!("event `{name}` is declared twice"), help);
            continue;
        }
        let route = event.name.http_path();
        if claudebench_contract::routes::is_reserved(&route) {
            let message = format!("event `{name}` would take the route `{route}`");
            report(
                diags,
                &loc,
                DiagnosticKind::ReservedName,
                message,
                "the server itself serves that path; rename the event",
            );
            continue;
        }
        let tool = event.name.mcp_tool();
        if let Some(other) = tools.get(&tool) {
            let message = format!("events `{other}` and `{name}` both become the MCP tool `{tool}`");
            report(diags, &loc, DiagnosticKind::DuplicateToolName, message, "rename one event");
            continue;
        }
        let stem = event.name.pascal();
        if let Some(other) = stems.get(&stem) {
            let message = format!("events `{other}` and `{name}` both become the Rust type names `{stem}…`");
            report(diags, &loc, DiagnosticKind::DuplicateEvent, message, "rename one event");
            continue;
        }
        stems.insert(stem, name.clone());
        tools.insert(tool, name.clone());
        names.insert(name, loc);
        evs.push(event);
    }
    (evs, names)
}

/// Definition names share one namespace with generated names (Rust types, OpenAPI components).
fn reserved_definition_names(
    defs: &[Definition],
    def_locs: &HashMap<String, Loc>,
    events: &[Event],
    diags: &mut Diagnostics,
) {
    for def in defs {
        let clash = if RESERVED_COMPONENTS.contains(&def.name.as_str()) {
            Some("a shared schema of the generated API documents".to_string())
        } else {
            events
                .iter()
                .find(|e| {
                    let (input, output) = e.name.io_type_names();
                    def.name == input || def.name == output
                })
                .map(|e| format!("the generated type of event `{}`", e.name.full))
        };
        if let (Some(what), Some(loc)) = (clash, def_locs.get(&def.name)) {
            let message = format!("definition name `{}` is reserved", def.name);
            let help = format!("it is already {what}; choose another name");
            report(diags, loc, DiagnosticKind::ReservedName, message, help);
        }
    }
}

/// Aliases are unique, and never the name of an event.
fn unique_aliases(aliases: &[(String, Loc)], event_locs: &HashMap<String, Loc>, diags: &mut Diagnostics) {
    let mut seen: HashMap<&str, &Loc> = HashMap::new();
    for (alias, loc) in aliases {
        if event_locs.contains_key(alias) {
            let message = format!("alias `{alias}` is the name of an event");
            report(
                diags,
                loc,
                DiagnosticKind::DuplicateAlias,
                message,
                "an alias may only name an event that no longer exists",
            );
        } else if let Some(first) = seen.get(alias.as_str()) {
            let help = format!("first used at {}", first.short());
            report(diags, loc, DiagnosticKind::DuplicateAlias, format!("alias `{alias}` is used twice"), help);
        } else {
            seen.insert(alias, loc);
        }
    }
}

/// A published name says what happened (`task.created`) and names a stream of the bus; an event
/// of the spec (or an alias) is a request (`task.create`). One name for both would mix a request
/// with its outcome wherever the bus is read (subscribers, `system.get_state`).
fn published_names_are_not_events(
    published: &[(String, Loc)],
    event_locs: &HashMap<String, Loc>,
    aliases: &[(String, Loc)],
    diags: &mut Diagnostics,
) {
    for (name, loc) in published {
        if event_locs.contains_key(name) || aliases.iter().any(|(alias, _)| alias == name) {
            let message = format!("`publishes` names `{name}`, an event of the spec");
            let help = "list the notifications the event puts on the bus (what happened, e.g. `task.created`)";
            report(diags, loc, DiagnosticKind::PublishesSpecEvent, message, help);
        }
    }
}

/// Every `ref` names a definition; returns whether one does not.
fn dangling_refs(
    refs: &[(String, Loc)],
    defs: &[Definition],
    def_locs: &HashMap<String, Loc>,
    diags: &mut Diagnostics,
) -> bool {
    let def_names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let mut dangling = false;
    for (name, loc) in refs {
        if !def_locs.contains_key(name) {
            dangling = true;
            let help = match did_you_mean(name, def_names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if def_names.is_empty() => "declare it under `definitions:` in any spec file".to_string(),
                None => format!("declare it under `definitions:`; known definitions: {}", def_names.join(", ")),
            };
            report(diags, loc, DiagnosticKind::DanglingRef, format!("`ref: {name}` names no definition"), help);
        }
    }
    dangling
}

/// Every `replaced_by` names another event of the spec.
fn dangling_replacements(
    replaced_by: &[(String, String, Loc)],
    event_locs: &HashMap<String, Loc>,
    diags: &mut Diagnostics,
) {
    for (from, to, loc) in replaced_by {
        if from == to {
            let message = format!("event `{from}` is replaced by itself");
            report(diags, loc, DiagnosticKind::DanglingRef, message, "name the event that supersedes this one");
        } else if !event_locs.contains_key(to) {
            let help = did_you_mean(to, event_locs.keys().map(String::as_str))
                .map_or("name an event declared in the spec".to_string(), |s| format!("did you mean `{s}`?"));
            report(diags, loc, DiagnosticKind::DanglingRef, format!("`replaced_by: {to}` names no event"), help);
        }
    }
}

/// An event `input`/`output` given as a `ref` names a non-nullable object definition.
fn root_refs_are_objects(spec: &Spec, root_refs: &[(String, Loc)], diags: &mut Diagnostics) {
    for (name, loc) in root_refs {
        if let Some(d) = spec.definition(name)
            && (!matches!(d.schema.kind, SchemaKind::Object(_)) || d.schema.nullable)
        {
            let message = format!("`{name}` is not an object, so it cannot be an event input or output");
            report(
                diags,
                loc,
                DiagnosticKind::RootNotObject,
                message,
                "refer to an object definition, or wrap the value in an object",
            );
        }
    }
}

/// A `one_of` variant given as a `ref` names a non-nullable object that leaves the tag to the union.
fn variant_refs_are_objects(spec: &Spec, variant_refs: &[(String, String, Loc)], diags: &mut Diagnostics) {
    for (name, tag, loc) in variant_refs {
        let Some(d) = spec.definition(name) else {
            continue;
        };
        match &d.schema.kind {
            SchemaKind::Object(o) if o.fields.iter().any(|f| &f.wire_name == tag) => {
                let message = format!("variant `{name}` declares the tag property `{tag}` itself");
                report(
                    diags,
                    loc,
                    DiagnosticKind::BadVariant,
                    message,
                    "remove it from the definition: the union adds the tag",
                );
            }
            SchemaKind::Object(_) if !d.schema.nullable => {}
            _ => {
                let message = format!("variant `{name}` is not an object");
                report(
                    diags,
                    loc,
                    DiagnosticKind::BadVariant,
                    message,
                    "each variant is an object schema or a `ref` to one",
                );
            }
        }
    }
}

/// No definition reaches itself: the generated Rust types would have infinite size.
fn recursion(spec: &Spec, def_locs: &HashMap<String, Loc>, diags: &mut Diagnostics) {
    for cycle in recursive_definitions(spec) {
        let Some(loc) = def_locs.get(&cycle) else {
            continue;
        };
        let message = format!("definition `{cycle}` refers to itself");
        let help = "recursive schemas are not supported; break the cycle with `type: any`";
        report(diags, loc, DiagnosticKind::RecursiveDefinition, message, help);
    }
}

/// Every default, example and fallback satisfies its schema; each value reports its first problem.
fn values_match_their_schemas(spec: &Spec, value_checks: &[ValueCheck], diags: &mut Diagnostics) {
    for vc in value_checks {
        let mut problems = Vec::new();
        validate(spec, &vc.schema, &vc.value, String::new(), &mut problems, 0);
        let Some(first) = problems.first() else {
            continue;
        };
        let more = if problems.len() > 1 { format!(" (and {} more)", problems.len() - 1) } else { String::new() };
        let help = match vc.kind {
            DiagnosticKind::FallbackMismatch => {
                "a fallback is returned as the event's output, so it must validate against `output`"
            }
            DiagnosticKind::InvalidDefault => "a default must satisfy the property's own constraints",
            _ => "fix the example so it is a value the schema accepts",
        };
        let message = format!("{} does not match its schema: {first}{more}", vc.what);
        report(diags, &vc.loc, vc.kind, message, help);
    }
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
