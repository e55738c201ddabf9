//! A YAML tree in which every node remembers where it was written.
//!
//! serde-based YAML readers stop at the first error and forget positions once a value is built;
//! the spec checker needs both every error and the position of every node (to report a bad
//! default at its own line). So we build this small tree from `saphyr-parser` events and read
//! the spec from it by hand (see `parse`).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::Value;

/// Where a node starts (1-based line and column) and how many characters it spans on that line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

impl Pos {
    fn from_span(span: Span) -> Self {
        let len = if span.end.line() == span.start.line() { span.len() } else { 1 };
        Pos { line: span.start.line(), column: span.start.col() + 1, len: len.max(1) }
    }
}

/// One YAML node and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub pos: Pos,
}

/// YAML 1.2 core-schema values.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are scalars rendered as strings.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its own position (unknown-key errors point at the key, not the value).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

impl Node {
    /// A short name of the node's kind for messages: "a string", "a mapping", …
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    /// The entry of a mapping with this key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node as JSON (for defaults, examples and fallbacks). Non-finite floats have no JSON
    /// form and become `Err` with the offending node's position.
    pub fn to_json(&self) -> Result<Value, Pos> {
        Ok(match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).ok_or(self.pos)?,
            NodeValue::Str(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?),
            NodeValue::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.name.clone(), v.to_json()?);
                }
                Value::Object(map)
            }
        })
    }
}

/// A YAML syntax problem.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub pos: Pos,
}

/// Parse one YAML document. An empty document is `Null`. Duplicate keys are syntax errors
/// (YAML forbids them; silently keeping one would hide a mistake).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder { parser: Parser::new_from_str(text), anchors: HashMap::new() };
    builder.document()
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(SyntaxError {
                message: e.info().to_string(),
                pos: Pos { line: e.marker().line(), column: e.marker().col() + 1, len: 1 },
            }),
            None => Err(SyntaxError { message: "unexpected end of input".into(), pos: Pos::default() }),
        }
    }

    fn document(&mut self) -> Result<Node, SyntaxError> {
        let mut root = None;
        loop {
            let (ev, span) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(SyntaxError {
                        message: "a spec file holds one YAML document; found a second `---`".into(),
                        pos: Pos::from_span(span),
                    });
                }
                Event::DocumentStart(_) => {
                    let (ev, span) = self.next()?;
                    root = Some(self.node(ev, span)?);
                }
                Event::StreamEnd => {
                    return Ok(root.unwrap_or(Node { value: NodeValue::Null, pos: Pos::from_span(span) }));
                }
                other => root = Some(self.node(other, span)?),
            }
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Node, SyntaxError> {
        let pos = Pos::from_span(span);
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !forced_str {
                    resolve_plain(&text)
                } else {
                    NodeValue::Str(text.into_owned())
                };
                (Node { value, pos }, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span)?);
                }
                (Node { value: NodeValue::Seq(items), pos }, anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Key, Node)> = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key_node = self.node(ev, span)?;
                    let key = Key {
                        name: scalar_text(&key_node).ok_or_else(|| SyntaxError {
                            message: format!("mapping keys must be scalars, found {}", key_node.kind_name()),
                            pos: key_node.pos,
                        })?,
                        pos: key_node.pos,
                    };
                    let (ev, span) = self.next()?;
                    let value = self.node(ev, span)?;
                    if entries.iter().any(|(k, _)| k.name == key.name) {
                        return Err(SyntaxError { message: format!("duplicate key `{}`", key.name), pos: key.pos });
                    }
                    entries.push((key, value));
                }
                (Node { value: NodeValue::Map(entries), pos }, anchor)
            }
            Event::Alias(id) => {
                let node =
                    self.anchors.get(&id).cloned().ok_or(SyntaxError { message: "unknown alias".into(), pos })?;
                return Ok(node);
            }
            other => {
                return Err(SyntaxError { message: format!("unexpected YAML event {other:?}"), pos });
            }
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

/// A scalar key's text (numbers and booleans as written, e.g. a tag value `200`).
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        NodeValue::Str(s) => Some(s.clone()),
        NodeValue::Int(i) => Some(i.to_string()),
        NodeValue::Float(f) => Some(f.to_string()),
        NodeValue::Bool(b) => Some(b.to_string()),
        NodeValue::Null => Some("null".into()),
        NodeValue::Seq(_) | NodeValue::Map(_) => None,
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(t: &str) -> NodeValue {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeValue::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeValue::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeValue::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = t.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return NodeValue::Int(i);
    }
    if let Some(oct) = t.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return NodeValue::Int(i);
    }
    let looks_numeric = t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && t.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(i) = t.parse::<i64>() {
            return NodeValue::Int(i);
        }
        if let Ok(f) = t.parse::<f64>() {
            return NodeValue::Float(f);
        }
    }
    NodeValue::Str(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_core_schema_scalars_and_keeps_positions() {
        let node = parse("a: 1\nb: 2.5\nc: true\nd: ~\ne: '1'\nf: hello\n").unwrap();
        assert_eq!(node.get("a").unwrap().value, NodeValue::Int(1));
        assert_eq!(node.get("b").unwrap().value, NodeValue::Float(2.5));
        assert_eq!(node.get("c").unwrap().value, NodeValue::Bool(true));
        assert_eq!(node.get("d").unwrap().value, NodeValue::Null);
        assert_eq!(node.get("e").unwrap().value, NodeValue::Str("1".into()));
        let f = node.get("f").unwrap();
        assert_eq!((f.pos.line, f.pos.column, f.pos.len), (6, 4, 5));
    }

    #[test]
    fn reports_duplicate_keys_and_syntax_errors_with_positions() {
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!((err.pos.line, err.pos.column), (2, 1));
        assert!(err.message.contains("duplicate key"));
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
    }

    #[test]
    fn expands_aliases() {
        let node = parse("x: &lim {count: 5}\ny: *lim\n").unwrap();
        assert_eq!(node.get("y").unwrap().get("count").unwrap().value, NodeValue::Int(5));
    }
}
