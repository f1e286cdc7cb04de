//! The QMP protocol without I/O: what QEMU's `monitor/qmp.c` and
//! `qapi/qmp-dispatch.c` do with each message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use qapi_support::input as qi;
use qapi_support::{CommandMeta, ErrorClass, QmpError, Timestamp};
use serde_json::{Map, Value};

use crate::json::{self, Json, Limits, Message, Streamer};
use crate::service::Service;

/// Which protocol a server speaks on its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// QMP, as QEMU's monitor speaks it: a greeting, capabilities
    /// negotiation, `\r\n` after every message.
    #[default]
    Qmp,
    /// The guest agent's (`qemu-ga`): no greeting and no negotiation,
    /// `\n` after every message; the server itself answers `guest-sync`
    /// and `guest-sync-delimited` (the latter after a `0xFF` byte), so a
    /// fake agent made of a handler synchronizes like the real one.
    GuestAgent,
}

/// How a server presents itself.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// QMP, or the guest agent's protocol (a fake agent for tests).
    pub protocol: Protocol,
    /// The greeting's `version` (a `VersionInfo`): see [`version_info`].
    pub version: Value,
    /// Whether the `oob` capability is offered (QEMU offers it on socket
    /// monitors).
    pub offer_oob: bool,
    /// The JSON streamer's limits (QEMU's by default).
    pub limits: Limits,
    /// Run in-band commands on the connection's own task instead of
    /// tokio's blocking pool.  Saves a thread hand-off per request (tens
    /// of microseconds); only for services whose commands never block and
    /// finish quickly (default: off).
    pub inline_commands: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            protocol: Protocol::Qmp,
            version: version_info(10, 0, 2, ""),
            offer_oob: true,
            limits: Limits::default(),
            inline_commands: false,
        }
    }
}

impl ServerConfig {
    /// A guest agent's configuration: [`Protocol::GuestAgent`], no
    /// out-of-band execution (the agent has none).
    pub fn guest_agent() -> Self {
        ServerConfig {
            protocol: Protocol::GuestAgent,
            offer_oob: false,
            ..ServerConfig::default()
        }
    }
}

/// A `VersionInfo` value: `{"qemu": {"major": ..., ...}, "package": ...}`.
pub fn version_info(major: i64, minor: i64, micro: i64, package: &str) -> Value {
    serde_json::json!({
        "qemu": {"major": major, "minor": minor, "micro": micro},
        "package": package,
    })
}

/// The flags of `qmp_capabilities`, which the server runs itself.
const CAPABILITIES: CommandMeta = CommandMeta {
    name: "qmp_capabilities",
    allow_oob: false,
    allow_preconfig: true,
    success_response: true,
    deprecated: false,
};

/// The agent's synchronization commands, which a [`Protocol::GuestAgent`]
/// server answers itself.
const GUEST_SYNC: [&str; 2] = ["guest-sync-delimited", "guest-sync"];

static INT: qi::Type = qi::Type::Int(qi::Int::Int64);
static GUEST_SYNC_ARGS: qi::Object = qi::Object {
    members: &[qi::Member {
        name: "id",
        ty: &INT,
        optional: false,
    }],
    tag: None,
    cases: &[],
};

/// The byte the agent writes before its `guest-sync-delimited` reply.
const SENTINEL: u8 = 0xFF;

static QMP_CAPABILITY: qi::Enum = qi::Enum { values: &["oob"] };
static QMP_CAPABILITY_T: qi::Type = qi::Type::Enum(&QMP_CAPABILITY);
static CAPABILITY_LIST: qi::Type = qi::Type::List(&QMP_CAPABILITY_T);
static CAPABILITIES_ARGS: qi::Object = qi::Object {
    members: &[qi::Member {
        name: "enable",
        ty: &CAPABILITY_LIST,
        optional: true,
    }],
    tag: None,
    cases: &[],
};

/// One client's protocol state.
#[derive(Debug, Default)]
pub struct ConnState {
    negotiated: AtomicBool,
    oob: AtomicBool,
}

