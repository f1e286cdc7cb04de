//! QMP errors: `{"class": ..., "desc": ...}`.

use serde::{Deserialize, Serialize};

/// QEMU's error classes (`qapi/error.json`, `QapiErrorClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// An error as QMP puts it on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QmpError {
    /// The class.
    pub class: ErrorClass,
    /// The human-readable description.
    pub desc: String,
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
