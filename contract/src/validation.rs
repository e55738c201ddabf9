//! Streaming validation on serde's data model: the support every generated type's
//! [`Object`] impl is written against.
//!
//! One code path validates both JSON bytes ([`from_slice`], via `serde_json::Deserializer`) and an
//! already-parsed `&serde_json::Value` ([`from_value`]; `&Value` is itself a `Deserializer`), so
//! the two can never disagree. Nothing is buffered except the objects of a discriminated union.
//!
//! A [`Reader`] reads one value and answers `Ok(Some(v))` when it is valid, `Ok(None)` when it is
//! not (having recorded at least one [`Issue`] in the [`Cx`]), and `Err` only when the input is not
//! JSON at all. Readers never stop at the first problem: a wrong value is consumed and reported and
//! reading goes on, so the caller gets every issue at once, each at a wire-name path.

mod formats;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::{Error, ErrorCode};
use crate::issue::{Issue, IssueCode};

pub use formats::Format;

// ---------------------------------------------------------------------------------------------
// Context: the current path and the issues found so far.
// ---------------------------------------------------------------------------------------------

/// One step of a path. Keys declared in the spec are `'static`, so the common case never allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A declared property.
    Key(&'static str),
    /// A key only known at run time (a record's keys).
    Owned(String),
    /// An array position.
    Index(usize),
}

/// The validation context: where the reader is, and what it found wrong so far.
#[derive(Debug, Default)]
pub struct Cx {
    path: Vec<Seg>,
    issues: Vec<Issue>,
    /// A key appeared twice in one object (see [`read_slice`]).
    repeated_key: bool,
}

impl Cx {
    /// An empty context at the root.
    pub fn new() -> Self {
        Cx::default()
    }

    /// Record an issue at the current path. The path is only formatted here, so valid input pays
    /// nothing for it.
    pub fn issue(&mut self, code: IssueCode, message: impl Into<String>) {
        let path = self.path_string();
        self.issues.push(Issue { path, code, message: message.into() });
    }

    /// Record an issue at `key` below the current path.
    pub fn issue_at(&mut self, key: &'static str, code: IssueCode, message: impl Into<String>) {
        self.path.push(Seg::Key(key));
        self.issue(code, message);
        self.path.pop();
    }

    /// Run `f` one step deeper.
    pub fn at<T>(&mut self, seg: Seg, f: impl FnOnce(&mut Cx) -> T) -> T {
        self.path.push(seg);
        let out = f(self);
        self.path.pop();
        out
    }

    /// The current path in wire names: `updates.priority`, `todos[3].status`, `""` at the root.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => push_key(&mut out, k),
                Seg::Owned(k) => push_key(&mut out, k),
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// How many issues have been recorded; compare with [`Cx::failed_since`].
    pub fn mark(&self) -> usize {
        self.issues.len()
    }

    /// Whether any issue was recorded after `mark`.
    pub fn failed_since(&self, mark: usize) -> bool {
        self.issues.len() > mark
    }

    /// The issues recorded so far.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Take the issues, leaving the context empty.
    pub fn into_issues(self) -> Vec<Issue> {
        self.issues
    }
}

fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

// ---------------------------------------------------------------------------------------------
// Errors and entry points.
// ---------------------------------------------------------------------------------------------

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidationError {
    /// Not JSON at all (or trailing characters after the value).
    Malformed { message: String, line: usize, column: usize },
    /// JSON that breaks the schema: every issue found.
    Invalid(Vec<Issue>),
}

impl ValidationError {
    fn malformed(e: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to its Display; the position is kept apart.
        let mut message = e.to_string();
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        ValidationError::Malformed { message, line: e.line(), column: e.column() }
    }

