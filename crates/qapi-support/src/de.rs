//! Helpers for the hand-written `Deserialize` of alternates: QEMU picks an
//! alternate's branch by the JSON type of the value, not by trying each
//! branch in turn, and so do we.

use serde::de::DeserializeOwned;
use serde_json::Value;

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
}
