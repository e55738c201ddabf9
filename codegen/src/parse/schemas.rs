//! Schemas: the `definitions:` of a file and every schema node — its `type` or `ref`, the keys
//! that type allows, the attributes every schema shares (`description`, `nullable`, `optional`,
//! `default`, `examples`), and the container kinds (`array`, `record`, `object`). The constraints
//! of scalar kinds and an object's cross-field rules are read in `rules`, unions in `unions`.

use regex::Regex;
use serde_json::Value;

use super::{Reader, join};
use crate::diagnostics::{DiagnosticKind, did_you_mean};
use crate::model::*;
use crate::yaml::{Key, Node, NodeValue};

const TYPES: &[&str] =
    &["string", "integer", "number", "boolean", "enum", "any", "array", "record", "object", "one_of"];
const COMMON_KEYS: &[&str] = &["type", "ref", "description", "nullable", "optional", "default", "examples"];

/// The keys a schema of type `ty` may have besides [`COMMON_KEYS`].
fn type_keys(ty: &str) -> &'static [&'static str] {
    match ty {
        "string" => &["min_length", "max_length", "pattern", "format"],
        "integer" | "number" => &["min", "max", "exclusive_min", "exclusive_max"],
        "enum" => &["values"],
        "array" => &["items", "min_items", "max_items"],
        "record" => &["values"],
        "object" => &["properties", "unknown_keys", "rules"],
        "one_of" => &["tag", "variants"],
        _ => &[],
    }
}

/// Where a schema stands, which decides the keys it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// An object property: `optional` and `default` allowed.
    Property,
    /// Anywhere else (roots, items, values, variants, definitions).
    Other,
}