    /// The issues, or a single root issue for malformed JSON.
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            ValidationError::Invalid(issues) => issues.clone(),
            ValidationError::Malformed { .. } => {
                vec![Issue { path: String::new(), code: IssueCode::InvalidType, message: self.to_string() }]
            }
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationError::Malformed { message, line, column } => {
                write!(f, "malformed JSON at line {line} column {column}: {message}")
            }
            ValidationError::Invalid(issues) => {
                let mut first = true;
                for issue in issues {
                    if !first {
                        f.write_str("; ")?;
                    }
                    first = false;
                    write!(f, "{issue}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ValidationError {}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        match e {
            ValidationError::Invalid(issues) => Error::validation(issues),
            malformed @ ValidationError::Malformed { .. } => Error::new(ErrorCode::Validation, malformed.to_string()),
        }
    }
}

/// Parse and validate JSON bytes into `T` in one pass.
pub fn from_slice<T: Object>(bytes: &[u8]) -> Result<T, ValidationError> {
    read_slice(bytes, &Obj::<T>::new())
}

/// Validate an already-parsed value into `T`.
pub fn from_value<T: Object>(value: &Value) -> Result<T, ValidationError> {
    read_value(value, &Obj::<T>::new())
}

/// Parse and validate JSON bytes with any reader.
///
/// A key repeated in one object means what its last occurrence says, as `serde_json::Value`
/// (the JSON-RPC and MCP paths) and `JSON.parse` read it. One pass gets that right whenever the
/// input is valid (the last value replaces the earlier one), but an earlier occurrence's issues
/// would outlive it; so a refused input with a repeated key is validated again as a `Value`.
/// Only such inputs pay for the second pass.
pub fn read_slice<R: Reader>(bytes: &[u8], reader: &R) -> Result<R::Out, ValidationError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut cx = Cx::new();
    let out = reader.read(&mut de, &mut cx).map_err(|e| ValidationError::malformed(&e))?;
    de.end().map_err(|e| ValidationError::malformed(&e))?;
    if cx.repeated_key && !cx.issues.is_empty() {
        let value = serde_json::from_slice::<Value>(bytes).map_err(|e| ValidationError::malformed(&e))?;
        return read_value(&value, reader);
    }
    finish(out, cx)
}

/// Validate a parsed value with any reader.
pub fn read_value<R: Reader>(value: &Value, reader: &R) -> Result<R::Out, ValidationError> {
    let mut cx = Cx::new();
    let out = reader.read(value, &mut cx).map_err(|e| ValidationError::malformed(&e))?;
    finish(out, cx)
}

fn finish<T>(out: Option<T>, cx: Cx) -> Result<T, ValidationError> {
    match out {
        Some(v) if cx.issues.is_empty() => Ok(v),
        _ if cx.issues.is_empty() => {
            // A reader refused without saying why: a bug in a reader, reported rather than hidden.
            Err(ValidationError::Invalid(vec![Issue {
                path: String::new(),
                code: IssueCode::Custom,
                message: "invalid value".into(),
            }]))
        }
        _ => Err(ValidationError::Invalid(cx.into_issues())),
    }
}

/// `Deserialize` for a generated object type: validation errors become one serde error listing
/// every issue, so `serde_json::from_slice::<T>` validates like [`from_slice`]. The one difference:
/// the input cannot be read twice here, so an invalid earlier occurrence of a repeated key is
/// still reported (the input is refused rather than read by its last occurrence).
pub fn deserialize<'de, D: Deserializer<'de>, T: Object>(d: D) -> Result<T, D::Error> {
    deserialize_with(d, &Obj::<T>::new())
}

/// `Deserialize` for a generated string enum.
pub fn deserialize_enum<'de, D: Deserializer<'de>, T: WireEnum>(d: D) -> Result<T, D::Error> {
    deserialize_with(d, &EnumOf::<T>::new())
}

fn deserialize_with<'de, D: Deserializer<'de>, R: Reader>(d: D, reader: &R) -> Result<R::Out, D::Error> {
    let mut cx = Cx::new();
    let out = reader.read(d, &mut cx)?;
    finish(out, cx).map_err(de::Error::custom)
}

/// Serialize a generated value. Generated types only have string map keys, so this cannot fail;
/// a non-finite float a handler put into a number becomes `null`, as serde_json always does.
pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// The reader abstraction.
// ---------------------------------------------------------------------------------------------

/// Reads and validates one value from any serde `Deserializer`.
pub trait Reader {
    /// The validated Rust value.
    type Out;
    /// `Ok(None)` means invalid, with at least one issue recorded; `Err` means malformed input.
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<Self::Out>, D::Error>;
}

/// A generated struct or union: read from the entries of a JSON object.
pub trait Object: Sized {
    /// Read every entry of `map`, recording every issue; `None` when any was found.
    fn read_map<'de, A: MapAccess<'de>>(map: A, cx: &mut Cx) -> Result<Option<Self>, A::Error>;
}

