//! The `claude_code` routes against the whole spec: every property a route fills exists in its
//! event's input, every required property is filled, and each Claude Code hook call reaches at
//! most one event (one unconditional route per hook, distinct conditions, one catch-all).

use std::collections::HashMap;

use super::report;
use crate::diagnostics::{DiagnosticKind, Diagnostics};
use crate::model::{ObjectSchema, SchemaKind, Spec};
use crate::parse::Loc;

/// A route's condition: `(field, value, negate)`.
type Condition<'a> = Option<(&'a str, &'a str, bool)>;

pub(super) fn routes_fit(spec: &Spec, routes: &[(String, usize, Loc)], diags: &mut Diagnostics) {
    // hook → (condition, event) of every route serving it.
    let mut served: HashMap<&str, Vec<(Condition, &str)>> = HashMap::new();
    for (event_name, index, loc) in routes {
        let Some(event) = spec.events.iter().find(|e| &e.name.full == event_name) else { continue };
        let Some(route) = event.claude_code.get(*index) else { continue };
        if let Some(input) = input_object(spec, &event.input.kind) {
            for (property, _) in &route.fields {
                // `context.cwd` fills a key of the object property `context`.
                let top = property.split('.').next().unwrap_or(property);
                if !input.fields.iter().any(|f| f.wire_name == top) {
                    let known: Vec<&str> = input.fields.iter().map(|f| f.wire_name.as_str()).collect();
                    report(
                        diags,
                        loc,
                        DiagnosticKind::BadHookRoute,
                        format!("`claude_code.fields` fills `{property}`, which `{event_name}`'s input does not have"),
                        format!("its input properties: {}", known.join(", ")),
                    );
                }
            }
            for field in input.fields.iter().filter(|f| f.required()) {
                let filled = |p: &String| p == &field.wire_name || p.starts_with(&format!("{}.", field.wire_name));
                if !route.fields.iter().any(|(p, _)| filled(p)) {
                    report(
                        diags,
                        loc,
                        DiagnosticKind::BadHookRoute,
                        format!(
                            "`claude_code.fields` leaves `{}` unfilled, which `{event_name}` requires",
                            field.wire_name
                        ),
                        "map it from the hook input, or give it a `{ const: … }` (or a default in the schema)",
                    );
                }
            }
        }
        let when = route.when.as_ref().map(|(f, v, n)| (f.as_str(), v.as_str(), *n));
        for hook in &route.hooks {
            let others = served.entry(hook.as_str()).or_default();
            if let Some((_, other)) = others.iter().find(|(w, _)| *w == when) {
                let condition = match when {
                    None => "without a condition".to_string(),
                    Some((f, v, false)) => format!("when `{f}` is `{v}`"),
                    Some((f, v, true)) => format!("when `{f}` is not `{v}`"),
                };
                report(
                    diags,
                    loc,
                    DiagnosticKind::BadHookRoute,
                    format!("`{hook}` {condition} is served by `{other}` already"),
                    "each hook call must reach one event: give one of the routes a `when`",
                );
            } else {
                others.push((when, event_name.as_str()));
            }
        }
    }
}

fn input_object<'a>(spec: &'a Spec, kind: &'a SchemaKind) -> Option<&'a ObjectSchema> {
    match kind {
        SchemaKind::Object(o) => Some(o),
        SchemaKind::Ref(name) => spec.definition(name).and_then(|d| input_object(spec, &d.schema.kind)),
        _ => None,
    }
}
