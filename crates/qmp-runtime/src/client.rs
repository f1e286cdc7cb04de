//! A typed QMP client on tokio, for our server and for real QEMU.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use qapi_support::error::quote;
use qapi_support::{Command, EventMessage, QmpError, Timestamp};

use crate::capabilities::{version_of, Capabilities};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, ToSocketAddrs, UnixStream};
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

/// What went wrong talking to a QMP server.
#[derive(Debug)]
pub enum ClientError {
    /// The connection failed.
    Io(io::Error),
    /// The server's first message was not a QMP greeting.
    Greeting(String),
    /// The server answered the command with an error.
    Qmp {
        /// The command.
        command: String,
        /// QEMU's error: class and description.
        error: QmpError,
    },
    /// The reply arrived but does not decode into the command's return
    /// type.
    Decode {
        /// The command.
        command: String,
        /// Which member failed and why (generated types name the type
        /// and member: `TargetInfo.arch: ...`).
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
    /// The server sent something that is not QMP.
    Protocol(String),
    /// The connection closed before the reply came.
    Disconnected {
        /// The command waiting, if any.
        command: Option<String>,
    },
    /// Refused before sending: the peer's schema does not have the
    /// command, or a member, branch or enum value of its arguments (see
    /// [`Client::check_before_sending`]).
    Unsupported {
        /// The command.
        command: String,
        /// What the peer lacks, by name.
        error: String,
        /// The peer's QEMU version.
        peer_version: String,
    },
    /// The peer's `query-qmp-schema` reply could not be read.
    Schema(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "QMP connection: {e}"),
            ClientError::Greeting(s) => write!(f, "not a QMP greeting: {s}"),
            ClientError::Qmp { command, error } => {
                write!(f, "{command}: {:?}: {}", error.class, error.desc)
            }
            ClientError::Decode {
                command,
                error,
                json,
            } => {
                write!(
                    f,
                    "{command}: reply does not decode: {error}; reply was {json}"
                )
            }
            ClientError::Encode { command, error } => {
                write!(f, "{command}: arguments do not encode: {error}")
            }
            ClientError::Protocol(s) => write!(f, "QMP protocol error: {s}"),
            ClientError::Disconnected { command: Some(c) } => {
                write!(f, "{c}: connection closed before the reply")
            }
            ClientError::Disconnected { command: None } => write!(f, "connection closed"),
            ClientError::Unsupported { command, error, .. } => {
                write!(f, "{command}: not sent: {error}")
            }
            ClientError::Schema(s) => write!(f, "query-qmp-schema: {s}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Io(e) => Some(e),
            ClientError::Qmp { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// The server's greeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    /// `QMP.version` (a `VersionInfo`).
    pub version: Value,
    /// `QMP.capabilities` offered.
    pub capabilities: Vec<String>,
}

impl Greeting {
    /// The version decoded, e.g. into `qapi_types::VersionInfo`.
    pub fn version<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.version.clone())
    }
}

/// An event as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `event`: its name.
    pub name: String,
    /// `data`, when present.
    pub data: Option<Value>,
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// The whole message.
    pub raw: Value,
}

impl Event {
    /// Decodes the message into a generated `Event` enum.
    pub fn decode<E: qapi_support::Branches>(&self) -> Result<EventMessage<E>, serde_json::Error> {
        serde_json::from_value(self.raw.clone())
    }
}

/// The events a client receives from the moment it subscribed.
pub struct EventStream {
    rx: broadcast::Receiver<Event>,
    missed: u64,
}

impl EventStream {
    /// The next event; `None` once the connection is closed and all
    /// events are read.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            match self.rx.recv().await {
                Ok(e) => return Some(e),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Events dropped because this stream fell more than the buffer
    /// behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

type Reply = Result<Value, ClientError>;
type PendingMap = Arc<Mutex<Option<HashMap<u64, oneshot::Sender<Reply>>>>>;
/// The event channel; the reader drops it when the connection ends, which
/// ends every stream.
type EventSlot = Arc<Mutex<Option<broadcast::Sender<Event>>>>;

/// A QMP client connection.  Commands may be run concurrently from many
/// tasks (`&self`); replies are matched by `id`.
pub struct Client {
    writer: tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
    pending: PendingMap,
    events: EventSlot,
    greeting: Greeting,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
    /// The peer's schema, fetched on first use.
    capabilities: tokio::sync::OnceCell<Arc<Capabilities>>,
    /// Whether `execute` checks arguments against it first.
    check_first: AtomicBool,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Events buffered per subscriber before the oldest are dropped.
const EVENT_BUFFER: usize = 4096;

impl Client {
    /// Connects to a UNIX socket and reads the greeting.
    pub async fn connect_unix(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        let s = UnixStream::connect(path).await?;
        let (r, w) = s.into_split();
        Client::start(r, w).await
    }

    /// Connects over TCP and reads the greeting.
    pub async fn connect_tcp(addr: impl ToSocketAddrs) -> Result<Client, ClientError> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        Client::start(r, w).await
    }

