//! What the QEMU at the other end accepts: its `query-qmp-schema`, fetched
//! once and kept, asked with libvirt's schema queries, by command, or by
//! validating a command's arguments before they are sent.

use qapi_support::schema_query::{QueryError, SchemaIndex};
use qapi_support::Command;
use serde_json::Value;

use crate::client::ClientError;

/// The peer's schema, indexed once, and its version.
#[derive(Debug, Clone)]
pub struct Capabilities {
    index: SchemaIndex,
    version: String,
}

impl Capabilities {
    /// Capabilities from a `query-qmp-schema` reply (`{"return": [...]}`
    /// or the list) and the peer's version, for messages (`7.2.0`).
    pub fn new(reply: Value, version: impl Into<String>) -> Result<Capabilities, QueryError> {
        Ok(Capabilities {
            index: SchemaIndex::new(reply)?,
            version: version.into(),
        })
    }

    /// The peer's QEMU version as its greeting gave it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The peer's schema, indexed.
    pub fn schema(&self) -> &SchemaIndex {
        &self.index
    }

    /// A libvirt schema query (`blockdev-add/arg-type/+file/aio/^io_uring`).
    pub fn query(&self, query: &str) -> Result<bool, QueryError> {
        self.index.query(query)
    }

    /// Whether the peer has command `name`.
    pub fn has_command(&self, name: &str) -> bool {
        self.index
            .entity(name)
            .is_some_and(|e| e.get("meta-type").and_then(Value::as_str) == Some("command"))
    }

    /// Whether the peer has event `name`.
    pub fn has_event(&self, name: &str) -> bool {
        self.index
            .entity(name)
            .is_some_and(|e| e.get("meta-type").and_then(Value::as_str) == Some("event"))
    }

    /// libvirt's validation: `value` against the type at `path`
    /// (`blockdev-add/arg-type`).
    pub fn validate(&self, path: &str, value: &Value) -> Result<(), QueryError> {
        self.index.validate(path, value)
    }

    /// Whether the peer accepts `command` as it stands: the command exists,
    /// and every member, branch and enum value in its arguments is one the
    /// peer's schema has, with every member the peer requires.
    pub fn check<C: Command>(&self, command: &C) -> Result<(), ClientError> {
        let args = serde_json::to_value(command).map_err(|e| ClientError::Encode {
            command: C::NAME.into(),
            error: e.to_string(),
        })?;
        self.check_json(C::NAME, &args)
    }

    /// [`Capabilities::check`] for a command given by name and JSON
    /// arguments (`null` or an object).
    pub fn check_json(&self, command: &str, args: &Value) -> Result<(), ClientError> {
        let unsupported = |error: String| ClientError::Unsupported {
            command: command.to_string(),
            error,
            peer_version: self.version.clone(),
        };
        if !self.has_command(command) {
            return Err(unsupported(format!(
                "QEMU {} has no command '{command}'",
                self.version
            )));
        }
        let args = match args {
            Value::Null => Value::Object(Default::default()),
            other => other.clone(),
        };
        self.validate(&format!("{command}/arg-type"), &args)
            .map_err(|e| unsupported(format!("QEMU {} does not accept it: {e}", self.version)))
    }
}

/// `major.minor.micro` from a greeting's `version` (a `VersionInfo`).
pub(crate) fn version_of(version: &Value) -> String {
    let q = &version["qemu"];
    match (
        q["major"].as_u64(),
        q["minor"].as_u64(),
        q["micro"].as_u64(),
    ) {
        (Some(a), Some(b), Some(c)) => format!("{a}.{b}.{c}"),
        _ => "(unknown version)".to_string(),
    }
}
