//! The `handlers` module: one trait per event, their conjunction `Handlers`, and `call`.
//!
//! A trait per event (rather than one trait with a method per event) lets each handler live in
//! its own file and lets the compiler name exactly which event is missing, with the file to create.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::doc;
use crate::model::Spec;

/// `handlers_dir` is where the implementing crate keeps one file per event (see `RustOptions`).
pub(super) fn emit(spec: &Spec, support: &TokenStream, handlers_dir: &str) -> TokenStream {
    let handlers_dir = handlers_dir.trim_end_matches('/');
    let ids: Vec<Ident> = spec.events.iter().map(|e| format_ident!("{}", e.name.pascal())).collect();
    let traits = spec.events.iter().zip(&ids).map(|(e, id)| {
        let name = &e.name.full;
        let input = format_ident!("{id}Input");
        let output = format_ident!("{id}Output");
        let docs = doc(Some(&format!("Handles `{name}`: {}", e.description.trim())));
        let message = format!("event `{name}` has no handler");
        let label = format!("`{{Self}}` does not handle `{name}`");
        let note = format!(
            "create `{handlers_dir}/{}/{}.rs` with `impl handlers::{id}<{{C}}> for {{Self}} {{{{ async fn handle(…) }}}}`, \
             or run `cargo run -p claudebench-codegen -- scaffold`",
            e.name.domain, e.name.action
        );
        quote! {
            #docs
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            pub trait #id<C: ?::core::marker::Sized + ::core::marker::Sync>: ::core::marker::Send + ::core::marker::Sync {
                /// Run the event on a validated input.
                fn handle(
                    &self,
                    ctx: &C,
                    input: types::#input,
                ) -> impl ::core::future::Future<Output = ::core::result::Result<types::#output, Error>> + ::core::marker::Send;
            }
        }
    });
    let bounds =
        if ids.is_empty() { quote!(::core::marker::Send + ::core::marker::Sync) } else { quote!(#(#ids<C>)+*) };
    let allow = ids.is_empty().then(|| quote!(#[allow(unused_imports, unused_variables)]));
    quote! {
        /// Handler traits: implement one per event, then dispatch any input with [`call`].
        #allow
        pub mod handlers {
            use #support::error::Error;
            use super::events::{Input, Output};
            use super::types;

            #(#traits)*

            /// Every handler trait at once: what a complete implementation provides.
            #[diagnostic::on_unimplemented(
                message = "`{Self}` does not handle every event of the spec",
                note = "implement each event's trait (see the errors naming the missing events), or run `cargo run -p claudebench-codegen -- scaffold`"
            )]
            pub trait Handlers<C: ?::core::marker::Sized + ::core::marker::Sync>: #bounds {}

            impl<C: ?::core::marker::Sized + ::core::marker::Sync, H: #bounds> Handlers<C> for H {}

            /// Run the handler of `input`'s event.
            ///
            /// The bound lists every trait rather than `Handlers<C>`: the compiler then reports each
            /// missing handler with its own message (the event and the file to create), where a
            /// single `Handlers<C>` bound would only say that the conjunction is unmet.
            pub async fn call<C, H>(handlers: &H, ctx: &C, input: Input) -> ::core::result::Result<Output, Error>
            where
                C: ?::core::marker::Sized + ::core::marker::Sync,
                H: #bounds,
            {
                match input {
                    #(Input::#ids(input) => #ids::handle(handlers, ctx, input).await.map(Output::#ids),)*
                }
            }
        }
    }
}
