//! The constraints a schema puts on its values: string rules (lengths, `pattern`, `format`),
//! number bounds, enum values, and the cross-field rules of an object (`at_least_one_of`,
//! `mutually_exclusive`).

use regex::Regex;

/// ±(2^53 − 1): the integers a JSON number (an IEEE double) holds exactly.
const SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

use super::{Reader, join};
use crate::diagnostics::{DiagnosticKind, did_you_mean};
use crate::model::*;
use crate::yaml::{Key, Node, NodeValue, Pos};

/// The keys of one cross-field rule; exactly one of the first two.
const RULE_KEYS: &[&str] = &["at_least_one_of", "mutually_exclusive", "message", "path"];

impl Reader<'_> {
    pub(super) fn string_rules(&mut self, node: &Node, path: &str) -> Option<StringRules> {
        let min = node.get("min_length").map(|n| (self.count(n, &join(path, "min_length"), 0), n));
        let max = node.get("max_length").map(|n| (self.count(n, &join(path, "max_length"), 0), n));
        let mut rules = StringRules::default();
        let mut ok = true;
        if let Some((v, _)) = &min {
            ok &= v.is_some();
            rules.min_length = *v;
        }
        if let Some((v, _)) = &max {
            ok &= v.is_some();
            rules.max_length = *v;
        }
        if let (Some(lo), Some(hi), Some((_, n))) = (rules.min_length, rules.max_length, &min)
            && lo > hi
        {
            self.error(
                DiagnosticKind::MinGreaterThanMax,
                format!("`min_length` ({lo}) is greater than `max_length` ({hi})"),
                n.pos,
                &join(path, "min_length"),
                Some("no string could satisfy both: swap or fix the bounds".into()),
            );
            ok = false;
        }
        if let Some(n) = node.get("pattern") {
            rules.pattern = self.pattern(n, &join(path, "pattern"));
            ok &= rules.pattern.is_some();
        }
        if let Some(n) = node.get("format") {
            rules.format = self.string_format(n, &join(path, "format"));
            ok &= rules.format.is_some();
        }
        ok.then_some(rules)
    }

    /// A `pattern`, which the generated validators compile with the same `regex` crate.
    fn pattern(&mut self, n: &Node, path: &str) -> Option<String> {
        let pat = self.string(n, path)?;
        if let Err(e) = Regex::new(&pat) {
            let detail = e.to_string().lines().last().unwrap_or("").trim().to_string();
            self.error(
                DiagnosticKind::InvalidRegex,
                format!("invalid regex `{pat}`: {detail}"),
                n.pos,
                path,
                Some("patterns use Rust `regex` syntax (no look-around or back-references)".into()),
            );
            return None;
        }
        Some(pat)
    }

    /// A `format`: one of those the validators check ([`Format::ALL`]).
    fn string_format(&mut self, n: &Node, path: &str) -> Option<Format> {
        let name = self.string(n, path)?;
        if let Some(format) = Format::ALL.into_iter().find(|f| f.as_str() == name) {
            return Some(format);
        }
        let names = Format::ALL.map(Format::as_str);
        let help = match did_you_mean(&name, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("formats: {}", names.join(", ")),
        };
        self.error(DiagnosticKind::UnknownFormat, format!("unknown string format `{name}`"), n.pos, path, Some(help));
        None
    }

    pub(super) fn number_rules(&mut self, node: &Node, path: &str, integer: bool) -> Option<NumberRules> {
        let minimum = self.bound(node, path, integer, "min", "exclusive_min");
        let maximum = self.bound(node, path, integer, "max", "exclusive_max");
        let mut ok = minimum.is_ok() && maximum.is_ok();
        let (minimum, maximum) = (minimum.unwrap_or(None), maximum.unwrap_or(None));
        if let (Some(lo), Some(hi)) = (minimum, maximum) {
            // Integers step by one: `exclusive_min: 5, exclusive_max: 6` admits nothing either.
            let step = if integer { 1.0 } else { 0.0 };
            let lo_in = if lo.exclusive { lo.value + step } else { lo.value };
            let hi_in = if hi.exclusive { hi.value - step } else { hi.value };
            let empty = lo_in > hi_in || (lo_in == hi_in && !integer && (lo.exclusive || hi.exclusive));
            if empty {
                let n = node.get("min").or(node.get("exclusive_min")).map(|n| n.pos).unwrap_or(node.pos);
                let message = if lo.value < hi.value {
                    format!("no whole number lies strictly between {} and {}", lo.value, hi.value)
                } else {
                    format!("the lower bound ({}) is not below the upper bound ({})", lo.value, hi.value)
                };
                self.error(
                    DiagnosticKind::MinGreaterThanMax,
                    message,
                    n,
                    &join(path, "min"),
                    Some("no value could satisfy both: swap or fix the bounds".into()),
                );
                ok = false;
            }
        }
        ok.then_some(NumberRules { minimum, maximum })
    }

    /// One bound, given inclusive (`key`) or exclusive (`excl_key`) but not both; `Err` (after
    /// reporting) when it is invalid, `Ok(None)` when absent.
    fn bound(
        &mut self,
        node: &Node,
        path: &str,
        integer: bool,
        key: &str,
        excl_key: &str,
    ) -> Result<Option<Bound>, ()> {
        let (n, exclusive) = match (node.get(key), node.get(excl_key)) {
            (Some(_), Some(e)) => {
                self.error(
                    DiagnosticKind::ConflictingBounds,
                    format!("both `{key}` and `{excl_key}` are set"),
                    e.pos,
                    &join(path, excl_key),
                    Some(format!("keep one of `{key}` (inclusive) or `{excl_key}`")),
                );
                return Err(());
            }
            (Some(n), None) => (n, false),
            (None, Some(n)) => (n, true),
            (None, None) => return Ok(None),
        };
        let p = join(path, if exclusive { excl_key } else { key });
        let value = self.number(n, &p).ok_or(())?;
        if integer && value.fract() != 0.0 {
            self.error(
                DiagnosticKind::WrongType,
                format!("integer bound `{value}` is not a whole number"),
                n.pos,
                &p,
                Some(format!("use {}", value.round())),
            );
            return Err(());
        }
        // JSON integers are exact only within ±(2^53 − 1), the range that applies with no bound:
        // a bound beyond it could not be represented exactly (nor its generated constant).
        if integer && value.abs() > SAFE_INTEGER {
            self.error(
                DiagnosticKind::WrongType,
                format!("integer bound `{value}` is outside the safe-integer range ±(2^53 − 1)"),
                n.pos,
                &p,
                Some("leave the bound out to allow the whole safe range".into()),
            );
            return Err(());
        }
        Ok(Some(Bound { value, exclusive }))
    }

    pub(super) fn enum_values(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let p = join(path, "values");
        let Some(n) = node.get("values") else {
            self.error(
                DiagnosticKind::MissingKey,
                "enum has no `values`",
                node.pos,
                path,
                Some("add `values: [a, b, …]`".into()),
            );
            return None;
        };
        let list = self.string_list(n, &p)?;
        if list.is_empty() {
            self.error(
                DiagnosticKind::EmptyEnum,
                "enum has no values",
                n.pos,
                &p,
                Some("list at least one value".into()),
            );
            return None;
        }
        let mut seen: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, (v, pos)) in list.into_iter().enumerate() {
            if seen.contains(&v) {
                self.error(
                    DiagnosticKind::DuplicateEnumValue,
                    format!("enum value `{v}` is listed twice"),
                    pos,
                    &format!("{p}[{i}]"),
                    Some("remove the repeat".into()),
                );
                ok = false;
            } else if pascal_case(&v).is_empty() || !pascal_case(&v).chars().all(|c| c.is_alphanumeric() || c == '_') {
                self.error(
                    DiagnosticKind::BadEnumValue,
                    format!("enum value `{v}` cannot name a Rust variant"),
                    pos,
                    &format!("{p}[{i}]"),
                    Some("use letters, digits, `_` or `-`".into()),
                );
                ok = false;
            } else {
                seen.push(v);
            }
        }
        ok.then_some(seen)
    }

    /// The cross-field rules of an object whose (valid) properties are `fields`.
    pub(super) fn rules(&mut self, node: &Node, path: &str, fields: &[Field]) -> Option<Vec<Rule>> {
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type(node, path, "a list of rules");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.rule(item, &format!("{path}[{i}]"), fields) {
                Some(rule) => out.push(rule),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn rule(&mut self, item: &Node, path: &str, fields: &[Field]) -> Option<Rule> {
        let entries = self.mapping(item, path, "a rule", RULE_KEYS)?;
        let kinds: Vec<&(Key, Node)> = entries
            .iter()
            .copied()
            .filter(|(k, _)| k.name == "at_least_one_of" || k.name == "mutually_exclusive")
            .collect();
        let [(kind_key, list_node)] = kinds[..] else {
            self.error(
                DiagnosticKind::BadRule,
                "a rule needs exactly one of `at_least_one_of` or `mutually_exclusive`",
                item.pos,
                path,
                Some("e.g. `- at_least_one_of: [id, taskId]`".into()),
            );
            return None;
        };
        let lp = join(path, &kind_key.name);
        let names = self.string_list(list_node, &lp)?;
        if names.len() < 2 {
            self.error(
                DiagnosticKind::BadRule,
                "a rule relates at least two fields",
                list_node.pos,
                &lp,
                Some("list two or more property names".into()),
            );
            return None;
        }
        let fields_ok = self.rule_fields(&names, &lp, fields);
        let message = item.get("message").and_then(|m| self.string(m, &join(path, "message")));
        let issue_path = self.rule_path(item, path, fields);
        let (true, Some(issue_path)) = (fields_ok, issue_path) else {
            return None;
        };
        let names: Vec<String> = names.into_iter().map(|(n, _)| n).collect();
        let quoted = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        Some(if kind_key.name == "at_least_one_of" {
            Rule::AtLeastOneOf {
                message: message.unwrap_or_else(|| format!("at least one of {quoted} is required")),
                fields: names,
                path: issue_path,
            }
        } else {
            Rule::MutuallyExclusive {
                message: message.unwrap_or_else(|| format!("at most one of {quoted} may be given")),
                fields: names,
                path: issue_path,
            }
        })
    }

    /// Whether every name is an optional property of the object: a rule over a required one
    /// could never fail (`at_least_one_of`) or never pass (`mutually_exclusive`).
    fn rule_fields(&mut self, names: &[(String, Pos)], path: &str, fields: &[Field]) -> bool {
        let mut ok = true;
        for (j, (name, pos)) in names.iter().enumerate() {
            match fields.iter().find(|f| &f.wire_name == name) {
                None => {
                    let help = did_you_mean(name, fields.iter().map(|f| f.wire_name.as_str()))
                        .map_or("rules may only name properties of the same object".to_string(), |s| {
                            format!("did you mean `{s}`?")
                        });
                    self.error(
                        DiagnosticKind::BadRule,
                        format!("rule names unknown property `{name}`"),
                        *pos,
                        &format!("{path}[{j}]"),
                        Some(help),
                    );
                    ok = false;
                }
                Some(f) if f.required() => {
                    self.error(
                        DiagnosticKind::BadRule,
                        format!("rule names `{name}`, which is required anyway"),
                        *pos,
                        &format!("{path}[{j}]"),
                        Some(format!("mark `{name}` as `optional: true`, or drop it from the rule")),
                    );
                    ok = false;
                }
                Some(_) => {}
            }
        }
        ok
    }

    /// The rule's `path` (where its issue is reported): `Some(None)` when absent or not a string
    /// (the latter reported), `None` (after reporting) when it names no property of the object.
    fn rule_path(&mut self, item: &Node, path: &str, fields: &[Field]) -> Option<Option<String>> {
        let Some(m) = item.get("path") else {
            return Some(None);
        };
        let pp = join(path, "path");
        let Some(s) = self.string(m, &pp) else {
            return Some(None);
        };
        if !fields.iter().any(|f| f.wire_name == s) {
            self.error(
                DiagnosticKind::BadRule,
                format!("rule path `{s}` is not a property of this object"),
                m.pos,
                &pp,
                Some("name one of the object's properties, or drop `path`".into()),
            );
            return None;
        }
        Some(Some(s))
    }
}
