//! What a client does on its channel, without I/O: which bytes to send
//! for a command or a synchronization, what to wait for, and what the
//! outcome means (when the channel needs a sync, when a missing reply is
//! success).  The async and blocking clients only move bytes and keep
//! time; every decision is made here, once.

use std::time::Duration;

use qapi_support::Command;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::GaError;
use crate::wire::{self, Inbox, Raw, Reply, Synced};
use qapi_support::error::quote;

/// A command's timeout unless the client is told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How much a client reads from the channel at once.
pub const READ_CHUNK: usize = 256 << 10;

/// What a client waits for after sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Await {
    /// The reply to request `id`.
    Reply(u64),
    /// The end of a synchronization, watching for the reply to a request
    /// that sends nothing on success.
    Sync {
        /// The id the agent must echo.
        sync_id: u32,
        /// The request whose error may come first.
        watch: Option<u64>,
    },
}

/// What arrived.
#[derive(Debug)]
pub enum Got {
    /// The reply waited for.
    Reply(Reply),
    /// The synchronization ended.
    Synced(Synced),
}

/// One channel's state: unread bytes, whether it is synchronized, the
/// next request id.
#[derive(Debug, Default)]
pub struct Channel {
    inbox: Inbox,
    synced: bool,
    next_id: u64,
}

impl Channel {
    /// A new channel: not synchronized.
    pub fn new() -> Self {
        Channel {
            next_id: 1,
            ..Default::default()
        }
    }

    /// Whether the next command may be sent without a sync first.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// The channel may hold something stale: sync before the next
    /// command.
    pub fn unsynced(&mut self) {
        self.synced = false;
    }

    /// The stream was replaced by a new connection.
    pub fn reconnected(&mut self) {
        self.inbox.clear();
        self.synced = false;
    }

    /// Bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.inbox.push(bytes);
    }

    /// Where to read the next bytes from the stream into; then call
    /// [`Channel::filled`].
    pub fn space(&mut self) -> &mut [u8] {
        self.inbox.space(READ_CHUNK)
    }

    /// `n` bytes were read into [`Channel::space`].
    pub fn filled(&mut self, n: usize) {
        self.inbox.filled(n);
    }

    /// The bytes of a synchronization and what to wait for.
    pub fn sync_request(&mut self) -> (Vec<u8>, Await) {
        let sync_id = wire::random_id();
        (
            wire::sync_request(sync_id),
            Await::Sync {
                sync_id,
                watch: None,
            },
        )
    }

    /// The bytes of a request and what to wait for.  A command that sends
    /// nothing on success is followed by a synchronization, whose reply
    /// tells that the command was taken without error.
    pub fn request(
        &mut self,
        command: &str,
        arguments: Option<&RawValue>,
        success_response: bool,
    ) -> (Vec<u8>, Await) {
        let id = self.next_id;
        self.next_id += 1;
        let mut line = wire::request_line(command, arguments, Some(id));
        if success_response {
            return (line, Await::Reply(id));
        }
        self.synced = false;
        let sync_id = wire::random_id();
        line.extend(wire::sync_request(sync_id));
        (
            line,
            Await::Sync {
                sync_id,
                watch: Some(id),
            },
        )
    }

    /// What the unread bytes hold of what `wait` waits for.  A reply line
    /// over the size limit is an error, and the unread bytes are dropped
    /// (the next command synchronizes past the rest).
    pub fn poll(&mut self, wait: Await) -> Result<Option<Got>, GaError> {
        let r = match wait {
            Await::Reply(id) => self.inbox.reply(id).map(|r| r.map(Got::Reply)),
            Await::Sync { sync_id, watch } => self
                .inbox
                .synced(sync_id, watch)
                .map(|r| r.map(Got::Synced)),
        };
        if r.is_err() {
            self.inbox.clear();
            self.synced = false;
        }
        r
    }

    /// The result of `command`, from what its wait ended with.
    pub fn outcome(
        &mut self,
        command: &str,
        wait: Await,
        got: Result<Got, GaError>,
    ) -> Result<Raw, GaError> {
        let agent = |error| GaError::Agent {
            command: command.into(),
            error,
        };
        match (wait, got) {
            (_, Ok(Got::Reply(Ok(v)))) => Ok(v),
            (_, Ok(Got::Reply(Err(e)))) => Err(agent(e)),
            (_, Ok(Got::Synced(Synced::Done))) => {
                self.synced = true;
                Ok(empty())
            }
            (_, Ok(Got::Synced(Synced::Watched(Ok(v))))) => Ok(v),
            (_, Ok(Got::Synced(Synced::Watched(Err(e))))) => Err(agent(e)),
            // No error came back before the agent went quiet or away: the
            // command was taken (a shutdown takes the agent with it).
            (Await::Sync { .. }, Err(GaError::Timeout { .. } | GaError::Disconnected { .. })) => {
                Ok(empty())
            }
            (_, Err(GaError::Timeout { after, .. })) => {
                // The late reply must not be taken for the next command's.
                self.synced = false;
                Err(GaError::Timeout {
                    command: command.into(),
                    after,
                })
            }
            (_, Err(GaError::Disconnected { .. })) => Err(GaError::Disconnected {
                command: Some(command.into()),
            }),
            (_, Err(e)) => Err(e),
        }
    }

    /// The result of a synchronization.
    pub fn sync_outcome(&mut self, got: Result<Got, GaError>) -> Result<(), GaError> {
        match got {
            Ok(Got::Synced(Synced::Done)) => {
                self.synced = true;
                Ok(())
            }
            Ok(other) => Err(GaError::Protocol(format!(
                "unexpected reply while synchronizing: {other:?}"
            ))),
            Err(GaError::Timeout { after, .. }) => Err(GaError::Timeout {
                command: "guest-sync-delimited".into(),
                after,
            }),
            Err(e) => Err(e),
        }
    }
}