impl ConnState {
    /// A new connection's state: a guest agent needs no negotiation.
    pub fn new(protocol: Protocol) -> Self {
        let st = ConnState::default();
        st.negotiated
            .store(protocol == Protocol::GuestAgent, Ordering::Release);
        st
    }

    /// Whether `qmp_capabilities` has succeeded.
    pub fn negotiated(&self) -> bool {
        self.negotiated.load(Ordering::Acquire)
    }

    /// Whether out-of-band execution was enabled.
    pub fn oob(&self) -> bool {
        self.oob.load(Ordering::Acquire)
    }
}

/// The part of a server shared by all connections.
pub(crate) struct Core {
    pub(crate) service: Box<dyn Service>,
    pub(crate) config: ServerConfig,
}

/// Whether QEMU runs this message out of band: an object with `exec-oob`
/// and without `execute` (decided before any other check).
pub fn is_oob(msg: &Message) -> bool {
    matches!(msg, Ok(j @ Json::Dict(_)) if j.get("exec-oob").is_some() && j.get("execute").is_none())
}

/// Writes an object whose members are produced by closures, in QDict order
/// (members listed in QEMU's insertion order).
type Member<'a> = (&'a str, &'a dyn Fn(&mut Vec<u8>));

fn write_members(out: &mut Vec<u8>, members: &[Member<'_>]) {
    json::write_object(out, members, |(k, _)| k, |(_, f), o| f(o));
}

/// A response line: `{"return": ...}` or `{"error": ...}`, with the
/// request's `id`, terminated by `\r\n` as QEMU's monitor writes it.
pub fn response(result: &Result<Value, QmpError>, id: Option<&Json>) -> Vec<u8> {
    let mut out = Vec::new();
    match result {
        Ok(v) => {
            let mut ret = Vec::new();
            json::write_value(&mut ret, v);
            write_response(&mut out, Ok(&ret), id)
        }
        Err(e) => write_response(&mut out, Err(e), id),
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Appends the response object (no line end) for a reply already encoded
/// (by [`json::write_value`] or an equivalent writer).
fn write_response(out: &mut Vec<u8>, result: Result<&[u8], &QmpError>, id: Option<&Json>) {
    out.reserve(64 + result.map_or(0, <[u8]>::len));
    let write_id = |o: &mut Vec<u8>| {
        if let Some(id) = id {
            json::write_json(o, id)
        }
    };
    let id_member: Member<'_> = ("id", &write_id);
    match result {
        Ok(v) => {
            let ret = |o: &mut Vec<u8>| o.extend_from_slice(v);
            let mut m: Vec<Member<'_>> = vec![("return", &ret)];
            if id.is_some() {
                m.push(id_member);
            }
            write_members(out, &m);
        }
        Err(e) => {
            let err = |o: &mut Vec<u8>| {
                let class = |o: &mut Vec<u8>| json::write_str(o, class_name(e.class));
                let desc = |o: &mut Vec<u8>| json::write_str(o, &e.desc);
                write_members(o, &[("class", &class), ("desc", &desc)]);
            };
            let mut m: Vec<Member<'_>> = vec![("error", &err)];
            if id.is_some() {
                m.push(id_member);
            }
            write_members(out, &m);
        }
    }
}

fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::GenericError => "GenericError",
        ErrorClass::CommandNotFound => "CommandNotFound",
        ErrorClass::DeviceNotFound => "DeviceNotFound",
        ErrorClass::DeviceNotActive => "DeviceNotActive",
        ErrorClass::KVMMissingCap => "KVMMissingCap",
    }
}

/// An event line: `{"timestamp": ..., "event": NAME, "data": ...}`.
pub fn event_line(name: &str, data: Option<&Value>, ts: Timestamp) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    let timestamp = |o: &mut Vec<u8>| {
        let s = |o: &mut Vec<u8>| o.extend_from_slice(ts.seconds.to_string().as_bytes());
        let us = |o: &mut Vec<u8>| o.extend_from_slice(ts.microseconds.to_string().as_bytes());
        write_members(o, &[("seconds", &s), ("microseconds", &us)]);
    };
    let event = |o: &mut Vec<u8>| json::write_str(o, name);
    let data_w = |o: &mut Vec<u8>| {
        if let Some(d) = data {
            json::write_value(o, d)
        }
    };
    let mut m: Vec<Member<'_>> = vec![("timestamp", &timestamp), ("event", &event)];
    if data.is_some() {
        m.push(("data", &data_w));
    }
    write_members(&mut out, &m);
    out.extend_from_slice(b"\r\n");
    out
}