    /// Talks over an already-connected stream.
    pub async fn from_stream<S>(stream: S) -> Result<Client, ClientError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(stream);
        Client::start(r, w).await
    }

    async fn start<R, W>(reader: R, writer: W) -> Result<Client, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let mut reader = BufReader::new(reader);
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(ClientError::Disconnected { command: None });
        }
        let greeting = parse_greeting(&line)?;
        let pending: PendingMap = Arc::new(Mutex::new(Some(HashMap::new())));
        let events: EventSlot = Arc::new(Mutex::new(Some(broadcast::channel(EVENT_BUFFER).0)));
        let task = tokio::spawn(read_loop(reader, pending.clone(), events.clone()));
        Ok(Client {
            writer: tokio::sync::Mutex::new(Box::new(writer)),
            pending,
            events,
            greeting,
            next_id: AtomicU64::new(1),
            reader: task,
            capabilities: tokio::sync::OnceCell::new(),
            check_first: AtomicBool::new(false),
        })
    }

    /// The greeting the server sent.
    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    /// Subscribes to events (those arriving from now on).
    pub fn events(&self) -> EventStream {
        let slot = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let rx = match slot.as_ref() {
            Some(tx) => tx.subscribe(),
            None => broadcast::channel(1).1, // closed: the stream ends at once
        };
        EventStream { rx, missed: 0 }
    }

    /// Completes capabilities negotiation, enabling nothing.
    pub async fn negotiate(&self) -> Result<(), ClientError> {
        self.execute_json("qmp_capabilities", None).await.map(drop)
    }

    /// Completes capabilities negotiation enabling out-of-band execution
    /// (an error if the server does not offer it).
    pub async fn negotiate_oob(&self) -> Result<(), ClientError> {
        let args = serde_json::json!({"enable": ["oob"]});
        self.execute_json("qmp_capabilities", Some(args))
            .await
            .map(drop)
    }

    /// What the peer accepts: its `query-qmp-schema`, fetched on the first
    /// call and kept for the connection.  Needs negotiation first.
    pub async fn capabilities(&self) -> Result<Arc<Capabilities>, ClientError> {
        self.capabilities
            .get_or_try_init(|| async {
                let reply = self.execute_json("query-qmp-schema", None).await?;
                let caps = Capabilities::new(reply, version_of(&self.greeting.version))
                    .map_err(|e| ClientError::Schema(e.to_string()))?;
                Ok(Arc::new(caps))
            })
            .await
            .cloned()
    }

    /// Makes [`Client::execute`] check each command against the peer's
    /// schema before sending it ([`Capabilities::check`]): a command, member,
    /// branch or enum value the peer lacks is refused with
    /// [`ClientError::Unsupported`], naming it and the peer's version.
    pub fn check_before_sending(&self, on: bool) {
        self.check_first.store(on, Ordering::Relaxed);
    }

    /// Checks `command` against the peer's schema, then runs it.
    pub async fn execute_checked<C: Command>(
        &self,
        command: &C,
    ) -> Result<C::Returns, ClientError> {
        self.capabilities().await?.check(command)?;
        self.execute_unchecked(command).await
    }

    /// Runs a generated command and decodes its reply (checked first when
    /// [`Client::check_before_sending`] is on).
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Returns, ClientError> {
        if self.check_first.load(Ordering::Relaxed) {
            return self.execute_checked(command).await;
        }
        self.execute_unchecked(command).await
    }

    async fn execute_unchecked<C: Command>(&self, command: &C) -> Result<C::Returns, ClientError> {
        let args = encode_arguments(command)?;
        if !C::SUCCESS_RESPONSE {
            // No reply comes on success; an error would arrive unmatched.
            self.send(C::NAME, args, false, None).await?;
            return decode_returns::<C>(Value::Object(Map::new()));
        }
        let ret = self.execute_json(C::NAME, args).await?;
        decode_returns::<C>(ret)
    }

    /// Runs `command` with `arguments` (an object, or `None`) and returns
    /// its `return` value.
    pub async fn execute_json(
        &self,
        command: &str,
        arguments: Option<Value>,
    ) -> Result<Value, ClientError> {
        self.call(command, arguments, false).await
    }

    /// Like [`Client::execute_json`], out of band (`exec-oob`; needs
    /// [`Client::negotiate_oob`]).
    pub async fn execute_oob_json(
        &self,
        command: &str,
        arguments: Option<Value>,
    ) -> Result<Value, ClientError> {
        self.call(command, arguments, true).await
    }

    async fn call(
        &self,
        command: &str,
        arguments: Option<Value>,
        oob: bool,
    ) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(command, arguments, oob, Some(tx)).await?;
        let reply = rx.await.map_err(|_| ClientError::Disconnected {
            command: Some(command.into()),
        })?;
        let reply = reply.map_err(|e| match e {
            ClientError::Disconnected { .. } => ClientError::Disconnected {
                command: Some(command.into()),
            },
            e => e,
        })?;
        reply_value(command, reply)
    }

    async fn send(
        &self,
        command: &str,
        arguments: Option<Value>,
        oob: bool,
        reply: Option<oneshot::Sender<Reply>>,
    ) -> Result<(), ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let line = request_line(command, arguments, oob, reply.is_some().then_some(id))?;
        if let Some(tx) = reply {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            match p.as_mut() {
                Some(map) => {
                    map.insert(id, tx);
                }
                None => {
                    return Err(ClientError::Disconnected {
                        command: Some(command.into()),
                    })
                }
            }
        }
        let mut w = self.writer.lock().await;
        let r = async {
            w.write_all(&line).await?;
            w.flush().await
        }
        .await;
        if let Err(e) = r {
            if let Some(map) = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
            {
                map.remove(&id);
            }
            return Err(ClientError::Io(e));
        }
        Ok(())
    }
}

