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