/// A generated string enum: its variants and their wire names.
pub trait WireEnum: Sized + Copy + 'static {
    /// Every variant with its wire name, in spec order.
    const VARIANTS: &'static [(&'static str, Self)];
}

/// Adapts a reader to serde's `DeserializeSeed`, to read a map value or a sequence element.
struct Seed<'r, 'c, R> {
    reader: &'r R,
    cx: &'c mut Cx,
}

impl<'de, R: Reader> DeserializeSeed<'de> for Seed<'_, '_, R> {
    type Value = Option<R::Out>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.reader.read(d, self.cx)
    }
}

/// The JSON type a value turned out to have, for "expected X, received Y".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Number => "number",
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
        }
    }
}

fn wrong_type(cx: &mut Cx, expected: &str, got: Kind) {
    cx.issue(IssueCode::InvalidType, format!("expected {expected}, received {}", got.name()));
}

/// A scalar as the deserializer presented it. Arrays and objects are consumed before they get here.
#[derive(Debug, Clone, Copy)]
enum Got<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(&'a str),
    Array,
    Object,
}

impl Got<'_> {
    fn kind(self) -> Kind {
        match self {
            Got::Null => Kind::Null,
            Got::Bool(_) => Kind::Boolean,
            Got::I64(_) | Got::U64(_) | Got::F64(_) => Kind::Number,
            Got::Str(_) => Kind::String,
            Got::Array => Kind::Array,
            Got::Object => Kind::Object,
        }
    }
}

/// A reader of a scalar: it judges whatever single value came in.
trait Scalar {
    type Out;
    fn accept(&self, got: Got<'_>, cx: &mut Cx) -> Option<Self::Out>;
}

/// The one visitor every scalar reader shares: it turns each serde callback into a [`Got`],
/// consuming arrays and objects whole so a wrong type never derails the surrounding read.
struct ScalarVisitor<'r, 'c, S> {
    reader: &'r S,
    cx: &'c mut Cx,
}

impl<'de, S: Scalar> Visitor<'de> for ScalarVisitor<'_, '_, S> {
    type Value = Option<S::Out>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::Null, self.cx))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::Null, self.cx))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::Bool(v), self.cx))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::I64(v), self.cx))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::U64(v), self.cx))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::F64(v), self.cx))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.reader.accept(Got::Str(v), self.cx))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.reader.accept(Got::Array, self.cx))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.reader.accept(Got::Object, self.cx))
    }
}

