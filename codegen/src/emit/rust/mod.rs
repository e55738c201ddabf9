//! Rust types, validators, handler traits and the event table, as one prettyplease-formatted file.
//!
//! The output has three modules, each built by its own submodule here:
//! - `types` ([`types`]): one struct, enum or alias per definition and per event input/output,
//!   each with a streaming `Object` reader (the validator) and a `Deserialize` that uses it;
//! - `events` ([`table`]): `EventId`, the static `EVENTS` table and the `Input`/`Output` enums;
//! - `handlers` ([`handlers`]): one trait per event, their conjunction `Handlers`, and `call`.
//!
//! Generated code names everything by its full path (`::serde::Serialize`, `::std::vec::Vec`) so it
//! never collides with a type the spec declares.

mod handlers;
mod table;
mod types;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::model::Spec;

/// Settings for the Rust emitter.
#[derive(Debug, Clone)]
pub struct RustOptions {
    /// Path of the crate that holds the hand-written support (`validation`, `error`, `event`,
    /// `issue` modules): `crate` inside `claudebench-generated`.
    pub support: String,
    /// Where the crate implementing the handler traits keeps one file per event
    /// (`<handlers_dir>/<domain>/<action>.rs`), relative to its manifest: `src/handlers` for the
    /// `claudebench` crate. The compiler names that file when an event has no handler.
    pub handlers_dir: String,
}

/// The generated Rust source, prettyplease-formatted.
pub fn emit(spec: &Spec, opts: &RustOptions) -> String {
    // Formatting dominates for large specs, and the three modules format independently: the
    // types (the largest part) on a second thread. Token streams are not `Send`, so each thread
    // builds its own from the shared model.
    let (types, rest) = std::thread::scope(|scope| {
        let types = scope.spawn(|| format_items(types::emit(spec, &support_path(&opts.support))));
        let support = support_path(&opts.support);
        let events = table::emit(spec, &support);
        let handlers = handlers::emit(spec, &support, &opts.handlers_dir);
        let rest = format_items(quote! { #events #handlers });
        let types = types.join().unwrap_or_else(|_| {
            compile_error_text("claudebench-codegen crashed while emitting the types; please report this bug")
        });
        (types, rest)
    });
    let mut out = String::with_capacity(types.len() + rest.len() + 200);
    out.push_str("// ");
    out.push_str(super::GENERATED_NOTE);
    out.push_str("\n\n");
    out.push_str(&types);
    out.push_str(&rest);
    out
}

/// Items, prettyplease-formatted.
fn format_items(items: TokenStream) -> String {
    match syn::parse2::<syn::File>(items) {
        Ok(parsed) => prettyplease::unparse(&parsed),
        // A bug in this emitter, not in the spec: make the build fail loudly at the generated file
        // instead of panicking inside a build script.
        Err(e) => {
            compile_error_text(&format!("claudebench-codegen emitted invalid Rust ({e}); please report this bug"))
        }
    }
}

fn compile_error_text(msg: &str) -> String {
    format!("{}\n", quote!(compile_error!(#msg);))
}

/// `crate`, `::claudebench_generated` or `some::path` as tokens.
fn support_path(path: &str) -> TokenStream {
    let path = path.trim();
    let (leading, rest) = match path.strip_prefix("::") {
        Some(rest) => (quote!(::), rest),
        None => (TokenStream::new(), path),
    };
    let segments = rest.split("::").filter(|s| !s.is_empty()).map(|s| Ident::new(s, Span::call_site()));
    quote!(#leading #(#segments)::*)
}

/// A Rust identifier for a name from the spec: invalid characters become `_`, keywords get `r#`
/// (or a trailing `_` for the few that cannot be raw).
pub(crate) fn ident(name: &str) -> Ident {
    let mut s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    match s.as_str() {
        "self" | "Self" | "super" | "crate" | "_" => Ident::new(&format!("{s}_"), Span::call_site()),
        _ if is_keyword(&s) => Ident::new_raw(&s, Span::call_site()),
        _ => Ident::new(&s, Span::call_site()),
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
    )
}

/// `#[doc = "…"]` lines for an optional description (nothing when absent).
pub(crate) fn doc(text: Option<&str>) -> TokenStream {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return TokenStream::new();
    };
    // A bare carriage return is not allowed in a doc comment: treat it as a line break.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines = text.lines().map(|l| format!(" {}", l.trim_end()));
    quote!(#(#[doc = #lines])*)
}
