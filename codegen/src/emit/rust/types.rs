//! The `types` module: Rust types for every schema, and the validating reader of each.
//!
//! One walk over the model does both: [`Types::ty`] returns, for any schema, the Rust type and
//! the reader expression that validates it, emitting named types (structs, enums, aliases) for
//! definitions and anonymous objects as it meets them. Anonymous types are named after where
//! they appear (`TaskUpdateInput` + `updates` → `TaskUpdateInputUpdates`).

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;

use super::{doc, ident};
use crate::model::{
    Definition, Field, Format, NumberRules, ObjectSchema, Rule, Schema, SchemaKind, Spec, Union, UnknownKeys,
    pascal_case,
};

/// The `types` module of the output.
pub(super) fn emit(spec: &Spec, support: &TokenStream) -> TokenStream {
    let mut t = Types::new(spec);
    for def in &spec.definitions {
        t.definition(def);
    }
    for event in &spec.events {
        let (input, output) = event.name.io_type_names();
        let in_doc = format!("Input of `{}`: {}", event.name.full, event.description.trim());
        t.root(&event.input, &input, &in_doc);
        let out_doc = format!("Output of `{}`.", event.name.full);
        t.root(&event.output, &output, &out_doc);
    }
    let items = t.items;
    let allow = items.is_empty().then(|| quote!(#[allow(unused_imports)]));
    quote! {
        /// Every type of the spec: definitions, then each event's input and output.
        #allow
        pub mod types {
            use #support::validation as v;
            #(#items)*
        }
    }
}

/// A schema's Rust type and the reader expression that validates and produces it.
#[derive(Clone)]
struct Ty {
    rust: TokenStream,
    reader: TokenStream,
}

struct Types<'s> {
    spec: &'s Spec,
    items: Vec<TokenStream>,
    /// Names taken so far, so two places never produce the same type name.
    taken: BTreeSet<String>,
    /// The type name given to each named schema node (by address: the model outlives the walk),
    /// so defaults can name the structs and enums they construct.
    names: HashMap<*const Schema, Ident>,
    /// Aliases resolved so far (a `ref` to a definition that is not an object, enum or union).
    aliases: HashMap<String, Ty>,
}

impl<'s> Types<'s> {
    fn new(spec: &'s Spec) -> Self {
        // Definition names are reserved first: anonymous types must yield to them.
        let taken = spec.definitions.iter().map(|d| d.name.clone()).collect();
        let names = spec
            .definitions
            .iter()
            .map(|d| (&d.schema as *const Schema, Ident::new(&d.name, Span::call_site())))
            .collect();
        Types { spec, items: Vec::new(), taken, names, aliases: HashMap::new() }
    }

    /// A fresh type name based on `hint` (a numeric suffix on collision).
    fn fresh(&mut self, hint: &str) -> Ident {
        let base = ident(&pascal_case(hint)).to_string();
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        Ident::new(&name, Span::call_site())
    }

    fn definition(&mut self, def: &'s Definition) {
        let name = Ident::new(&def.name, Span::call_site());
        let docs = doc(def.schema.description.as_deref());
        match &def.schema.kind {
            SchemaKind::Object(o) => self.object(&name, o, docs),
            SchemaKind::Enum(values) => self.string_enum(&name, values, docs),
            SchemaKind::OneOf(u) => self.union(&name, u, docs),
            _ => {
                let ty = self.alias(&def.name);
                let rust = ty.rust;
                self.items.push(quote!(#docs pub type #name = #rust;));
                self.bounds(def);
            }
        }
    }

    /// The bounds of a named string or integer as constants (`TASK_TEXT_MAX_LENGTH`,
    /// `PRIORITY_MIN`…), so code that builds such a value itself (not from a validated input)
    /// takes the limit from the spec instead of a copy of it.
    fn bounds(&mut self, def: &'s Definition) {
        let prefix = crate::model::constant_prefix(&def.name);
        let doc = format!(" A bound of [`{}`], from the spec.", def.name);
        let mut push = |suffix: &str, value: TokenStream| {
            let name = Ident::new(&format!("{prefix}_{suffix}"), Span::call_site());
            self.items.push(quote!(#[doc = #doc] pub const #name #value;));
        };
        match &def.schema.kind {
            SchemaKind::String(rules) => {
                for (suffix, bound) in [("MIN_LENGTH", rules.min_length), ("MAX_LENGTH", rules.max_length)] {
                    if let Some(n) = bound.and_then(|n| usize::try_from(n).ok()) {
                        push(suffix, quote!(: usize = #n));
                    }
                }
            }
            SchemaKind::Integer(rules) => {
                // Whole numbers within ±(2^53 − 1) (the checker proved it), so exact as i64; an
                // exclusive bound moves one step in.
                let inclusive = |b: Option<crate::model::Bound>, step: i64| {
                    b.map(|b| (b.value as i64).saturating_add(if b.exclusive { step } else { 0 }))
                };
                for (suffix, bound) in [("MIN", inclusive(rules.minimum, 1)), ("MAX", inclusive(rules.maximum, -1))] {
                    if let Some(n) = bound {
                        push(suffix, quote!(: i64 = #n));
                    }
                }
            }
            _ => {}
        }
    }

    /// An event's input or output: always an object (or a ref to one) at the root.
    fn root(&mut self, schema: &'s Schema, name: &str, fallback_doc: &str) {
        let docs = doc(Some(schema.description.as_deref().unwrap_or(fallback_doc)));
        match &schema.kind {
            SchemaKind::Object(o) => {
                let name = self.fresh(name);
                self.names.insert(schema as *const Schema, name.clone());
                self.object(&name, o, docs);
            }
            _ => {
                // A ref to an object definition: a new name for the same type.
                let name = self.fresh(name);
                let ty = self.ty(schema, &name.to_string());
                let rust = ty.rust;
                self.items.push(quote!(#docs pub type #name = #rust;));
            }
        }
    }

    /// The Rust type and reader of a `ref` to a definition that is not an object, enum or union.
    fn alias(&mut self, name: &str) -> Ty {
        if let Some(ty) = self.aliases.get(name) {
            return ty.clone();
        }
        let Some(def) = self.spec.definition(name) else {
            // Unreachable on a checked model; any JSON value keeps the output compiling.
            return Ty { rust: quote!(::serde_json::Value), reader: quote!(v::Any) };
        };
        let ty = self.ty(&def.schema, &def.name);
        self.aliases.insert(name.to_string(), ty.clone());
        ty
    }

    /// The type and reader of any schema, `hint` naming the anonymous types it needs.
    fn ty(&mut self, s: &'s Schema, hint: &str) -> Ty {
        let base = match &s.kind {
            SchemaKind::String(r) => {
                let mut reader = quote!(v::Str::new());
                if let Some(n) = r.min_length.map(Literal::u64_unsuffixed) {
                    reader.extend(quote!(.min_length(#n)));
                }
                if let Some(n) = r.max_length.map(Literal::u64_unsuffixed) {
                    reader.extend(quote!(.max_length(#n)));
                }
                if let Some(p) = &r.pattern {
                    reader.extend(quote!(.pattern({
                        static PATTERN: v::Pattern = v::Pattern::new(#p);
                        &PATTERN
                    })));
                }
                if let Some(f) = r.format {
                    let f = match f {
                        Format::DateTime => quote!(DateTime),
                        Format::Uuid => quote!(Uuid),
                        Format::Uri => quote!(Uri),
                    };
                    reader.extend(quote!(.format(v::Format::#f)));
                }
                Ty { rust: quote!(::std::string::String), reader }
            }
            SchemaKind::Integer(r) => Ty { rust: quote!(i64), reader: bounds(quote!(v::Int::new()), r, true) },
            SchemaKind::Number(r) => Ty { rust: quote!(f64), reader: bounds(quote!(v::Num::new()), r, false) },
            SchemaKind::Boolean => Ty { rust: quote!(bool), reader: quote!(v::Bool) },
            // `any` already admits null: never wrapped in an Option.
            SchemaKind::Any => {
                return Ty { rust: quote!(::serde_json::Value), reader: quote!(v::Any) };
            }
            SchemaKind::Enum(values) => {
                let name = self.fresh(hint);
                self.names.insert(s as *const Schema, name.clone());
                self.string_enum(&name, values, doc(s.description.as_deref()));
                Ty { rust: quote!(#name), reader: quote!(v::EnumOf::<#name>::new()) }
            }
            SchemaKind::Array(a) => {
                let item = self.ty(&a.items, &format!("{hint}Item"));
                let (rust, mut reader) = (item.rust, item.reader);
                reader = quote!(v::Array::new(#reader));
                if let Some(n) = a.min_items.map(Literal::u64_unsuffixed) {
                    reader.extend(quote!(.min_items(#n)));
                }
                if let Some(n) = a.max_items.map(Literal::u64_unsuffixed) {
                    reader.extend(quote!(.max_items(#n)));
                }
                Ty { rust: quote!(::std::vec::Vec<#rust>), reader }
            }
            SchemaKind::Record(values) => {
                let value = self.ty(values, &format!("{hint}Value"));
                let (rust, reader) = (value.rust, value.reader);
                Ty {
                    rust: quote!(::std::collections::BTreeMap<::std::string::String, #rust>),
                    reader: quote!(v::Record(#reader)),
                }
            }
            SchemaKind::Object(o) => {
                let name = self.fresh(hint);
                self.names.insert(s as *const Schema, name.clone());
                self.object(&name, o, doc(s.description.as_deref()));
                Ty { rust: quote!(#name), reader: quote!(v::Obj::<#name>::new()) }
            }
            SchemaKind::OneOf(u) => {
                let name = self.fresh(hint);
                self.names.insert(s as *const Schema, name.clone());
                self.union(&name, u, doc(s.description.as_deref()));
                Ty { rust: quote!(#name), reader: quote!(v::Obj::<#name>::new()) }
            }
            SchemaKind::Ref(target) => match self.spec.definition(target).map(|d| &d.schema.kind) {
                Some(SchemaKind::Object(_) | SchemaKind::OneOf(_)) => {
                    let name = Ident::new(target, Span::call_site());
                    Ty { rust: quote!(#name), reader: quote!(v::Obj::<#name>::new()) }
                }
                Some(SchemaKind::Enum(_)) => {
                    let name = Ident::new(target, Span::call_site());
                    Ty { rust: quote!(#name), reader: quote!(v::EnumOf::<#name>::new()) }
                }
                Some(SchemaKind::Any) => return self.alias(target),
                _ => {
                    let name = Ident::new(target, Span::call_site());
                    let reader = self.alias(target).reader;
                    Ty { rust: quote!(#name), reader }
                }
            },
        };
        if self.nullable(s) {
            let (rust, reader) = (base.rust, base.reader);
            Ty { rust: quote!(::core::option::Option<#rust>), reader: quote!(v::Nullable(#reader)) }
        } else {
            base
        }
    }

    /// Nullable here or, for a `ref`, at the definition.
    fn nullable(&self, s: &Schema) -> bool {
        s.nullable
            || matches!(&s.kind, SchemaKind::Ref(t) if self.spec.definition(t).is_some_and(|d| d.schema.nullable))
    }

    fn string_enum(&mut self, name: &Ident, values: &[String], docs: TokenStream) {
        let variants = variant_idents(values);
        let decl = values.iter().zip(&variants).map(|(w, v)| quote!(#[serde(rename = #w)] #v,));
        let arms = values.iter().zip(&variants).map(|(w, v)| quote!(#name::#v => #w,));
        let wire2 = values.iter();
        let variants2 = variants.iter();
        self.items.push(quote! {
            #docs
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize)]
            pub enum #name {
                #(#decl)*
            }

            impl #name {
                /// The value on the wire.
                pub const fn as_str(self) -> &'static str {
                    match self {
                        #(#arms)*
                    }
                }
            }

            impl v::WireEnum for #name {
                const VARIANTS: &'static [(&'static str, Self)] = &[#((#wire2, #name::#variants2)),*];
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    v::deserialize_enum(deserializer)
                }
            }
        });
    }

    fn union(&mut self, name: &Ident, u: &'s Union, docs: TokenStream) {
        let tag = &u.tag;
        let mut decl = Vec::new();
        let mut arms = Vec::new();
        let tags: Vec<&str> = u.variants.iter().map(|v| v.tag_value.as_str()).collect();
        let mut seen = BTreeSet::new();
        for variant in &u.variants {
            let mut vname = ident(&variant.rust_name);
            if !seen.insert(vname.to_string()) {
                vname = format_ident!("{}{}", vname, seen.len());
            }
            let ty = match &variant.schema.kind {
                SchemaKind::Object(o) => {
                    let tname = self.fresh(&format!("{name}{}", variant.rust_name));
                    self.names.insert(&variant.schema as *const Schema, tname.clone());
                    self.object(&tname, o, doc(variant.schema.description.as_deref()));
                    quote!(#tname)
                }
                _ => self.ty(&variant.schema, &format!("{name}{}", variant.rust_name)).rust,
            };
            let w = &variant.tag_value;
            let vdoc = doc(variant.schema.description.as_deref());
            decl.push(quote!(#vdoc #[serde(rename = #w)] #vname(#ty),));
            arms.push(quote!(#w => v::union_variant(&rest, cx).map(#name::#vname),));
        }
        self.items.push(quote! {
            #docs
            #[derive(Debug, Clone, PartialEq, ::serde::Serialize)]
            #[serde(tag = #tag)]
            pub enum #name {
                #(#decl)*
            }

            impl v::Object for #name {
                fn read_map<'de, A: ::serde::de::MapAccess<'de>>(
                    map: A,
                    cx: &mut v::Cx,
                ) -> ::core::result::Result<::core::option::Option<Self>, A::Error> {
                    let ::core::option::Option::Some((tag, rest)) = v::union_tag(map, cx, #tag, &[#(#tags),*])? else {
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    };
                    ::core::result::Result::Ok(match tag.as_str() {
                        #(#arms)*
                        // `union_tag` only returns the tags listed above.
                        _ => ::core::option::Option::None,
                    })
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    v::deserialize(deserializer)
                }
            }
        });
    }

    fn object(&mut self, name: &Ident, o: &'s ObjectSchema, docs: TokenStream) {
        let field_names: Vec<Ident> = o.fields.iter().map(|f| ident(&f.rust_name)).collect();
        let mut decls = Vec::new();
        let mut arms = Vec::new();
        let mut finish = Vec::new();
        let slot = |f: &Ident| -> Ident {
            // Locals of `read_map` hold the fields; these names are taken by its own variables.
            match f.to_string().as_str() {
                "map" | "cx" | "key" | "unknown" | "extra" | "mark" | "deserializer" => {
                    format_ident!("{}_", f)
                }
                _ => f.clone(),
            }
        };
        for (f, fname) in o.fields.iter().zip(&field_names) {
            let ty = self.ty(&f.schema, &format!("{name}{}", pascal_case(&f.wire_name)));
            let wire = &f.wire_name;
            let fdoc = doc(f.schema.description.as_deref());
            let rename = (fname.to_string().trim_start_matches("r#") != wire.as_str()).then(|| quote!(rename = #wire,));
            let rust = &ty.rust;
            let local = slot(fname);
            let reader = &ty.reader;
            arms.push(quote!(#wire => v::field(&mut map, cx, #wire, &#reader, &mut #local)?,));
            if f.may_be_absent() {
                decls.push(quote! {
                    #fdoc
                    #[serde(#rename skip_serializing_if = "::core::option::Option::is_none")]
                    pub #fname: ::core::option::Option<#rust>,
                });
                finish.push(quote!(let #local = #local.optional();));
            } else {
                let attr = rename.map(|r| quote!(#[serde(#r)]));
                decls.push(quote!(#fdoc #attr pub #fname: #rust,));
                match &f.schema.default {
                    Some(default) => {
                        let value = self.default_expr(&f.schema, default);
                        finish.push(quote!(let #local = #local.or_default(|| #value);));
                    }
                    None => finish.push(quote!(let #local = #local.required(cx, #wire);)),
                }
            }
        }
        let rules: Vec<TokenStream> = o.rules.iter().map(|r| rule(r, &o.fields, &field_names, &slot)).collect();

        let extra_name =
            if field_names.iter().any(|f| f == "extra") { format_ident!("extra_keys") } else { format_ident!("extra") };
        let (extra_decl, extra_init, extra_field, unknown_arm, unknown_init, unknown_report) = match o.unknown_keys {
            UnknownKeys::Reject => (
                quote!(),
                quote!(),
                quote!(),
                quote!(unknown.reject(&mut map, key)?),
                quote!(let mut unknown = v::UnknownKeys::new();),
                quote!(unknown.report(cx);),
            ),
            UnknownKeys::Strip => (
                quote!(),
                quote!(),
                quote!(),
                quote!({
                    let _ = key;
                    v::skip(&mut map)?
                }),
                quote!(),
                quote!(),
            ),
            UnknownKeys::Allow => (
                quote! {
                    /// Keys the spec does not declare, kept as they came (`unknown_keys: allow`).
                    #[serde(flatten)]
                    pub #extra_name: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                },
                quote!(let mut extra = ::serde_json::Map::new();),
                if extra_name == "extra" { quote!(extra,) } else { quote!(#extra_name: extra,) },
                quote!(v::keep(&mut map, key, &mut extra)?),
                quote!(),
                quote!(),
            ),
        };

        let locals: Vec<Ident> = field_names.iter().map(&slot).collect();
        let inits = locals.iter().map(|l| quote!(let mut #l = v::Slot::Absent;));
        let assemble = field_names.iter().zip(&locals).map(|(f, l)| if f == l { quote!(#f,) } else { quote!(#f: #l,) });
        let unpack = if locals.is_empty() {
            quote!()
        } else {
            let somes = locals.iter().map(|l| quote!(::core::option::Option::Some(#l)));
            quote! {
                let (#(#somes,)*) = (#(#locals,)*) else {
                    return ::core::result::Result::Ok(::core::option::Option::None);
                };
            }
        };
        // With no declared fields every key is unknown: no `match` with a lone catch-all arm.
        let key_loop = if arms.is_empty() {
            // Stripping never looks at the key itself.
            let key = if o.unknown_keys == UnknownKeys::Strip { quote!(_key) } else { quote!(key) };
            quote!(while let ::core::option::Option::Some(#key) = map.next_key::<v::Key<'de>>()? {
                #unknown_arm;
            })
        } else {
            quote!(while let ::core::option::Option::Some(key) = map.next_key::<v::Key<'de>>()? {
                match key.as_str() {
                    #(#arms)*
                    _ => #unknown_arm,
                }
            })
        };

        self.items.push(quote! {
            #docs
            #[derive(Debug, Clone, PartialEq, ::serde::Serialize)]
            pub struct #name {
                #(#decls)*
                #extra_decl
            }

            impl v::Object for #name {
                fn read_map<'de, A: ::serde::de::MapAccess<'de>>(
                    mut map: A,
                    cx: &mut v::Cx,
                ) -> ::core::result::Result<::core::option::Option<Self>, A::Error> {
                    let mark = cx.mark();
                    #(#inits)*
                    #unknown_init
                    #extra_init
                    #key_loop
                    #unknown_report
                    #(#rules)*
                    #(#finish)*
                    // Every issue of this object is recorded by now; stop if there was any.
                    if cx.failed_since(mark) {
                        return ::core::result::Result::Ok(::core::option::Option::None);
                    }
                    #unpack
                    ::core::result::Result::Ok(::core::option::Option::Some(#name { #(#assemble)* #extra_field }))
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    v::deserialize(deserializer)
                }
            }
        });
    }

    /// A Rust expression building `value` (valid against `s`, as the spec check guarantees).
    fn default_expr(&self, s: &Schema, value: &Value) -> TokenStream {
        if self.nullable(s) {
            if value.is_null() {
                return quote!(::core::option::Option::None);
            }
            let inner = self.default_inner(s, value);
            return quote!(::core::option::Option::Some(#inner));
        }
        self.default_inner(s, value)
    }

    fn default_inner(&self, s: &Schema, value: &Value) -> TokenStream {
        match (&s.kind, value) {
            (SchemaKind::String(_), Value::String(text)) => {
                quote!(::std::string::String::from(#text))
            }
            (SchemaKind::Integer(_), Value::Number(n)) => {
                let i = n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or_default();
                let lit = Literal::i64_suffixed(i);
                quote!(#lit)
            }
            (SchemaKind::Number(_), Value::Number(n)) => {
                let lit = Literal::f64_suffixed(n.as_f64().unwrap_or_default());
                quote!(#lit)
            }
            (SchemaKind::Boolean, Value::Bool(b)) => quote!(#b),
            (SchemaKind::Enum(values), Value::String(text)) => {
                let name = self.name_of(s);
                let pos = values.iter().position(|v| v == text).unwrap_or_default();
                let variant = variant_idents(values).swap_remove(pos);
                quote!(#name::#variant)
            }
            (SchemaKind::Array(a), Value::Array(items)) => {
                let items = items.iter().map(|i| self.default_expr(&a.items, i));
                quote!(::std::vec![#(#items),*])
            }
            (SchemaKind::Record(values), Value::Object(map)) => {
                let entries = map.iter().map(|(k, v)| {
                    let v = self.default_expr(values, v);
                    quote!((::std::string::String::from(#k), #v))
                });
                quote!(::std::collections::BTreeMap::from([#(#entries),*]))
            }
            (SchemaKind::Object(o), Value::Object(map)) => self.default_object(&self.name_of(s), o, map),
            (SchemaKind::OneOf(u), Value::Object(map)) => {
                let name = self.name_of(s);
                let tag = map.get(&u.tag).and_then(Value::as_str).unwrap_or_default();
                let Some(variant) = u.variants.iter().find(|v| v.tag_value == tag) else {
                    return json_expr(value);
                };
                let mut rest = map.clone();
                rest.remove(&u.tag);
                let inner = self.default_inner(&variant.schema, &Value::Object(rest));
                let vname = ident(&variant.rust_name);
                quote!(#name::#vname(#inner))
            }
            (SchemaKind::Ref(target), _) => match self.spec.definition(target) {
                Some(def) => self.default_inner(&def.schema, value),
                None => json_expr(value),
            },
            // `any`, or a value of a shape the checked model rules out.
            _ => json_expr(value),
        }
    }

    fn default_object(&self, name: &Ident, o: &ObjectSchema, map: &serde_json::Map<String, Value>) -> TokenStream {
        let fields = o.fields.iter().map(|f| {
            let fname = ident(&f.rust_name);
            let value = match (map.get(&f.wire_name), &f.schema.default) {
                (Some(v), _) if f.may_be_absent() => {
                    let inner = self.default_expr(&f.schema, v);
                    quote!(::core::option::Option::Some(#inner))
                }
                (Some(v), _) | (None, Some(v)) => self.default_expr(&f.schema, v),
                (None, None) => quote!(::core::option::Option::None),
            };
            quote!(#fname: #value,)
        });
        let extra = match o.unknown_keys {
            UnknownKeys::Allow => {
                let fname = if o.fields.iter().any(|f| ident(&f.rust_name) == "extra") {
                    quote!(extra_keys)
                } else {
                    quote!(extra)
                };
                let entries = map.iter().filter(|(k, _)| !o.fields.iter().any(|f| &f.wire_name == *k)).map(|(k, v)| {
                    let v = json_expr(v);
                    quote!((::std::string::String::from(#k), #v))
                });
                quote!(#fname: ::serde_json::Map::from_iter([#(#entries),*]),)
            }
            _ => quote!(),
        };
        quote!(#name { #(#fields)* #extra })
    }

    /// The type name given to a named schema node (a definition or an anonymous object/enum).
    fn name_of(&self, s: &Schema) -> Ident {
        if let SchemaKind::Ref(target) = &s.kind {
            return Ident::new(target, Span::call_site());
        }
        self.names.get(&(s as *const Schema)).cloned().unwrap_or_else(|| format_ident!("UnnamedType"))
    }
}

/// `.min(…)`/`.max(…)` calls for integer or number bounds.
fn bounds(mut reader: TokenStream, r: &NumberRules, integer: bool) -> TokenStream {
    let lit = |x: f64| {
        if integer { Literal::i64_unsuffixed(x as i64) } else { Literal::f64_unsuffixed(x) }
    };
    if let Some(b) = r.minimum {
        let (m, x) = (if b.exclusive { quote!(exclusive_min) } else { quote!(min) }, lit(b.value));
        reader.extend(quote!(.#m(#x)));
    }
    if let Some(b) = r.maximum {
        let (m, x) = (if b.exclusive { quote!(exclusive_max) } else { quote!(max) }, lit(b.value));
        reader.extend(quote!(.#m(#x)));
    }
    reader
}

/// A cross-field rule, checked on key presence (as JSON Schema `required` is).
fn rule(r: &Rule, fields: &[Field], names: &[Ident], slot: &dyn Fn(&Ident) -> Ident) -> TokenStream {
    let (check, keys, message, path) = match r {
        Rule::AtLeastOneOf { fields, message, path } => (quote!(at_least_one_of), fields, message, path),
        Rule::MutuallyExclusive { fields, message, path } => (quote!(mutually_exclusive), fields, message, path),
    };
    let present = keys.iter().filter_map(|k| {
        let i = fields.iter().position(|f| &f.wire_name == k)?;
        let local = slot(&names[i]);
        Some(quote!(#local.is_present()))
    });
    let path = match path {
        Some(p) => quote!(::core::option::Option::Some(#p)),
        None => quote!(::core::option::Option::None),
    };
    quote!(v::#check(cx, &[#(#present),*], #path, #message);)
}

/// PascalCase variant names for enum values, unique and valid.
fn variant_idents(values: &[String]) -> Vec<Ident> {
    let mut seen = BTreeSet::new();
    values
        .iter()
        .map(|v| {
            let mut base = pascal_case(v);
            if base.is_empty() || !base.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                base = format!("V{base}");
            }
            let base = ident(&base).to_string();
            let mut name = base.clone();
            let mut n = 2;
            while !seen.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            Ident::new(&name, Span::call_site())
        })
        .collect()
}

/// A `serde_json::Value` literal built without parsing at run time.
fn json_expr(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(::serde_json::Value::Null),
        Value::Bool(b) => quote!(::serde_json::Value::Bool(#b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => {
                let lit = Literal::i64_suffixed(i);
                quote!(::serde_json::Value::from(#lit))
            }
            (None, Some(u)) => {
                let lit = Literal::u64_suffixed(u);
                quote!(::serde_json::Value::from(#lit))
            }
            _ => {
                let lit = Literal::f64_suffixed(n.as_f64().unwrap_or_default());
                quote!(::serde_json::Value::from(#lit))
            }
        },
        Value::String(s) => quote!(::serde_json::Value::String(::std::string::String::from(#s))),
        Value::Array(items) => {
            let items = items.iter().map(json_expr);
            quote!(::serde_json::Value::Array(::std::vec![#(#items),*]))
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json_expr(v);
                quote!((::std::string::String::from(#k), #v))
            });
            quote!(::serde_json::Value::Object(::serde_json::Map::from_iter([#(#entries),*])))
        }
    }
}