macro_rules! scalar_reader {
    ($ty:ty => $out:ty) => {
        impl Reader for $ty {
            type Out = $out;
            fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<Self::Out>, D::Error> {
                d.deserialize_any(ScalarVisitor { reader: self, cx })
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Scalars: string, integer, number, boolean, enum, any.
// ---------------------------------------------------------------------------------------------

/// A regex compiled on first use and shared by every later read.
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl Pattern {
    /// A pattern; compiled lazily so a program that never reads the field never pays for it.
    pub const fn new(source: &'static str) -> Self {
        Pattern { source, compiled: OnceLock::new() }
    }

    /// The regex as written in the spec.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether `s` contains a match (unanchored, like JSON Schema). The spec check rejects
    /// invalid regexes, but if one slipped through it becomes an issue here rather than a panic.
    fn matches(&self, s: &str) -> Result<bool, &str> {
        match self.compiled.get_or_init(|| regex::Regex::new(self.source).map_err(|e| e.to_string())) {
            Ok(re) => Ok(re.is_match(s)),
            Err(e) => Err(e),
        }
    }
}

/// A string with optional length (in code points), pattern and format constraints.
#[derive(Clone, Copy, Default)]
pub struct Str {
    min_length: Option<u64>,
    max_length: Option<u64>,
    pattern: Option<&'static Pattern>,
    format: Option<Format>,
}

impl Str {
    pub const fn new() -> Self {
        Str { min_length: None, max_length: None, pattern: None, format: None }
    }
    pub const fn min_length(mut self, n: u64) -> Self {
        self.min_length = Some(n);
        self
    }
    pub const fn max_length(mut self, n: u64) -> Self {
        self.max_length = Some(n);
        self
    }
    pub const fn pattern(mut self, p: &'static Pattern) -> Self {
        self.pattern = Some(p);
        self
    }
    pub const fn format(mut self, f: Format) -> Self {
        self.format = Some(f);
        self
    }

    /// Every constraint is checked, so one string can produce several issues.
    fn check(&self, s: &str, cx: &mut Cx) -> bool {
        let mark = cx.mark();
        if self.min_length.is_some() || self.max_length.is_some() {
            let len = char_count_if_needed(s, self.min_length, self.max_length);
            if let Some(min) = self.min_length.filter(|&min| len < min) {
                cx.issue(IssueCode::TooSmall, format!("must be at least {}", plural(min, "character")));
            }
            if let Some(max) = self.max_length.filter(|&max| len > max) {
                cx.issue(IssueCode::TooBig, format!("must be at most {}", plural(max, "character")));
            }
        }
        if let Some(p) = self.pattern {
            match p.matches(s) {
                Ok(true) => {}
                Ok(false) => cx.issue(IssueCode::InvalidString, format!("must match the pattern /{}/", p.source())),
                Err(e) => cx
                    .issue(IssueCode::InvalidString, format!("the pattern /{}/ is not a valid regex: {e}", p.source())),
            }
        }
        if let Some(f) = self.format
            && !f.is_valid(s)
        {
            cx.issue(IssueCode::InvalidString, format!("invalid {}: expected {}", f.as_str(), f.describe()));
        }
        !cx.failed_since(mark)
    }
}

/// The length in code points, or a stand-in when the byte length alone decides both bounds: a
/// code point is 1 to 4 bytes, so `bytes` is an upper and `ceil(bytes / 4)` a lower bound.
/// Counting is a pass over the whole string; most strings never need it.
fn char_count_if_needed(s: &str, min: Option<u64>, max: Option<u64>) -> u64 {
    let bytes = s.len() as u64;
    let at_least = bytes.div_ceil(4);
    let max_ok = max.is_none_or(|m| bytes <= m);
    let min_ok = min.is_none_or(|m| at_least >= m);
    if max_ok && min_ok {
        // Both bounds hold for any count in [at_least, bytes]; report one inside them.
        bytes
    } else {
        s.chars().count() as u64
    }
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

impl Scalar for Str {
    type Out = String;
    fn accept(&self, got: Got<'_>, cx: &mut Cx) -> Option<String> {
        match got {
            Got::Str(s) => self.check(s, cx).then(|| s.to_owned()),
            other => {
                wrong_type(cx, "string", other.kind());
                None
            }
        }
    }
}
scalar_reader!(Str => String);

/// The largest integer a JSON number (an IEEE double) holds exactly: the implicit bound of an
/// integer with no explicit bound, as in Zod 4.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A bound of a number: its value and whether the value itself is excluded.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Limit {
    value: f64,
    exclusive: bool,
}

fn check_limits(x: f64, min: Option<Limit>, max: Option<Limit>, cx: &mut Cx) -> bool {
    let mut ok = true;
    if let Some(min) = min
        && (x < min.value || (min.exclusive && x == min.value))
    {
        let rel = if min.exclusive { "greater than" } else { "greater than or equal to" };
        cx.issue(IssueCode::TooSmall, format!("must be {rel} {}", show_number(min.value)));
        ok = false;
    }
    if let Some(max) = max
        && (x > max.value || (max.exclusive && x == max.value))
    {
        let rel = if max.exclusive { "less than" } else { "less than or equal to" };
        cx.issue(IssueCode::TooBig, format!("must be {rel} {}", show_number(max.value)));
        ok = false;
    }
    ok
}

fn show_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e16 { format!("{}", x as i64) } else { x.to_string() }
}

/// A whole number held as `i64`. Integral floats (`3.0`) count, as in JSON Schema.
#[derive(Clone, Copy)]
pub struct Int {
    min: Option<Limit>,
    max: Option<Limit>,
}

impl Default for Int {
    fn default() -> Self {
        Int::new()
    }
}

impl Int {
    /// An integer bounded by the safe-integer range until a bound replaces one side.
    pub const fn new() -> Self {
        Int {
            min: Some(Limit { value: -(MAX_SAFE_INTEGER as f64), exclusive: false }),
            max: Some(Limit { value: MAX_SAFE_INTEGER as f64, exclusive: false }),
        }
    }
    pub const fn min(mut self, v: i64) -> Self {
        self.min = Some(Limit { value: v as f64, exclusive: false });
        self
    }
    pub const fn max(mut self, v: i64) -> Self {
        self.max = Some(Limit { value: v as f64, exclusive: false });
        self
    }
    pub const fn exclusive_min(mut self, v: i64) -> Self {
        self.min = Some(Limit { value: v as f64, exclusive: true });
        self
    }
    pub const fn exclusive_max(mut self, v: i64) -> Self {
        self.max = Some(Limit { value: v as f64, exclusive: true });
        self
    }
}

impl Scalar for Int {
    type Out = i64;
    fn accept(&self, got: Got<'_>, cx: &mut Cx) -> Option<i64> {
        // Bounds are compared as f64: rounding is monotonic, and every bound the spec allows is
        // within the range where f64 is exact.
        let (as_f64, exact) = match got {
            Got::I64(v) => (v as f64, Some(v)),
            Got::U64(v) => (v as f64, i64::try_from(v).ok()),
            Got::F64(v) if v.fract() == 0.0 && v.is_finite() => {
                let exact = (v >= i64::MIN as f64 && v < i64::MAX as f64).then_some(v as i64);
                (v, exact)
            }
            Got::F64(_) => {
                cx.issue(IssueCode::InvalidType, "expected integer, received number");
                return None;
            }
            other => {
                wrong_type(cx, "integer", other.kind());
                return None;
            }
        };
        if !check_limits(as_f64, self.min, self.max, cx) {
            return None;
        }
        match exact {
            Some(v) => Some(v),
            None => {
                cx.issue(IssueCode::TooBig, "must fit in a 64-bit signed integer");
                None
            }
        }
    }
}
scalar_reader!(Int => i64);

/// Any finite JSON number, held as `f64`.
#[derive(Clone, Copy, Default)]
pub struct Num {
    min: Option<Limit>,
    max: Option<Limit>,
}

impl Num {
    pub const fn new() -> Self {
        Num { min: None, max: None }
    }
    pub const fn min(mut self, v: f64) -> Self {
        self.min = Some(Limit { value: v, exclusive: false });
        self
    }
    pub const fn max(mut self, v: f64) -> Self {
        self.max = Some(Limit { value: v, exclusive: false });
        self
    }
    pub const fn exclusive_min(mut self, v: f64) -> Self {
        self.min = Some(Limit { value: v, exclusive: true });
        self
    }
    pub const fn exclusive_max(mut self, v: f64) -> Self {
        self.max = Some(Limit { value: v, exclusive: true });
        self
    }
}

impl Scalar for Num {
    type Out = f64;
    fn accept(&self, got: Got<'_>, cx: &mut Cx) -> Option<f64> {
        let x = match got {
            Got::I64(v) => v as f64,
            Got::U64(v) => v as f64,
            Got::F64(v) => v,
            other => {
                wrong_type(cx, "number", other.kind());
                return None;
            }
        };
        check_limits(x, self.min, self.max, cx).then_some(x)
    }
}
scalar_reader!(Num => f64);

/// `true` or `false`.
#[derive(Clone, Copy, Default)]
pub struct Bool;

impl Scalar for Bool {
    type Out = bool;
    fn accept(&self, got: Got<'_>, cx: &mut Cx) -> Option<bool> {
        match got {
            Got::Bool(b) => Some(b),
            other => {
                wrong_type(cx, "boolean", other.kind());
                None
            }
        }
    }
}
scalar_reader!(Bool => bool);

/// One of a generated enum's wire names.
pub struct EnumOf<T>(PhantomData<fn() -> T>);

impl<T> EnumOf<T> {
    pub const fn new() -> Self {
        EnumOf(PhantomData)
    }
}

impl<T> Default for EnumOf<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: WireEnum> EnumOf<T> {
    fn expected() -> String {
        let names: Vec<String> = T::VARIANTS.iter().map(|(name, _)| format!("'{name}'")).collect();
        names.join(" | ")
    }
}

impl<T: WireEnum> Scalar for EnumOf<T> {
    type Out = T;
    fn accept(&self, got: Got<'_>, cx: &mut Cx) -> Option<T> {
        match got {
            Got::Str(s) => {
                let found = T::VARIANTS.iter().find(|(name, _)| *name == s).map(|(_, v)| *v);
                if found.is_none() {
                    cx.issue(
                        IssueCode::InvalidEnumValue,
                        format!("invalid enum value: expected {}, received '{s}'", Self::expected()),
                    );
                }
                found
            }
            other => {
                wrong_type(cx, &Self::expected(), other.kind());
                None
            }
        }
    }
}

impl<T: WireEnum> Reader for EnumOf<T> {
    type Out = T;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<T>, D::Error> {
        d.deserialize_any(ScalarVisitor { reader: self, cx })
    }
}

/// Any JSON value, `null` included, kept as it came.
#[derive(Clone, Copy, Default)]
pub struct Any;

impl Reader for Any {
    type Out = Value;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, _cx: &mut Cx) -> Result<Option<Value>, D::Error> {
        Value::deserialize(d).map(Some)
    }
}

// ---------------------------------------------------------------------------------------------
// Wrappers and containers: nullable, array, record, object.
// ---------------------------------------------------------------------------------------------

/// `null` or the inner reader's value.
#[derive(Clone, Copy, Default)]
pub struct Nullable<R>(pub R);

struct NullableVisitor<'r, 'c, R> {
    inner: &'r R,
    cx: &'c mut Cx,
}

impl<'de, R: Reader> Visitor<'de> for NullableVisitor<'_, '_, R> {
    type Value = Option<Option<R::Out>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or a value")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Ok(self.inner.read(d, self.cx)?.map(Some))
    }
}

impl<R: Reader> Reader for Nullable<R> {
    type Out = Option<R::Out>;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<Self::Out>, D::Error> {
        d.deserialize_option(NullableVisitor { inner: &self.0, cx })
    }
}

/// An array whose items all match `items`, with optional item-count bounds.
#[derive(Clone, Copy, Default)]
pub struct Array<R> {
    items: R,
    min_items: Option<u64>,
    max_items: Option<u64>,
}

impl<R> Array<R> {
    pub const fn new(items: R) -> Self {
        Array { items, min_items: None, max_items: None }
    }
    pub const fn min_items(mut self, n: u64) -> Self {
        self.min_items = Some(n);
        self
    }
    pub const fn max_items(mut self, n: u64) -> Self {
        self.max_items = Some(n);
        self
    }
}

struct ArrayVisitor<'r, 'c, R> {
    array: &'r Array<R>,
    cx: &'c mut Cx,
}

impl<'de, R: Reader> Visitor<'de> for ArrayVisitor<'_, '_, R> {
    type Value = Option<Vec<R::Out>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mark = self.cx.mark();
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        let mut len: u64 = 0;
        loop {
            self.cx.path.push(Seg::Index(len as usize));
            let next = seq.next_element_seed(Seed { reader: &self.array.items, cx: self.cx });
            self.cx.path.pop();
            match next? {
                None => break,
                Some(Some(item)) => out.push(item),
                Some(None) => {}
            }
            len += 1;
        }
        if let Some(min) = self.array.min_items.filter(|&min| len < min) {
            self.cx.issue(IssueCode::TooSmall, format!("must contain at least {}", plural(min, "item")));
        }
        if let Some(max) = self.array.max_items.filter(|&max| len > max) {
            self.cx.issue(IssueCode::TooBig, format!("must contain at most {}", plural(max, "item")));
        }
        Ok((!self.cx.failed_since(mark)).then_some(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        wrong_type(self.cx, "array", Kind::Object);
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::Boolean))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::Number))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::Number))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::Number))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::String))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(not_a(self.cx, "array", Kind::Null))
    }
}