/// The timeout error before the command is known.
pub fn timed_out(after: Duration) -> GaError {
    GaError::Timeout {
        command: String::new(),
        after,
    }
}

/// A generated command's arguments, encoded.
pub fn encode<C: Command>(command: &C) -> Result<Raw, GaError> {
    serde_json::value::to_raw_value(command).map_err(|e| GaError::Encode {
        command: C::NAME.into(),
        error: e.to_string(),
    })
}

/// Arguments given as a JSON value, encoded.
pub fn encode_value(command: &str, arguments: Option<&Value>) -> Result<Option<Raw>, GaError> {
    arguments
        .map(|a| {
            serde_json::value::to_raw_value(a).map_err(|e| GaError::Encode {
                command: command.into(),
                error: e.to_string(),
            })
        })
        .transpose()
}

/// A reply decoded into `C`'s return type.
pub fn decode<C: Command>(raw: &RawValue) -> Result<C::Returns, GaError> {
    serde_json::from_str(raw.get()).map_err(|e| GaError::Decode {
        command: C::NAME.into(),
        error: e.to_string(),
        json: quote(raw.get()),
    })
}

/// A reply as a JSON value.
pub fn to_value(raw: &RawValue) -> Result<Value, GaError> {
    serde_json::from_str(raw.get())
        .map_err(|e| GaError::Protocol(format!("reply is not JSON: {e}: {}", quote(raw.get()))))
}

/// `{}`: what a command that sends nothing on success returns.
fn empty() -> Raw {
    // "{}" is valid JSON.
    RawValue::from_string("{}".into()).unwrap_or_else(|_| unreachable!())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qapi_support::{ErrorClass, QmpError};

    fn sync_reply(wait: Await) -> Vec<u8> {
        let Await::Sync { sync_id, .. } = wait else {
            panic!("not a sync")
        };
        let mut v = vec![wire::SENTINEL];
        v.extend(format!("{{\"return\": {sync_id}}}\n").as_bytes());
        v
    }

    #[test]
    fn a_sync_then_a_command() {
        let mut ch = Channel::new();
        assert!(!ch.is_synced());
        let (bytes, wait) = ch.sync_request();
        assert_eq!(bytes[0], wire::SENTINEL);
        // Stale output first, then the sync reply.
        ch.push(b"{\"return\": {}, \"id\": 99}\n");
        ch.push(&sync_reply(wait));
        let got = ch.poll(wait).unwrap();
        ch.sync_outcome(got.ok_or_else(|| timed_out(Duration::ZERO)))
            .unwrap();
        assert!(ch.is_synced());

        let (line, wait) = ch.request("guest-ping", None, true);
        assert_eq!(line, b"{\"execute\":\"guest-ping\",\"id\":1}\n");
        assert!(ch.poll(wait).unwrap().is_none());
        ch.push(b"{\"return\": {}, \"id\": 1}\n");
        let got = ch.poll(wait).unwrap().unwrap();
        assert_eq!(ch.outcome("guest-ping", wait, Ok(got)).unwrap().get(), "{}");
    }

    #[test]
    fn a_timeout_unsyncs_and_names_the_command() {
        let mut ch = Channel::new();
        ch.synced = true;
        let (_, wait) = ch.request("guest-info", None, true);
        let e = ch
            .outcome("guest-info", wait, Err(timed_out(Duration::from_millis(5))))
            .unwrap_err();
        assert!(matches!(e, GaError::Timeout { ref command, .. } if command == "guest-info"));
        assert!(!ch.is_synced());
    }

    #[test]
    fn commands_without_a_reply() {
        let mut ch = Channel::new();
        ch.synced = true;
        // Taken: the sync answers.
        let (bytes, wait) = ch.request("guest-shutdown", None, false);
        assert!(bytes.contains(&wire::SENTINEL));
        assert!(!ch.is_synced());
        ch.push(&sync_reply(wait));
        let got = ch.poll(wait).unwrap().unwrap();
        assert!(ch.outcome("guest-shutdown", wait, Ok(got)).is_ok());
        assert!(ch.is_synced());

        // Refused: the error comes before the sync reply.
        let (_, wait) = ch.request("guest-shutdown", None, false);
        let Await::Sync {
            watch: Some(id), ..
        } = wait
        else {
            panic!()
        };
        ch.push(
            format!(
                "{{\"id\": {id}, \"error\": {{\"class\": \"GenericError\", \"desc\": \"disabled\"}}}}\n"
            )
            .as_bytes(),
        );
        let got = ch.poll(wait).unwrap().unwrap();
        let e = ch.outcome("guest-shutdown", wait, Ok(got)).unwrap_err();
        assert_eq!(
            e.agent_error(),
            Some(&QmpError {
                class: ErrorClass::GenericError,
                desc: "disabled".into()
            })
        );

        // The agent went away: taken.
        let (_, wait) = ch.request("guest-shutdown", None, false);
        let gone = Err(GaError::Disconnected { command: None });
        assert!(ch.outcome("guest-shutdown", wait, gone).is_ok());
        assert!(!ch.is_synced());
    }

    #[test]
    fn an_overlong_line_drops_the_unread_bytes() {
        let mut ch = Channel::new();
        ch.synced = true;
        let (_, wait) = ch.request("guest-info", None, true);
        ch.push(&vec![b'x'; wire::MAX_LINE + 1]);
        assert!(ch.poll(wait).is_err());
        assert!(!ch.is_synced());
        assert!(ch.poll(wait).unwrap().is_none());
    }
}