impl Core {
    /// The greeting line (none for a guest agent).
    pub(crate) fn greeting(&self) -> Vec<u8> {
        if self.config.protocol == Protocol::GuestAgent {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(160);
        let inner = |o: &mut Vec<u8>| {
            let version = |o: &mut Vec<u8>| json::write_value(o, &self.config.version);
            let caps = |o: &mut Vec<u8>| {
                o.extend_from_slice(if self.config.offer_oob {
                    b"[\"oob\"]"
                } else {
                    b"[]"
                })
            };
            write_members(o, &[("version", &version), ("capabilities", &caps)]);
        };
        write_members(&mut out, &[("QMP", &inner)]);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Handles one message; the response line, or `None` for a command
    /// without `success-response` that succeeded.
    pub(crate) fn handle(&self, st: &ConnState, msg: Message) -> Option<Vec<u8>> {
        let agent = self.config.protocol == Protocol::GuestAgent;
        // A guest agent ends lines with "\n" alone.
        let end: &[u8] = if agent { b"\n" } else { b"\r\n" };
        let mut line = Vec::new();
        let req = match msg {
            Ok(j) => j,
            Err(desc) => {
                write_response(&mut line, Err(&QmpError::generic(desc)), None);
                line.extend_from_slice(end);
                return Some(line);
            }
        };
        let (result, id, success_response) = self.dispatch(st, &req);
        let result = match result {
            // Before negotiation, every "not found" says what is expected.
            Err(e) if e.class == ErrorClass::CommandNotFound && !st.negotiated() => Err(QmpError {
                class: ErrorClass::CommandNotFound,
                desc: "Expecting capabilities negotiation with 'qmp_capabilities'".into(),
            }),
            r => r,
        };
        if result.is_ok() && !success_response {
            return None;
        }
        // The agent puts its sentinel before a successful
        // guest-sync-delimited reply.
        if agent
            && result.is_ok()
            && matches!(req.get("execute"), Some(Json::Str(c)) if c == GUEST_SYNC[0])
        {
            line.push(SENTINEL);
        }
        write_response(&mut line, result.as_deref(), id);
        line.extend_from_slice(end);
        Some(line)
    }

    fn dispatch<'r>(
        &self,
        st: &ConnState,
        req: &'r Json,
    ) -> (Result<Vec<u8>, QmpError>, Option<&'r Json>, bool) {
        let Json::Dict(members) = req else {
            return (
                Err(QmpError::generic("QMP input must be a JSON object")),
                None,
                true,
            );
        };
        let id = req.get("id");
        let fail = |desc: String| (Err(QmpError::generic(desc)), id, true);
        let allow_oob = st.oob();

        // The request's members, in the order QEMU's QDict iterates them.
        let mut exec_key: Option<&str> = None;
        for i in json::qdict_order(members.iter().map(|(k, _)| k.as_str())) {
            let (key, value) = &members[i];
            match key.as_str() {
                "execute" | "exec-oob" if key == "execute" || allow_oob => {
                    if !matches!(value, Json::Str(_)) {
                        return fail(format!("QMP input member '{key}' must be a string"));
                    }
                    if let Some(prev) = exec_key {
                        return fail(format!("QMP input member '{key}' clashes with '{prev}'"));
                    }
                    exec_key = Some(key);
                }
                "arguments" => {
                    if !matches!(value, Json::Dict(_)) {
                        return fail("QMP input member 'arguments' must be an object".into());
                    }
                }
                "id" => {}
                _ => return fail(format!("QMP input member '{key}' is unexpected")),
            }
        }
        let (command, oob) = match (req.get("execute"), req.get("exec-oob")) {
            (Some(Json::Str(c)), _) => (c.as_str(), false),
            (None, Some(Json::Str(c))) if exec_key.is_some() => (c.as_str(), true),
            _ => return fail("QMP input lacks member 'execute'".into()),
        };

        let agent = self.config.protocol == Protocol::GuestAgent;
        if agent && GUEST_SYNC.contains(&command) {
            return (guest_sync(req.get("arguments")), id, true);
        }
        let meta = if command == CAPABILITIES.name && !agent {
            Some(CAPABILITIES)
        } else if st.negotiated() {
            self.service.command(command)
        } else {
            None
        };
        let Some(meta) = meta else {
            return (Err(QmpError::command_not_found(command)), id, true);
        };
        if oob && !meta.allow_oob {
            return fail(format!("The command {command} does not support OOB"));
        }
        let arguments = match req.get("arguments") {
            Some(Json::Dict(_)) => match req.get("arguments").cloned().map(Json::into_value) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            },
            _ => Map::new(),
        };
        let result = if command == CAPABILITIES.name && !agent {
            self.capabilities(st, arguments).map(|v| {
                let mut out = Vec::new();
                json::write_value(&mut out, &v);
                out
            })
        } else {
            let mut out = Vec::new();
            self.service
                .execute_into(command, arguments, &mut out)
                .map(|()| out)
        };
        (result, id, meta.success_response)
    }

