//! The `Deserialize` impls that generated code spells out instead of
//! deriving: a derived `Deserialize` is most of the compile time of a
//! large schema's bindings, while these impls are a few lines each on top
//! of the helpers here.
//!
//! * Objects read into a [`Reader`] (a JSON map) and take their members
//!   out by name ([`Members::read`]); members they do not know are ignored, as a client of a
//!   newer QEMU needs.  (Servers check arguments strictly, with QEMU's
//!   error texts, before decoding: see [`crate::input`].)
//! * Unions read their discriminator, then their branch's members from
//!   the same object.
//! * Alternates pick their branch by the JSON type of the value, as QEMU
//!   does, not by trying each branch in turn.
//! * Enums parse their string with `FromStr`.
//!
//! Errors name the type and member: `CpuModelInfo.name: invalid type:
//! integer `1`, expected a string`.

use std::fmt::Display;
use std::str::FromStr;

use serde::de::{DeserializeOwned, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::members::{Branches, Members};

/// An object's members as they arrived, in wire order.  A list rather
/// than a map: an object type takes a few tens of members by name, which
/// a scan finds sooner than hashing every key would, and a nested object
/// decoded from a `Value` moves its members over instead of re-hashing.
type Entries = Vec<(String, Value)>;

/// Reads a JSON object for type `type_name`.
fn read_map<'de, D: Deserializer<'de>>(d: D, type_name: &'static str) -> Result<Entries, D::Error> {
    d.deserialize_any(ObjectVisitor(type_name))
}

/// Collects an object's members; anything else is an error in the words
/// alternates use (`T: expected an object, got an array`).
struct ObjectVisitor(&'static str);

impl ObjectVisitor {
    fn not_an_object<E: serde::de::Error>(&self, kind: Kind) -> E {
        E::custom(format_args!(
            "{}: expected an object, got {}",
            self.0,
            kind.name()
        ))
    }
}

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: an object", self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries, A::Error> {
        // The hint is the peer's word: it sizes the list only up to a point.
        let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = m.next_entry::<String, Value>()? {
            out.push(entry);
        }
        Ok(out)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::Bool))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::Int))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::Int))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::Float))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::String))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::Null))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Entries, E> {
        Err(self.not_an_object(Kind::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Entries, A::Error> {
        Err(self.not_an_object(Kind::Array))
    }
}

/// A JSON object whose members a generated type takes out by name
/// ([`Members::read`]).  Members it does not know are left, as a client
/// of a newer QEMU needs.  The first failure is kept and the walk stops
/// (`None`): the type's `Deserialize` reports it.
pub struct Reader {
    entries: Entries,
    type_name: &'static str,
    error: Option<String>,
}

impl Reader {
    /// A reader of `entries` for type `type_name` (which errors name).
    fn new(entries: Entries, type_name: &'static str) -> Self {
        Reader {
            entries,
            type_name,
            error: None,
        }
    }

    /// Takes member `key` out: the last of that name, as a map keeps it.
    /// The order of the members left does not matter (they are taken by
    /// name), so the last one fills the hole.
    fn take(&mut self, key: &str) -> Option<Value> {
        let i = self.entries.iter().rposition(|(k, _)| k == key)?;
        Some(self.entries.swap_remove(i).1)
    }

    /// Records a failure (the first is kept) and stops the walk.
    fn fail<T>(&mut self, message: std::fmt::Arguments<'_>) -> Option<T> {
        if self.error.is_none() {
            self.error = Some(message.to_string());
        }
        None
    }

    fn decode<T: DeserializeOwned>(&mut self, key: &str, v: Value) -> Option<T> {
        match serde_json::from_value(v) {
            Ok(x) => Some(x),
            Err(e) => {
                let type_name = self.type_name;
                self.fail(format_args!("{type_name}.{key}: {e}"))
            }
        }
    }

    /// Takes required member `key`.
    pub fn req<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match self.take(key) {
            Some(v) => self.decode(key, v),
            None => {
                let type_name = self.type_name;
                self.fail(format_args!("{type_name}: missing member '{key}'"))
            }
        }
    }

    /// Takes required member `key`, or its default when absent (for
    /// members marked absent-as-default at generation time).
    pub fn req_or_default<T: DeserializeOwned + Default>(&mut self, key: &str) -> Option<T> {
        match self.take(key) {
            Some(v) => self.decode(key, v),
            None => Some(T::default()),
        }
    }

    /// Takes optional member `key`.
    pub fn opt<T: DeserializeOwned>(&mut self, key: &str) -> Option<Option<T>> {
        match self.take(key) {
            Some(v) => self.decode(key, v).map(Some),
            None => Some(None),
        }
    }

    /// Takes a union's discriminator `key` (a string).
    fn tag(&mut self, key: &str) -> Option<String> {
        let type_name = self.type_name;
        match self.take(key) {
            Some(Value::String(s)) => Some(s),
            Some(other) => self.fail(format_args!(
                "{type_name}.{key}: expected a string, got {}",
                Kind::of(&other).name()
            )),
            None => self.fail(format_args!("{type_name}: missing discriminator '{key}'")),
        }
    }

    /// Reads a union's branches: its discriminator, then the branch that
    /// selects, from the same object.
    pub fn branches<B: Branches>(&mut self) -> Option<B> {
        let tag = self.tag(B::TAG)?;
        B::read(&tag, self)
    }

    /// Reads a branch's type from the union's object.
    pub fn branch<T: Members>(&mut self) -> Option<T> {
        T::read(self)
    }

    /// Fails for a discriminator value that selects no branch.
    pub fn unknown_tag<T>(&mut self, key: &str, value: &str) -> Option<T> {
        let type_name = self.type_name;
        self.fail(format_args!("{type_name}.{key}: unknown value '{value}'"))
    }

    /// Takes an event's `data` member as `T` (`{}` when absent).
    pub fn data<T: DeserializeOwned>(&mut self) -> Option<T> {
        let v = self
            .take("data")
            .unwrap_or_else(|| Value::Object(Map::new()));
        self.decode("data", v)
    }

    /// Why the walk stopped.
    fn into_error<E: serde::de::Error>(self) -> E {
        let type_name = self.type_name;
        E::custom(
            self.error
                .unwrap_or_else(|| format!("{type_name}: decoding stopped without a reason")),
        )
    }
}

/// `Deserialize` of an object type: reads the object, then its members.
/// `type_name` (the QAPI name) is what errors call it.
pub fn deserialize<'de, D: Deserializer<'de>, T: Members>(
    d: D,
    type_name: &'static str,
) -> Result<T, D::Error> {
    let mut r = Reader::new(read_map(d, type_name)?, type_name);
    match T::read(&mut r) {
        Some(v) => Ok(v),
        None => Err(r.into_error()),
    }
}

/// `Deserialize` of `{}` (members are ignored, as for any object).
pub fn empty<'de, D: Deserializer<'de>>(d: D, type_name: &'static str) -> Result<(), D::Error> {
    read_map(d, type_name).map(drop)
}

/// Decodes an enum from its string with `FromStr`.
pub fn parse_str<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let v = <Value as serde::Deserialize>::deserialize(d)?;
    match v {
        Value::String(s) => s.parse().map_err(D::Error::custom),
        other => Err(D::Error::custom(format_args!(
            "expected a string, got {}",
            Kind::of(&other).name()
        ))),
    }
}