use serde::Deserialize as _;

async fn read_loop<R: AsyncRead + Unpin>(
    mut reader: BufReader<R>,
    pending: PendingMap,
    events: EventSlot,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        let v = match event_of(v) {
            Ok(event) => {
                if let Some(tx) = events.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    let _ = tx.send(event);
                }
                continue;
            }
            Err(v) => v,
        };
        let Some(id) = v.get("id").and_then(Value::as_u64) else {
            continue; // not ours: we always send numeric ids
        };
        let tx = pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
            .and_then(|m| m.remove(&id));
        if let Some(tx) = tx {
            let _ = tx.send(Ok(v));
        }
    }
    events.lock().unwrap_or_else(|e| e.into_inner()).take();
    let left = pending.lock().unwrap_or_else(|e| e.into_inner()).take();
    for (_, tx) in left.into_iter().flatten() {
        let _ = tx.send(Err(ClientError::Disconnected { command: None }));
    }
}

// The protocol steps both clients share (this one and
// [`crate::blocking::Client`]).

/// Reads the greeting line.
pub(crate) fn parse_greeting(line: &[u8]) -> Result<Greeting, ClientError> {
    let text = String::from_utf8_lossy(line);
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| ClientError::Greeting(format!("{e}: {}", quote(text.trim_end()))))?;
    let qmp = v
        .get("QMP")
        .ok_or_else(|| ClientError::Greeting(quote(text.trim_end())))?;
    Ok(Greeting {
        version: qmp.get("version").cloned().unwrap_or(Value::Null),
        capabilities: qmp
            .get("capabilities")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// A request line (with `\n`); `id` is left out for a command that
/// sends no reply.
pub(crate) fn request_line(
    command: &str,
    arguments: Option<Value>,
    oob: bool,
    id: Option<u64>,
) -> Result<Vec<u8>, ClientError> {
    let mut req = Map::new();
    req.insert(
        (if oob { "exec-oob" } else { "execute" }).into(),
        command.into(),
    );
    if let Some(a) = arguments {
        req.insert("arguments".into(), a);
    }
    if let Some(id) = id {
        req.insert("id".into(), id.into());
    }
    let mut line = serde_json::to_vec(&Value::Object(req)).map_err(|e| ClientError::Encode {
        command: command.into(),
        error: e.to_string(),
    })?;
    line.push(b'\n');
    Ok(line)
}

/// A generated command's arguments (`None` when it has none).
pub(crate) fn encode_arguments<C: Command>(command: &C) -> Result<Option<Value>, ClientError> {
    let args = serde_json::to_value(command).map_err(|e| ClientError::Encode {
        command: C::NAME.into(),
        error: e.to_string(),
    })?;
    Ok(match args {
        Value::Object(m) if m.is_empty() => None,
        Value::Null => None,
        other => Some(other),
    })
}

/// A `return` value decoded into `C`'s return type.
pub(crate) fn decode_returns<C: Command>(ret: Value) -> Result<C::Returns, ClientError> {
    C::Returns::deserialize(&ret).map_err(|e| ClientError::Decode {
        command: C::NAME.into(),
        error: e.to_string(),
        json: quote(&ret.to_string()),
    })
}

/// A reply's `return` value, or its error.
pub(crate) fn reply_value(command: &str, mut reply: Value) -> Result<Value, ClientError> {
    if let Some(ret) = reply.get_mut("return") {
        return Ok(ret.take());
    }
    if let Some(err) = reply.get("error") {
        let error: QmpError = serde_json::from_value(err.clone()).map_err(|e| {
            ClientError::Protocol(format!(
                "{command}: malformed error {}: {e}",
                quote(&err.to_string())
            ))
        })?;
        return Err(ClientError::Qmp {
            command: command.into(),
            error,
        });
    }
    Err(ClientError::Protocol(format!(
        "{command}: reply has neither 'return' nor 'error': {}",
        quote(&reply.to_string())
    )))
}

/// The message as an event, or back when it is not one.
pub(crate) fn event_of(v: Value) -> Result<Event, Value> {
    let Some(name) = v.get("event").and_then(Value::as_str) else {
        return Err(v);
    };
    let timestamp = v
        .get("timestamp")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    Ok(Event {
        name: name.to_string(),
        data: v.get("data").cloned(),
        timestamp,
        raw: v,
    })
}
