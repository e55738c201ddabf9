//! The `events` module: `EventId`, the static `EVENTS` table, and the `Input`/`Output` enums that
//! carry any event's validated payload.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::doc;
use crate::emit::json_schema;
use crate::model::{Event, Fallback, Spec};

pub(super) fn emit(spec: &Spec, support: &TokenStream) -> TokenStream {
    let n = spec.events.len();
    let ids: Vec<Ident> = spec.events.iter().map(|e| format_ident!("{}", e.name.pascal())).collect();
    let names: Vec<&str> = spec.events.iter().map(|e| e.name.full.as_str()).collect();
    let indices = (0..n).map(Literal::usize_unsuffixed);
    let variant_docs = spec.events.iter().map(|e| doc(Some(&format!("`{}`: {}", e.name.full, e.description.trim()))));
    let rows = spec.events.iter().map(|e| row(spec, e));
    let hook_routes: Vec<TokenStream> =
        spec.events.iter().flat_map(|e| e.claude_code.iter().map(move |r| hook_route(e, r))).collect();
    let alias_arms = spec.events.iter().zip(&ids).filter(|(e, _)| !e.aliases.is_empty()).map(|(e, id)| {
        let aliases = &e.aliases;
        quote!(#(#aliases)|* => ::core::option::Option::Some(EventId::#id),)
    });
    let inputs: Vec<Ident> = ids.iter().map(|id| format_ident!("{id}Input")).collect();
    let outputs: Vec<Ident> = ids.iter().map(|id| format_ident!("{id}Output")).collect();

    // `match self {}` does not compile on a reference to an empty enum; `*self` does.
    let this = if n == 0 { quote!(*self) } else { quote!(self) };
    // An empty spec leaves the imports and parameters unused; say so rather than warn.
    let allow = (n == 0).then(|| quote!(#[allow(unused_imports, unused_variables)]));
    quote! {
        /// The event table and the payload enums the runtime dispatches on.
        #allow
        pub mod events {
            use #support::event::{CircuitBreakerDef, EventDef, McpDef, RateLimit};
            #[allow(unused_imports)]
            use #support::hook::{HookAnswer, HookRoute, HookSource, HookWhen};
            use #support::validation::{self as v, ValidationError};
            use super::types;

            /// Every event of the spec, in name order.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum EventId {
                #(#variant_docs #ids,)*
            }

            impl EventId {
                /// Every event, in name order (the order of [`EVENTS`]).
                pub const ALL: [EventId; #n] = [#(EventId::#ids),*];

                /// The event's name, e.g. `task.create`.
                pub const fn name(self) -> &'static str {
                    match self {
                        #(EventId::#ids => #names,)*
                    }
                }

                /// The event's row of [`EVENTS`].
                pub fn def(self) -> &'static EventDef {
                    match self {
                        #(EventId::#ids => &EVENTS[#indices],)*
                    }
                }

                /// The event with this name or one of its aliases.
                pub fn from_name(name: &str) -> ::core::option::Option<Self> {
                    match name {
                        #(#names => ::core::option::Option::Some(EventId::#ids),)*
                        #(#alias_arms)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            impl ::std::fmt::Display for EventId {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.name())
                }
            }

            /// What the runtime knows about each event, in name order.
            pub static EVENTS: [EventDef; #n] = [#(#rows),*];

            /// The Claude Code hook table: the events that serve Claude Code's hooks (their
            /// `claude_code` routes), in event name order.
            pub static HOOK_ROUTES: &[HookRoute] = &[#(#hook_routes),*];

            /// A validated input of any event.
            #[derive(Debug, Clone, PartialEq)]
            pub enum Input {
                #(#ids(types::#inputs),)*
            }

            impl Input {
                /// Parse and validate JSON bytes as the input of `event`.
                pub fn parse(event: EventId, bytes: &[u8]) -> ::core::result::Result<Self, ValidationError> {
                    match event {
                        #(EventId::#ids => v::from_slice(bytes).map(Input::#ids),)*
                    }
                }

                /// Validate an already-parsed value as the input of `event`.
                pub fn from_value(event: EventId, value: &::serde_json::Value) -> ::core::result::Result<Self, ValidationError> {
                    match event {
                        #(EventId::#ids => v::from_value(value).map(Input::#ids),)*
                    }
                }

                /// The event this input is for.
                pub fn event(&self) -> EventId {
                    match #this {
                        #(Input::#ids(_) => EventId::#ids,)*
                    }
                }

                /// The input as JSON (defaults filled in).
                pub fn to_value(&self) -> ::serde_json::Value {
                    match #this {
                        #(Input::#ids(input) => v::to_value(input),)*
                    }
                }
            }

            /// A validated output of any event.
            #[derive(Debug, Clone, PartialEq)]
            pub enum Output {
                #(#ids(types::#outputs),)*
            }

            impl Output {
                /// Validate a value as the output of `event` (a handler's answer, or a fallback).
                pub fn from_value(event: EventId, value: &::serde_json::Value) -> ::core::result::Result<Self, ValidationError> {
                    match event {
                        #(EventId::#ids => v::from_value(value).map(Output::#ids),)*
                    }
                }

                /// The event this output is for.
                pub fn event(&self) -> EventId {
                    match #this {
                        #(Output::#ids(_) => EventId::#ids,)*
                    }
                }

                /// The output as JSON.
                pub fn to_value(&self) -> ::serde_json::Value {
                    match #this {
                        #(Output::#ids(output) => v::to_value(output),)*
                    }
                }
            }
        }
    }
}

