//! QMP errors: `{"class": ..., "desc": ...}`.

use crate::de::Reader;
use crate::members::Members;
use crate::ser::Writer;

/// QEMU's error classes (`qapi/error.json`, `QapiErrorClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Almost every error.
    GenericError,
    /// The requested command has not been found.
    CommandNotFound,
    /// The requested device has not been found.
    DeviceNotFound,
    /// The requested device is not active.
    DeviceNotActive,
    /// KVM is not enabled.
    KVMMissingCap,
}

impl ErrorClass {
    /// Every class, in `QapiErrorClass` order.
    pub const ALL: &'static [ErrorClass] = &[
        ErrorClass::GenericError,
        ErrorClass::CommandNotFound,
        ErrorClass::DeviceNotFound,
        ErrorClass::DeviceNotActive,
        ErrorClass::KVMMissingCap,
    ];

    /// The class as it is on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
            ErrorClass::DeviceNotActive => "DeviceNotActive",
            ErrorClass::KVMMissingCap => "KVMMissingCap",
        }
    }
}

impl std::str::FromStr for ErrorClass {
    type Err = crate::UnknownValue;

    fn from_str(s: &str) -> Result<Self, crate::UnknownValue> {
        crate::from_name(s, "QapiErrorClass", Self::ALL, |c| c.as_str())
    }
}

// serde's derives are left out of this crate, so that a generated
// package builds without `serde_derive` and its `syn`.
impl serde::Serialize for ErrorClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorClass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::de::parse_str(d)
    }
}

/// An error as QMP puts it on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QmpError {
    /// The class.
    pub class: ErrorClass,
    /// The human-readable description.
    pub desc: String,
}

impl Members for QmpError {
    fn write(&self, w: &mut Writer<'_>) {
        w.req("class", &self.class);
        w.req("desc", &self.desc);
    }

    fn read(r: &mut Reader) -> Option<Self> {
        match (r.req("class"), r.req("desc")) {
            (Some(class), Some(desc)) => Some(QmpError { class, desc }),
            _ => None,
        }
    }
}

impl serde::Serialize for QmpError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::ser::serialize(self, s)
    }
}

impl<'de> serde::Deserialize<'de> for QmpError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::de::deserialize(d, "QmpError")
    }
}

impl QmpError {
    /// A `GenericError` with this text.
    pub fn generic(desc: impl Into<String>) -> Self {
        QmpError {
            class: ErrorClass::GenericError,
            desc: desc.into(),
        }
    }
}

impl QmpError {
    /// QEMU's reply to an unknown (or not compiled-in) command.
    pub fn command_not_found(command: &str) -> Self {
        QmpError {
            class: ErrorClass::CommandNotFound,
            desc: format!("The command {command} has not been found"),
        }
    }
}

impl std::fmt::Display for QmpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.desc)
    }
}

impl std::error::Error for QmpError {}

/// How much of an offending JSON text a client error quotes.
pub const QUOTE_MAX: usize = 2048;

/// `text` for an error message: whole up to [`QUOTE_MAX`] bytes, else cut
/// there (at a character boundary) with its length said.
pub fn quote(text: &str) -> String {
    if text.len() <= QUOTE_MAX {
        return text.to_string();
    }
    let mut end = QUOTE_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_on_the_wire() {
        for class in ErrorClass::ALL {
            let e = QmpError {
                class: *class,
                desc: "d".into(),
            };
            let text = serde_json::to_string(&e).expect("encodes");
            assert_eq!(
                text,
                format!(r#"{{"class":"{}","desc":"d"}}"#, class.as_str())
            );
            let back: QmpError = serde_json::from_str(&text).expect("decodes");
            assert_eq!(back, e);
        }
        let bad = serde_json::from_str::<QmpError>(r#"{"class":"Nope","desc":"d"}"#);
        let e = bad.map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("'Nope' is not a value of QapiErrorClass"), "{e}");
    }

    #[test]
    fn quotes_are_cut_at_a_character_boundary() {
        assert_eq!(quote("short"), "short");
        let long = "é".repeat(QUOTE_MAX);
        let q = quote(&long);
        assert!(q.ends_with(&format!("... ({} bytes)", long.len())));
        assert_eq!(
            q.len(),
            QUOTE_MAX + format!("... ({} bytes)", long.len()).len()
        );
    }
}