fn not_a<T>(cx: &mut Cx, expected: &str, got: Kind) -> Option<T> {
    wrong_type(cx, expected, got);
    None
}

impl<R: Reader> Reader for Array<R> {
    type Out = Vec<R::Out>;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<Self::Out>, D::Error> {
        d.deserialize_any(ArrayVisitor { array: self, cx })
    }
}

/// Implements the non-object callbacks of a visitor that only accepts JSON objects.
macro_rules! only_objects {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(not_a(self.cx, "object", Kind::Array))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::Boolean))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::Number))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::Number))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::Number))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::String))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(not_a(self.cx, "object", Kind::Null))
        }
    };
}

/// An object with any keys, each value matching the inner reader.
#[derive(Clone, Copy, Default)]
pub struct Record<R>(pub R);

struct RecordVisitor<'r, 'c, R> {
    values: &'r R,
    cx: &'c mut Cx,
}

impl<'de, R: Reader> Visitor<'de> for RecordVisitor<'_, '_, R> {
    type Value = Option<BTreeMap<String, R::Out>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mark = self.cx.mark();
        let mut out = BTreeMap::new();
        // Keys whose value was refused: only needed to notice one of them repeated.
        let mut refused = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) || refused.contains(&key) {
                self.cx.repeated_key = true;
            }
            self.cx.path.push(Seg::Owned(key));
            let value = map.next_value_seed(Seed { reader: self.values, cx: self.cx });
            let Some(Seg::Owned(key)) = self.cx.path.pop() else {
                continue;
            };
            match value? {
                Some(v) => {
                    out.insert(key, v);
                }
                None => {
                    out.remove(&key);
                    refused.insert(key);
                }
            }
        }
        Ok((!self.cx.failed_since(mark)).then_some(out))
    }
    only_objects!();
}

