//! What can go wrong talking to a guest agent.

use std::fmt;
use std::io;
use std::time::Duration;

use qapi_support::QmpError;

/// What went wrong talking to a guest agent.
#[derive(Debug)]
pub enum GaError {
    /// Connecting, reading or writing failed.
    Io(io::Error),
    /// The agent answered the command with an error (a command it lacks
    /// is class `CommandNotFound`; one blocked with qemu-ga's `-b`, or
    /// failing, is `GenericError`).
    Agent {
        /// The command.
        command: String,
        /// The agent's error: class and description.
        error: QmpError,
    },
    /// No reply within the command's timeout.  The channel is
    /// re-synchronized before the next command, so a late reply is
    /// skipped, never taken for another command's.
    Timeout {
        /// The command.
        command: String,
        /// How long the client waited.
        after: Duration,
    },
    /// The reply arrived but does not decode into the command's return
    /// type.
    Decode {
        /// The command.
        command: String,
        /// Which member failed and why.
        error: String,
        /// The `return` value that arrived (cut at 2 KiB).
        json: String,
    },
    /// The arguments could not be encoded.
    Encode {
        /// The command.
        command: String,
        /// Why.
        error: String,
    },
    /// The agent sent something that is not a reply (a reply line over
    /// the size limit, or a reply that is neither `return` nor `error`).
    Protocol(String),
    /// The channel closed (and, for a client that can reconnect, could
    /// not be opened again).
    Disconnected {
        /// The command waiting, if any.
        command: Option<String>,
    },
    /// One step of a helper ([`crate::GaClient::read_file`],
    /// [`crate::GaClient::exec`], ...) failed: which step, on which path
    /// or program, and why.
    Step {
        /// What the helper was doing.
        step: Step,
        /// The guest path (file helpers) or program (exec).
        path: String,
        /// The failure.
        source: Box<GaError>,
    },
}

/// A step of a helper, for [`GaError::Step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `guest-file-open`.
    Open,
    /// `guest-file-read`.
    Read,
    /// `guest-file-write`.
    Write,
    /// `guest-file-close`.
    Close,
    /// `guest-exec`.
    Start,
    /// `guest-exec-status`.
    Wait,
    /// Decoding the agent's base64 data.
    DecodeData,
}

impl Step {
    /// What the step does, for messages ("reading").
    pub fn doing(self) -> &'static str {
        match self {
            Step::Open => "opening",
            Step::Read => "reading",
            Step::Write => "writing",
            Step::Close => "closing",
            Step::Start => "starting",
            Step::Wait => "waiting for",
            Step::DecodeData => "decoding the data of",
        }
    }
}

impl fmt::Display for GaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GaError::Io(e) => write!(f, "guest agent connection: {e}"),
            GaError::Agent { command, error } => {
                write!(f, "{command}: {:?}: {}", error.class, error.desc)
            }
            GaError::Timeout { command, after } => {
                write!(f, "{command}: no reply within {} ms", after.as_millis())
            }
            GaError::Decode {
                command,
                error,
                json,
            } => write!(
                f,
                "{command}: reply does not decode: {error}; reply was {json}"
            ),
            GaError::Encode { command, error } => {
                write!(f, "{command}: arguments do not encode: {error}")
            }
            GaError::Protocol(s) => write!(f, "guest agent protocol error: {s}"),
            GaError::Disconnected { command: Some(c) } => {
                write!(f, "{c}: the agent's channel closed before the reply")
            }
            GaError::Disconnected { command: None } => {
                write!(f, "the agent's channel is closed")
            }
            GaError::Step { step, path, source } => {
                write!(f, "{} {path} in the guest: {source}", step.doing())
            }
        }
    }
}

impl std::error::Error for GaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GaError::Io(e) => Some(e),
            GaError::Agent { error, .. } => Some(error),
            GaError::Step { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<io::Error> for GaError {
    fn from(e: io::Error) -> Self {
        GaError::Io(e)
    }
}

impl GaError {
    /// The agent's error, when the agent answered with one (looking
    /// through [`GaError::Step`]).
    pub fn agent_error(&self) -> Option<&QmpError> {
        match self {
            GaError::Agent { error, .. } => Some(error),
            GaError::Step { source, .. } => source.agent_error(),
            _ => None,
        }
    }

    /// Whether the channel should be dropped: it failed or closed.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(self, GaError::Io(_) | GaError::Disconnected { .. })
    }
}
