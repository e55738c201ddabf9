//! `one_of`: a discriminated union of objects, chosen by the string value of its `tag` property.
//! Each tag value becomes a Rust variant, so it must make a distinct Rust name; each variant is an
//! object (or a `ref` to one, decided in `check`) that leaves the tag to the union.

use super::schemas::Place;
use super::{Reader, join};
use crate::diagnostics::DiagnosticKind;
use crate::model::*;
use crate::yaml::{Key, Node, NodeValue};

impl Reader<'_> {
    pub(super) fn union(&mut self, node: &Node, path: &str) -> Option<Union> {
        let tp = join(path, "tag");
        let tag = match node.get("tag") {
            Some(n) => self.string(n, &tp),
            None => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "`one_of` has no `tag`",
                    node.pos,
                    path,
                    Some("add `tag: <discriminator property>`, e.g. `tag: kind`".into()),
                );
                None
            }
        };
        let vp = join(path, "variants");
        let Some(vnode) = node.get("variants") else {
            self.error(
                DiagnosticKind::MissingKey,
                "`one_of` has no `variants`",
                node.pos,
                path,
                Some("add `variants: {tagValue: {type: object, …}}`".into()),
            );
            return None;
        };
        let NodeValue::Map(entries) = &vnode.value else {
            self.wrong_type(vnode, &vp, "a mapping of tag value → object schema");
            return None;
        };
        let tag = tag?;
        let mut variants: Vec<Variant> = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            match self.variant(key, value, &join(&vp, &key.name), &tag, &variants) {
                Some(variant) => variants.push(variant),
                None => ok = false,
            }
        }
        if variants.is_empty() && ok {
            self.error(
                DiagnosticKind::BadVariant,
                "`one_of` has no variants",
                vnode.pos,
                &vp,
                Some("add at least one variant".into()),
            );
            return None;
        }
        ok.then_some(Union { tag, variants })
    }

    /// The variant for tag value `key`; its Rust name must differ from those of the `earlier` ones.
    fn variant(&mut self, key: &Key, value: &Node, path: &str, tag: &str, earlier: &[Variant]) -> Option<Variant> {
        let rust_name = pascal_case(&key.name);
        if rust_name.is_empty()
            || !rust_name.chars().all(|c| c.is_alphanumeric() || c == '_')
            || rust_name.starts_with(|c: char| c.is_ascii_digit())
        {
            self.error(
                DiagnosticKind::BadVariant,
                format!("tag value `{}` cannot name a Rust variant", key.name),
                key.pos,
                path,
                Some("use letters, digits, `_` or `-`, starting with a letter".into()),
            );
            return None;
        }
        if earlier.iter().any(|v| v.rust_name == rust_name) {
            self.error(
                DiagnosticKind::BadVariant,
                format!("tag value `{}` repeats another variant's Rust name `{rust_name}`", key.name),
                key.pos,
                path,
                Some("rename one of them".into()),
            );
            return None;
        }
        let (schema, _) = self.schema(value, path, Place::Other)?;
        match &schema.kind {
            SchemaKind::Object(obj) if obj.fields.iter().any(|f| f.wire_name == tag) => {
                self.error(
                    DiagnosticKind::BadVariant,
                    format!("variant `{}` declares the tag property `{tag}` itself", key.name),
                    value.pos,
                    path,
                    Some("remove it: the union adds the tag".into()),
                );
                return None;
            }
            SchemaKind::Object(_) => {}
            SchemaKind::Ref(r) => {
                let loc = self.loc(value.pos, path);
                self.out.variant_refs.push((r.clone(), tag.to_string(), loc));
            }
            _ => {
                self.error(
                    DiagnosticKind::BadVariant,
                    format!("variant `{}` is not an object", key.name),
                    value.pos,
                    path,
                    Some("each variant is an object schema or a `ref` to one".into()),
                );
                return None;
            }
        }
        if schema.nullable {
            self.error(
                DiagnosticKind::BadVariant,
                format!("variant `{}` cannot be nullable", key.name),
                value.pos,
                path,
                Some("make the union itself `nullable`".into()),
            );
            return None;
        }
        Some(Variant { tag_value: key.name.clone(), rust_name, schema })
    }
}