impl<R: Reader> Reader for Record<R> {
    type Out = BTreeMap<String, R::Out>;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<Self::Out>, D::Error> {
        d.deserialize_any(RecordVisitor { values: &self.0, cx })
    }
}

/// A generated struct or union, read through its [`Object`] impl.
pub struct Obj<T>(PhantomData<fn() -> T>);

impl<T> Obj<T> {
    pub const fn new() -> Self {
        Obj(PhantomData)
    }
}

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Self::new()
    }
}

struct ObjVisitor<'c, T> {
    cx: &'c mut Cx,
    _t: PhantomData<fn() -> T>,
}

impl<'de, T: Object> Visitor<'de> for ObjVisitor<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::read_map(map, self.cx)
    }
    only_objects!();
}

impl<T: Object> Reader for Obj<T> {
    type Out = T;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<T>, D::Error> {
        d.deserialize_any(ObjVisitor { cx, _t: PhantomData })
    }
}

/// A reader of a boxed value (for recursive types).
#[derive(Clone, Copy, Default)]
pub struct Boxed<R>(pub R);

impl<R: Reader> Reader for Boxed<R> {
    type Out = Box<R::Out>;
    fn read<'de, D: Deserializer<'de>>(&self, d: D, cx: &mut Cx) -> Result<Option<Self::Out>, D::Error> {
        Ok(self.0.read(d, cx)?.map(Box::new))
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks of generated `Object::read_map` impls.
// ---------------------------------------------------------------------------------------------

/// An object key, borrowed from the input when the deserializer allows it.
#[derive(Debug)]
pub enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
    pub fn into_owned(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// One declared field while its object is being read.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Slot<T> {
    /// The key did not appear.
    #[default]
    Absent,
    /// The key appeared with a value that had issues (already recorded).
    Invalid,
    /// The key appeared with a valid value.
    Valid(T),
}

impl<T> Slot<T> {
    /// Whether the key appeared at all (what cross-field rules and JSON Schema `required` test).
    pub fn is_present(&self) -> bool {
        !matches!(self, Slot::Absent)
    }

    /// A required field: `None` when absent (recording `required` at `key`) or invalid.
    pub fn required(self, cx: &mut Cx, key: &'static str) -> Option<T> {
        match self {
            Slot::Valid(v) => Some(v),
            Slot::Invalid => None,
            Slot::Absent => {
                cx.issue_at(key, IssueCode::Required, "required");
                None
            }
        }
    }

    /// An optional field: `Some(None)` when absent, `None` when invalid.
    pub fn optional(self) -> Option<Option<T>> {
        match self {
            Slot::Valid(v) => Some(Some(v)),
            Slot::Invalid => None,
            Slot::Absent => Some(None),
        }
    }

    /// A field with a default: the default when absent, `None` when invalid.
    pub fn or_default(self, default: impl FnOnce() -> T) -> Option<T> {
        match self {
            Slot::Valid(v) => Some(v),
            Slot::Invalid => None,
            Slot::Absent => Some(default()),
        }
    }
}

/// Read the value of the current entry of `map` into the declared field `key`'s slot. A key seen
/// before replaces the earlier value (see [`read_slice`] for its issues).
pub fn field<'de, A: MapAccess<'de>, R: Reader>(
    map: &mut A,
    cx: &mut Cx,
    key: &'static str,
    reader: &R,
    slot: &mut Slot<R::Out>,
) -> Result<(), A::Error> {
    if slot.is_present() {
        cx.repeated_key = true;
    }
    cx.path.push(Seg::Key(key));
    let value = map.next_value_seed(Seed { reader, cx });
    cx.path.pop();
    *slot = match value? {
        Some(v) => Slot::Valid(v),
        None => Slot::Invalid,
    };
    Ok(())
}

/// Keys an object does not declare, gathered so `reject` reports them in one issue.
#[derive(Debug, Default)]
pub struct UnknownKeys(Vec<String>);

impl UnknownKeys {
    pub fn new() -> Self {
        UnknownKeys(Vec::new())
    }

    /// Policy `reject`: remember the key and skip its value.
    pub fn reject<'de, A: MapAccess<'de>>(&mut self, map: &mut A, key: Key<'de>) -> Result<(), A::Error> {
        self.0.push(key.into_owned());
        map.next_value::<IgnoredAny>()?;
        Ok(())
    }

    /// Record one `unrecognized_keys` issue at the object, listing every extra key.
    pub fn report(self, cx: &mut Cx) {
        if self.0.is_empty() {
            return;
        }
        let list: Vec<String> = self.0.iter().map(|k| format!("'{k}'")).collect();
        cx.issue(IssueCode::UnrecognizedKeys, format!("unrecognized key(s) in object: {}", list.join(", ")));
    }
}

/// Policy `strip`: skip the value of an undeclared key.
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>()?;
    Ok(())
}

/// Policy `allow`: keep an undeclared key and its value.
pub fn keep<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: Key<'de>,
    extra: &mut serde_json::Map<String, Value>,
) -> Result<(), A::Error> {
    let value = map.next_value::<Value>()?;
    extra.insert(key.into_owned(), value);
    Ok(())
}