/// The JSON type of a value, as an alternate sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool,
    /// An integer (fits `i64` or `u64`).
    Int,
    /// A number with a fraction or exponent.
    Float,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    /// The kind of `v`.
    pub fn of(v: &Value) -> Kind {
        match v {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_f64() => Kind::Float,
            Value::Number(_) => Kind::Int,
            Value::String(_) => Kind::String,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    /// How error messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Int => "an integer",
            Kind::Float => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// Decodes `v` as branch type `T` and wraps it; errors name the alternate.
pub fn branch<T: DeserializeOwned, A>(
    alternate: &'static str,
    v: Value,
    wrap: fn(T) -> A,
) -> Result<A, String> {
    serde_json::from_value(v)
        .map(wrap)
        .map_err(|e| format!("{alternate}: {e}"))
}

/// The error for a value whose JSON type no branch of an alternate takes.
pub fn no_branch(alternate: &'static str, v: &Value, expected: &'static str) -> String {
    format!(
        "{alternate}: expected {expected}, got {}",
        Kind::of(v).name()
    )
}

/// Decodes a command's checked arguments; a failure here means the
/// arguments passed QEMU's checks but not Rust's (an integer out of range,
/// say), and is reported as a `GenericError`.
pub fn arguments<T: DeserializeOwned>(v: Value) -> Result<T, crate::QmpError> {
    serde_json::from_value(v).map_err(|e| crate::QmpError::generic(e.to_string()))
}

/// Encodes a handler's reply.
pub fn reply<T: serde::Serialize>(r: Result<T, crate::QmpError>) -> Result<Value, crate::QmpError> {
    serde_json::to_value(r?).map_err(|e| crate::QmpError::generic(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases = [
            ("null", Kind::Null),
            ("true", Kind::Bool),
            ("1", Kind::Int),
            ("-1", Kind::Int),
            ("18446744073709551615", Kind::Int),
            ("1.5", Kind::Float),
            ("1e3", Kind::Float),
            ("\"x\"", Kind::String),
            ("[]", Kind::Array),
            ("{}", Kind::Object),
        ];
        for (json, want) in cases {
            let v: Value = serde_json::from_str(json).expect("test JSON");
            assert_eq!(Kind::of(&v), want, "{json}");
        }
    }

    #[test]
    fn messages() {
        let v: Value = serde_json::from_str("[1]").expect("test JSON");
        assert_eq!(
            no_branch("BlockdevRef", &v, "an object or a string"),
            "BlockdevRef: expected an object or a string, got an array"
        );
        let r: Result<u8, String> = branch("Alt", Value::from(300), |x: u8| x);
        assert!(r.unwrap_err().starts_with("Alt: "));
    }

    fn reader(json: &str) -> Reader {
        let mut d = serde_json::Deserializer::from_str(json);
        Reader::new(read_map(&mut d, "T").expect("an object"), "T")
    }

    fn error(r: Reader) -> String {
        r.into_error::<serde_json::Error>().to_string()
    }

    #[test]
    fn reader_members() {
        let mut r = reader(r#"{"a": 1, "b": "x", "t": "k", "extra": null}"#);
        assert_eq!(r.req::<i64>("a"), Some(1));
        assert_eq!(r.opt::<String>("b"), Some(Some("x".into())));
        assert_eq!(r.opt::<String>("c"), Some(None));
        assert_eq!(r.req_or_default::<bool>("s"), Some(false));
        assert_eq!(r.tag("t").as_deref(), Some("k"));
        assert_eq!(r.req::<i64>("a"), None);
        // The first failure is the one reported.
        assert_eq!(r.req::<i64>("z"), None);
        assert_eq!(error(r), "T: missing member 'a'");
        let mut r = reader(r#"{"a": "one"}"#);
        assert_eq!(r.req::<i64>("a"), None);
        let e = error(r);
        assert!(e.starts_with("T.a: invalid type: string"), "{e}");
        let mut r = reader(r#"{"t": 1}"#);
        assert_eq!(r.tag("t"), None);
        assert_eq!(error(r), "T.t: expected a string, got an integer");
        let mut r = reader("{}");
        assert_eq!(r.tag("t"), None);
        assert_eq!(error(r), "T: missing discriminator 't'");
        let mut r = reader("{}");
        assert_eq!(r.unknown_tag::<()>("t", "v"), None);
        assert_eq!(error(r), "T.t: unknown value 'v'");
        for (json, kind) in [
            ("[1]", "an array"),
            ("1", "an integer"),
            ("-1", "an integer"),
            ("1.5", "a number"),
            ("\"s\"", "a string"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            let mut d = serde_json::Deserializer::from_str(json);
            let e = read_map(&mut d, "T").map(|_| ()).unwrap_err().to_string();
            // From text, serde_json adds where: "... at line 1 column 1".
            let want = format!("T: expected an object, got {kind} at line 1");
            assert!(e.starts_with(&want), "{e}");
            let e = read_map(serde_json::from_str::<Value>(json).expect("JSON"), "T")
                .map(|_| ())
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("T: expected an object, got {kind}"),
                "{json}"
            );
        }
        // A name given twice: the last counts, as in a map.
        let mut r = reader(r#"{"a": 1, "a": 2}"#);
        assert_eq!(r.req::<i64>("a"), Some(2));
    }
}