/// One `HookRoute` literal: one of an event's `claude_code` routes.
fn hook_route(e: &Event, route: &crate::model::HookRoute) -> TokenStream {
    use crate::model::HookSource as Source;
    let event = &e.name.full;
    let hooks = &route.hooks;
    let when = opt(route
        .when
        .as_ref()
        .map(|(field, equals, negate)| quote!(HookWhen { field: #field, equals: #equals, negate: #negate })));
    let fields = route.fields.iter().map(|(property, source)| {
        let source = match source {
            Source::Input => quote!(HookSource::Input),
            Source::Const(value) => {
                let json = value.to_string();
                quote!(HookSource::Const(#json))
            }
            Source::Paths { paths, fallback } => {
                let fallback = opt(fallback.as_ref().map(|v| {
                    let json = v.to_string();
                    quote!(#json)
                }));
                quote!(HookSource::Paths { paths: &[#(#paths),*], fallback: #fallback })
            }
        };
        quote!((#property, #source))
    });
    let answer = format_ident!(
        "{}",
        match route.answer.as_str() {
            "permission" => "Permission",
            "prompt_context" => "PromptContext",
            "context" => "Context",
            _ => "Nothing",
        }
    );
    quote! {
        HookRoute { event: #event, hooks: &[#(#hooks),*], when: #when, fields: &[#(#fields),*], answer: HookAnswer::#answer }
    }
}

/// One `EventDef` literal.
fn row(spec: &Spec, e: &Event) -> TokenStream {
    let c = &e.config;
    let (name, domain, action) = (&e.name.full, &e.name.domain, &e.name.action);
    let (title, description) = (&e.title, &e.description);
    let (persist, mutates, test_only, timeout_ms, deprecated) =
        (c.persist, c.mutates, c.test_only, c.timeout_ms, e.deprecated);
    let roles = &c.roles;
    let aliases = &e.aliases;
    let rate_limit = opt(c.rate_limit.map(|r| {
        let (count, window_ms) = (r.count, r.window_ms);
        quote!(RateLimit { count: #count, window_ms: #window_ms })
    }));
    let circuit_breaker = opt(c.circuit_breaker.as_ref().map(|cb| {
        let (threshold, open_ms, probes) = (cb.threshold, cb.open_ms, cb.half_open_probes);
        let fallback = opt(match &cb.fallback {
            Fallback::Error => None,
            Fallback::Value(v) => {
                let text = serde_json::to_string(v).unwrap_or_default();
                Some(quote!(#text))
            }
        });
        quote!(CircuitBreakerDef { threshold: #threshold, open_ms: #open_ms, half_open_probes: #probes, fallback: #fallback })
    }));
    let cache_ttl_s = opt(c.cache_ttl_s.map(|t| quote!(#t)));
    let mcp = opt(c.mcp.expose.then(|| {
        let tool = e.name.mcp_tool();
        let m = &c.mcp;
        let (ro, de, id, ow) = (m.read_only, m.destructive, m.idempotent, m.open_world);
        let toolset = &m.toolset;
        let description = crate::emit::mcp::description(spec, e);
        let input = serde_json::to_string(&crate::emit::mcp::input_schema(spec, e)).unwrap_or_default();
        let output = serde_json::to_string(&crate::emit::mcp::output_schema(spec, e)).unwrap_or_default();
        quote!(McpDef {
            tool_name: #tool,
            toolset: #toolset,
            description: #description,
            input_schema: #input,
            output_schema: #output,
            read_only: #ro,
            destructive: #de,
            idempotent: #id,
            open_world: #ow,
        })
    }));
    let replaced_by = opt(e.replaced_by.as_ref().map(|r| quote!(#r)));
    let publishes = &e.publishes;
    let http_path = e.name.http_path();
    let input_schema = serde_json::to_string(&json_schema::event_input(spec, e)).unwrap_or_default();
    let output_schema = serde_json::to_string(&json_schema::event_output(spec, e)).unwrap_or_default();
    quote! {
        EventDef {
            name: #name,
            domain: #domain,
            action: #action,
            title: #title,
            description: #description,
            persist: #persist,
            mutates: #mutates,
            test_only: #test_only,
            roles: &[#(#roles),*],
            rate_limit: #rate_limit,
            timeout_ms: #timeout_ms,
            circuit_breaker: #circuit_breaker,
            cache_ttl_s: #cache_ttl_s,
            mcp: #mcp,
            aliases: &[#(#aliases),*],
            deprecated: #deprecated,
            replaced_by: #replaced_by,
            publishes: &[#(#publishes),*],
            http_path: #http_path,
            input_schema: #input_schema,
            output_schema: #output_schema,
        }
    }
}

fn opt(v: Option<TokenStream>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