/// Rule `at_least_one_of`: record a `custom` issue unless one of the keys is present.
pub fn at_least_one_of(cx: &mut Cx, present: &[bool], path: Option<&'static str>, message: &str) {
    if !present.iter().any(|&p| p) {
        rule_issue(cx, path, message);
    }
}

/// Rule `mutually_exclusive`: record a `custom` issue when more than one key is present.
pub fn mutually_exclusive(cx: &mut Cx, present: &[bool], path: Option<&'static str>, message: &str) {
    if present.iter().filter(|&&p| p).count() > 1 {
        rule_issue(cx, path, message);
    }
}

fn rule_issue(cx: &mut Cx, path: Option<&'static str>, message: &str) {
    match path {
        Some(key) => cx.issue_at(key, IssueCode::Custom, message),
        None => cx.issue(IssueCode::Custom, message),
    }
}

/// The first half of reading a discriminated union: buffer the object, then check its tag.
///
/// The tag may come after the fields it selects, so the object is buffered (this is the only
/// reader that buffers). Returns the tag value and the object without the tag, or `None` when the
/// tag is missing, not a string or unknown (with the issue recorded at the tag's path).
pub fn union_tag<'de, A: MapAccess<'de>>(
    mut map: A,
    cx: &mut Cx,
    tag: &'static str,
    tags: &[&str],
) -> Result<Option<(String, Value)>, A::Error> {
    let mut rest = serde_json::Map::new();
    while let Some((k, v)) = map.next_entry::<String, Value>()? {
        rest.insert(k, v);
    }
    let expected = || tags.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(" | ");
    let value = match rest.remove(tag) {
        Some(Value::String(s)) if tags.contains(&s.as_str()) => s,
        Some(Value::String(s)) => {
            let msg = format!("invalid discriminator value: expected {}, received '{s}'", expected());
            cx.issue_at(tag, IssueCode::InvalidEnumValue, msg);
            return Ok(None);
        }
        Some(other) => {
            let kind = kind_of(&other);
            cx.issue_at(tag, IssueCode::InvalidType, format!("expected {}, received {}", expected(), kind.name()));
            return Ok(None);
        }
        None => {
            cx.issue_at(tag, IssueCode::Required, "required");
            return Ok(None);
        }
    };
    Ok(Some((value, Value::Object(rest))))
}

/// The second half of reading a discriminated union: read the chosen variant from the buffer.
pub fn union_variant<T: Object>(rest: &Value, cx: &mut Cx) -> Option<T> {
    match Obj::<T>::new().read(rest, cx) {
        Ok(v) => v,
        // Reading an in-memory value cannot fail: only a JSON parser reports errors.
        Err(e) => {
            cx.issue(IssueCode::Custom, e.to_string());
            None
        }
    }
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Boolean,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}