impl Reader<'_> {
    pub(super) fn definitions(&mut self, node: &Node) {
        let NodeValue::Map(entries) = &node.value else {
            return self.wrong_type(node, "definitions", "a mapping of definition name → schema");
        };
        let name_re = pascal_name_regex();
        for (key, value) in entries {
            let path = format!("definitions.{}", key.name);
            if key.name == "Self" {
                self.error(
                    DiagnosticKind::BadDefinitionName,
                    "definition name `Self` is a Rust keyword",
                    key.pos,
                    &path,
                    Some("choose another name".into()),
                );
                continue;
            }
            if !name_re.is_match(&key.name) {
                self.error(
                    DiagnosticKind::BadDefinitionName,
                    format!("definition name `{}` is not PascalCase", key.name),
                    key.pos,
                    &path,
                    Some(format!("use a name like `{}`", pascal_case(&key.name))),
                );
                continue;
            }
            if let Some((schema, _)) = self.schema(value, &path, Place::Other) {
                let def = Definition { name: key.name.clone(), schema, origin: self.origin(key.pos) };
                let loc = self.loc(key.pos, &path);
                self.out.definitions.push((def, loc));
            }
        }
    }

    /// A schema and whether it was marked `optional` (only meaningful for properties).
    pub(super) fn schema(&mut self, node: &Node, path: &str, place: Place) -> Option<(Schema, bool)> {
        let NodeValue::Map(entries) = &node.value else {
            self.wrong_type(node, path, "a schema mapping (e.g. `{type: string}`)");
            return None;
        };
        let ty = self.schema_type(node, path)?;
        let keys_ok = self.schema_keys(entries, ty.as_deref(), path);
        let description = node.get("description").and_then(|n| self.string(n, &join(path, "description")));
        let nullable = node.get("nullable").and_then(|n| self.boolean(n, &join(path, "nullable"))).unwrap_or(false);
        let optional = self.optional(node, path, place);
        let kind = self.schema_kind(node, path, ty.as_deref())?;
        if !keys_ok {
            return None;
        }
        let mut schema =
            Schema { kind, nullable, description, default: None, examples: Vec::new(), origin: self.origin(node.pos) };
        if let Some(n) = node.get("default") {
            schema.default = Some(self.default_value(n, path, place, &schema)?);
        }
        if let Some(n) = node.get("examples") {
            schema.examples = self.example_values(n, path, &schema);
        }
        Some((schema, optional))
    }

    /// The schema's `type`, or `Some(None)` for a `ref`; `None` (after reporting) when it has
    /// neither, both, or a type the language does not have.
    fn schema_type(&mut self, node: &Node, path: &str) -> Option<Option<String>> {
        match (node.get("type"), node.get("ref")) {
            (Some(_), Some(r)) => {
                self.error(
                    DiagnosticKind::TypeAndRef,
                    "a schema has both `type` and `ref`",
                    r.pos,
                    &join(path, "ref"),
                    Some("keep one: `ref` already names the type".into()),
                );
                None
            }
            (Some(t), None) => {
                let p = join(path, "type");
                let s = self.string(t, &p)?;
                if !TYPES.contains(&s.as_str()) {
                    let help = match did_you_mean(&s, TYPES.iter().copied()) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("types: {}", TYPES.join(", ")),
                    };
                    self.error(DiagnosticKind::UnknownType, format!("unknown type `{s}`"), t.pos, &p, Some(help));
                    return None;
                }
                Some(Some(s))
            }
            (None, Some(_)) => Some(None),
            (None, None) => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "schema has no `type` (or `ref`)",
                    node.pos,
                    path,
                    Some(format!("add `type:` — one of {}", TYPES.join(", "))),
                );
                None
            }
        }
    }

    /// Whether every key is common or belongs to the type (`ty: None` for a `ref`). A key valid
    /// for another type gets a message naming that type.
    fn schema_keys(&mut self, entries: &[(Key, Node)], ty: Option<&str>, path: &str) -> bool {
        let own = ty.map(type_keys).unwrap_or(&[]);
        let mut ok = true;
        for (key, _) in entries {
            let k = key.name.as_str();
            if COMMON_KEYS.contains(&k) || own.contains(&k) {
                continue;
            }
            ok = false;
            let owner = TYPES.iter().find(|t| type_keys(t).contains(&k));
            let (msg, help) = match (owner, ty) {
                (Some(owner), Some(ty)) => (
                    format!("`{k}` does not apply to `{ty}`"),
                    format!("`{k}` belongs to `type: {owner}`; keys for `{ty}`: {}", own.join(", ")),
                ),
                (Some(owner), None) => (
                    format!("`{k}` does not apply to a `ref`"),
                    format!("`{k}` belongs to `type: {owner}`; put constraints on the definition"),
                ),
                (None, _) => {
                    let all = COMMON_KEYS.iter().chain(own.iter()).copied();
                    (
                        format!("unknown key `{k}` in a schema"),
                        match did_you_mean(k, all) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "valid keys here: {}",
                                COMMON_KEYS.iter().chain(own.iter()).copied().collect::<Vec<_>>().join(", ")
                            ),
                        },
                    )
                }
            };
            self.error(DiagnosticKind::UnknownKey, msg, key.pos, &join(path, k), Some(help));
        }
        ok
    }

    /// `optional: true`, which only an object property may say.
    fn optional(&mut self, node: &Node, path: &str, place: Place) -> bool {
        match node.get("optional") {
            Some(n) if place == Place::Property => self.boolean(n, &join(path, "optional")).unwrap_or(false),
            Some(n) => {
                self.error(
                    DiagnosticKind::MisplacedKey,
                    "`optional` only applies to object properties",
                    n.pos,
                    &join(path, "optional"),
                    Some("remove it; only a property of an object can be absent".into()),
                );
                false
            }
            None => false,
        }
    }

    /// The kind-specific part of a schema of type `ty` (`None` for a `ref`).
    fn schema_kind(&mut self, node: &Node, path: &str, ty: Option<&str>) -> Option<SchemaKind> {
        match ty {
            None => {
                let r = node.get("ref")?;
                let p = join(path, "ref");
                let name = self.string(r, &p)?;
                let loc = self.loc(r.pos, &p);
                self.out.refs.push((name.clone(), loc));
                Some(SchemaKind::Ref(name))
            }
            Some("string") => self.string_rules(node, path).map(SchemaKind::String),
            Some("integer") => self.number_rules(node, path, true).map(SchemaKind::Integer),
            Some("number") => self.number_rules(node, path, false).map(SchemaKind::Number),
            Some("boolean") => Some(SchemaKind::Boolean),
            Some("any") => Some(SchemaKind::Any),
            Some("enum") => self.enum_values(node, path).map(SchemaKind::Enum),
            Some("array") => self.array(node, path).map(SchemaKind::Array),
            Some("record") => self.record(node, path).map(|values| SchemaKind::Record(Box::new(values))),
            Some("object") => self.object(node, path).map(SchemaKind::Object),
            Some("one_of") => self.union(node, path).map(SchemaKind::OneOf),
            Some(_) => None,
        }
    }

    /// A property's `default`, to be validated against `schema` in `check`. Validators fill it in
    /// when the key is absent, so only a property can have one.
    fn default_value(&mut self, n: &Node, path: &str, place: Place, schema: &Schema) -> Option<Value> {
        let p = join(path, "default");
        if place != Place::Property {
            self.error(
                DiagnosticKind::MisplacedKey,
                "`default` only applies to object properties",
                n.pos,
                &p,
                Some("move the default onto the property that uses this schema".into()),
            );
            return None;
        }
        let v = self.json(n, &p)?;
        self.value_check(DiagnosticKind::InvalidDefault, "default".into(), schema, &v, n.pos, &p);
        Some(v)
    }

    /// The schema's `examples`, each to be validated against `schema` in `check`.
    fn example_values(&mut self, n: &Node, path: &str, schema: &Schema) -> Vec<Value> {
        let p = join(path, "examples");
        let NodeValue::Seq(items) = &n.value else {
            self.wrong_type(n, &p, "a list of example values");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = format!("{p}[{i}]");
            if let Some(v) = self.json(item, &ip) {
                self.value_check(DiagnosticKind::InvalidExample, "example".into(), schema, &v, item.pos, &ip);
                out.push(v);
            }
        }
        out
    }

    fn array(&mut self, node: &Node, path: &str) -> Option<ArraySchema> {
        let p = join(path, "items");
        let items = match node.get("items") {
            Some(n) => self.schema(n, &p, Place::Other).map(|(s, _)| s),
            None => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "array has no `items` schema",
                    node.pos,
                    path,
                    Some("add `items: {type: …}`".into()),
                );
                None
            }
        };
        let min = node.get("min_items").and_then(|n| self.count(n, &join(path, "min_items"), 0));
        let max = node.get("max_items").and_then(|n| self.count(n, &join(path, "max_items"), 0));
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            let pos = node.get("min_items").map(|n| n.pos).unwrap_or(node.pos);
            self.error(
                DiagnosticKind::MinGreaterThanMax,
                format!("`min_items` ({lo}) is greater than `max_items` ({hi})"),
                pos,
                &join(path, "min_items"),
                Some("no list could satisfy both: swap or fix the bounds".into()),
            );
            return None;
        }
        Some(ArraySchema { items: Box::new(items?), min_items: min, max_items: max })
    }

    /// The schema every value of a `record` matches.
    fn record(&mut self, node: &Node, path: &str) -> Option<Schema> {
        let Some(values) = node.get("values") else {
            self.error(
                DiagnosticKind::MissingKey,
                "record has no `values` schema",
                node.pos,
                path,
                Some("add `values: {type: any}` (or a narrower schema)".into()),
            );
            return None;
        };
        self.schema(values, &join(path, "values"), Place::Other).map(|(s, _)| s)
    }

    fn object(&mut self, node: &Node, path: &str) -> Option<ObjectSchema> {
        let unknown_keys = self.unknown_keys_policy(node, path)?;
        let (fields, ok) = match node.get("properties") {
            Some(props) => self.properties(props, &join(path, "properties"), unknown_keys),
            None => (Vec::new(), true),
        };
        // Rules are read against the properties that are valid, so their own mistakes are
        // reported even when a property is wrong.
        let rules = match node.get("rules") {
            Some(n) => self.rules(n, &join(path, "rules"), &fields),
            None => Some(Vec::new()),
        };
        if !ok {
            return None;
        }
        Some(ObjectSchema { fields, unknown_keys, rules: rules? })
    }

    fn unknown_keys_policy(&mut self, node: &Node, path: &str) -> Option<UnknownKeys> {
        let Some(n) = node.get("unknown_keys") else {
            return Some(UnknownKeys::Reject);
        };
        let p = join(path, "unknown_keys");
        match self.string(n, &p)?.as_str() {
            "reject" => Some(UnknownKeys::Reject),
            "strip" => Some(UnknownKeys::Strip),
            "allow" => Some(UnknownKeys::Allow),
            other => {
                let help = did_you_mean(other, ["reject", "strip", "allow"])
                    .map_or("use `reject`, `strip` or `allow`".to_string(), |s| format!("did you mean `{s}`?"));
                self.error(
                    DiagnosticKind::WrongValue,
                    format!("unknown `unknown_keys` policy `{other}`"),
                    n.pos,
                    &p,
                    Some(help),
                );
                None
            }
        }
    }

    /// The valid properties, and whether all of them were.
    fn properties(&mut self, props: &Node, path: &str, unknown_keys: UnknownKeys) -> (Vec<Field>, bool) {
        let mut fields: Vec<Field> = Vec::new();
        let entries = match &props.value {
            NodeValue::Map(entries) => entries,
            NodeValue::Null => return (fields, true),
            _ => {
                self.wrong_type(props, path, "a mapping of property name → schema");
                return (fields, false);
            }
        };
        let mut ok = true;
        for (key, value) in entries {
            match self.property(key, value, &join(path, &key.name), &fields, unknown_keys) {
                Some(field) => fields.push(field),
                None => ok = false,
            }
        }
        (fields, ok)
    }

    /// One property; its Rust field name must differ from those of the `earlier` ones.
    fn property(
        &mut self,
        key: &Key,
        value: &Node,
        path: &str,
        earlier: &[Field],
        unknown_keys: UnknownKeys,
    ) -> Option<Field> {
        if !wire_name_regex().is_match(&key.name) {
            self.error(
                DiagnosticKind::BadPropertyName,
                format!("property name `{}` cannot become a Rust field", key.name),
                key.pos,
                path,
                Some("use letters, digits and `_`, starting with a letter (camelCase on the wire is fine)".into()),
            );
            return None;
        }
        let rust_name = snake_case(&key.name);
        if let Some(other) = earlier.iter().find(|f| f.rust_name == rust_name) {
            self.error(
                DiagnosticKind::DuplicateField,
                format!("properties `{}` and `{}` both become the Rust field `{rust_name}`", other.wire_name, key.name),
                key.pos,
                path,
                Some("rename one of them".into()),
            );
            return None;
        }
        if unknown_keys == UnknownKeys::Allow && rust_name == "extra" {
            self.error(
                DiagnosticKind::DuplicateField,
                "property `extra` clashes with the map that keeps unknown keys (`unknown_keys: allow`)",
                key.pos,
                path,
                Some("rename the property".into()),
            );
            return None;
        }
        let (schema, optional) = self.schema(value, path, Place::Property)?;
        Some(Field { wire_name: key.name.clone(), rust_name, optional, schema })
    }
}

fn pascal_name_regex() -> &'static Regex {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[A-Z][A-Za-z0-9]*$").expect("static regex"));
    &RE
}

fn wire_name_regex() -> &'static Regex {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9_]*$").expect("static regex"));
    &RE
}