    /// `qmp_capabilities`, as `monitor/qmp-cmds-control.c` runs it.
    fn capabilities(
        &self,
        st: &ConnState,
        arguments: Map<String, Value>,
    ) -> Result<Value, QmpError> {
        let args = Value::Object(arguments);
        qi::check_arguments(&CAPABILITIES_ARGS, &args)?;
        if st.negotiated() {
            return Err(QmpError {
                class: ErrorClass::CommandNotFound,
                desc: "Capabilities negotiation is already complete, command ignored".into(),
            });
        }
        let enable: Vec<&str> = args
            .get("enable")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let unavailable: Vec<&str> = enable
            .iter()
            .copied()
            .filter(|c| !(*c == "oob" && self.config.offer_oob))
            .collect();
        if !unavailable.is_empty() {
            return Err(QmpError::generic(format!(
                "Capability {} not available",
                unavailable.join(", ")
            )));
        }
        st.oob.store(enable.contains(&"oob"), Ordering::Release);
        st.negotiated.store(true, Ordering::Release);
        Ok(Value::Object(Map::new()))
    }
}

/// `guest-sync` and `guest-sync-delimited`: the `id` argument echoed.
fn guest_sync(arguments: Option<&Json>) -> Result<Vec<u8>, QmpError> {
    let args = match arguments.cloned().map(Json::into_value) {
        Some(v) => v,
        None => Value::Object(Map::new()),
    };
    qi::check_arguments(&GUEST_SYNC_ARGS, &args)?;
    let mut out = Vec::new();
    json::write_value(&mut out, &args["id"]);
    Ok(out)
}

/// The protocol of one connection, synchronously: bytes in, bytes out.
/// Every message is handled as soon as it is complete (in-band and
/// out-of-band alike), so replies come in request order.  The server runs
/// the same code; this form is for tests, fuzzing and embedding in other
/// transports.
pub struct Session {
    core: Arc<Core>,
    state: ConnState,
    streamer: Streamer,
}

impl Session {
    /// A new connection to a server running `service`.
    pub fn new(service: impl Service, config: ServerConfig) -> Self {
        let streamer = Streamer::new(config.limits);
        let state = ConnState::new(config.protocol);
        Session {
            core: Arc::new(Core {
                service: Box::new(service),
                config,
            }),
            state,
            streamer,
        }
    }

    /// The greeting the server sends first.
    pub fn greeting(&self) -> Vec<u8> {
        self.core.greeting()
    }

    /// The connection's protocol state.
    pub fn state(&self) -> &ConnState {
        &self.state
    }

    /// Reads `bytes` and returns what the server writes back.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let core = &self.core;
        let state = &self.state;
        self.streamer.feed(bytes, &mut |msg| {
            if let Some(line) = core.handle(state, msg) {
                out.extend_from_slice(&line);
            }
        });
        out
    }
}
