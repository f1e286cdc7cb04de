//! The `Deserialize` impls that generated code spells out instead of
//! deriving: a derived `Deserialize` is most of the compile time of a
//! large schema's bindings, while these impls are a few lines each on top
//! of the helpers here.
//!
//! * Objects read into an [`Object`] (a JSON map) and take their members
//!   out by name; members they do not know are ignored, as a client of a
//!   newer QEMU needs.  (Servers check arguments strictly, with QEMU's
//!   error texts, before decoding: see [`crate::input`].)
//! * Unions read their discriminator, then decode the rest as the branch.
//! * Alternates pick their branch by the JSON type of the value, as QEMU
//!   does, not by trying each branch in turn.
//! * Enums parse their string with `FromStr`.
//!
//! Errors name the type and member: `CpuModelInfo.name: invalid type:
//! integer `1`, expected a string`.

use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::{Map, Value};

/// A JSON object being decoded into a generated struct.
pub struct Object<E> {
    map: Map<String, Value>,
    type_name: &'static str,
    _error: PhantomData<E>,
}

impl<E: serde::de::Error> Object<E> {
    /// Reads an object for type `type_name`.
    pub fn read<'de, D: Deserializer<'de, Error = E>>(
        d: D,
        type_name: &'static str,
    ) -> Result<Self, E> {
        let v = <Value as serde::Deserialize>::deserialize(d)?;
        match v {
            Value::Object(map) => Ok(Object {
                map,
                type_name,
                _error: PhantomData,
            }),
            other => Err(E::custom(format_args!(
                "{type_name}: expected an object, got {}",
                Kind::of(&other).name()
            ))),
        }
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, v: Value) -> Result<T, E> {
        serde_json::from_value(v)
            .map_err(|e| E::custom(format_args!("{}.{key}: {e}", self.type_name)))
    }

    /// Takes required member `key`.
    pub fn req<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, E> {
        match self.map.remove(key) {
            Some(v) => self.decode(key, v),
            None => Err(E::custom(format_args!(
                "{}: missing member '{key}'",
                self.type_name
            ))),
        }
    }

    /// Takes required member `key`, or its default when absent (for
    /// members marked absent-as-default at generation time).
    pub fn req_or_default<T: DeserializeOwned + Default>(&mut self, key: &str) -> Result<T, E> {
        match self.map.remove(key) {
            Some(v) => self.decode(key, v),
            None => Ok(T::default()),
        }
    }

    /// Takes optional member `key`.
    pub fn opt<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, E> {
        match self.map.remove(key) {
            Some(v) => self.decode(key, v).map(Some),
            None => Ok(None),
        }
    }

    /// Takes a union's discriminator `key` (a string).
    pub fn tag(&mut self, key: &str) -> Result<String, E> {
        match self.map.remove(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(E::custom(format_args!(
                "{}.{key}: expected a string, got {}",
                self.type_name,
                Kind::of(&other).name()
            ))),
            None => Err(E::custom(format_args!(
                "{}: missing discriminator '{key}'",
                self.type_name
            ))),
        }
    }

    /// The error for a discriminator value the union does not have.
    pub fn unknown_tag(&self, key: &str, value: &str) -> E {
        E::custom(format_args!(
            "{}.{key}: unknown value '{value}'",
            self.type_name
        ))
    }

    /// Decodes the members not taken yet as `T` (a union's branch).
    pub fn rest<T: DeserializeOwned>(self) -> Result<T, E> {
        let type_name = self.type_name;
        serde_json::from_value(Value::Object(self.map))
            .map_err(|e| E::custom(format_args!("{type_name}: {e}")))
    }

    /// Takes an event's `data` member as `T` (`{}` when absent).
    pub fn data<T: DeserializeOwned>(&mut self) -> Result<T, E> {
        let v = self
            .map
            .remove("data")
            .unwrap_or_else(|| Value::Object(Map::new()));
        self.decode("data", v)
    }
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

    fn object(json: &str) -> Object<serde_json::Error> {
        let mut d = serde_json::Deserializer::from_str(json);
        Object::read(&mut d, "T").expect("an object")
    }

    #[test]
    fn object_members() {
        let mut o = object(r#"{"a": 1, "b": "x", "t": "k", "extra": null}"#);
        assert_eq!(o.req::<i64>("a").expect("a"), 1);
        assert_eq!(o.opt::<String>("b").expect("b").as_deref(), Some("x"));
        assert_eq!(o.opt::<String>("c").expect("c"), None);
        assert!(!o.req_or_default::<bool>("s").expect("s"));
        assert_eq!(o.tag("t").expect("t"), "k");
        let e = o.req::<i64>("a").map(|_| ()).unwrap_err().to_string();
        assert_eq!(e, "T: missing member 'a'");
        let mut o = object(r#"{"a": "one"}"#);
        let e = o.req::<i64>("a").map(|_| ()).unwrap_err().to_string();
        assert!(e.starts_with("T.a: invalid type: string"), "{e}");
        let mut d = serde_json::Deserializer::from_str("[1]");
        let e = Object::<serde_json::Error>::read(&mut d, "T")
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.to_string(), "T: expected an object, got an array");
    }
}
