//! A QMP server and a typed QMP client on tokio, behaving like QEMU
//! 10.0.2's QMP monitor.
//!
//! * [`Server`] speaks QMP over UNIX sockets and loopback TCP to any
//!   number of clients: QEMU's greeting, capabilities negotiation, request
//!   checks and error texts, JSON framing and limits, out-of-band
//!   execution, events ([`EventSender`]) and a clean [`Server::shutdown`].
//!   It runs commands through a [`Service`]; [`from_dispatch`] makes one of
//!   generated bindings (`COMMANDS` and `dispatch`).
//! * [`Client`] talks to our server or to a real QEMU: it reads the
//!   greeting, negotiates, runs generated commands with typed replies
//!   ([`Client::execute`]) or raw JSON, and streams events.
//! * [`blocking::Client`] is the same client on std sockets, for programs
//!   without an async runtime.
//! * With [`ServerConfig::guest_agent`], the server speaks the guest
//!   agent's protocol instead: a fake `qemu-ga` for tests of management
//!   code, made of a handler of generated guest-agent bindings.
//! * [`Session`] is the server's protocol without I/O (bytes in, bytes
//!   out), for tests, fuzzing and other transports; [`json`] is QEMU's JSON
//!   reader and writer.
//!
//! What the server writes is what QEMU writes, byte for byte: `": "` and
//! `", "` separators, `\r\n` after every message, non-ASCII as `\uXXXX`,
//! doubles as `%.17g` and object members in QEMU's hash order, members of
//! one hash bucket last-inserted first as a `QDict` iterates them.  That
//! takes the insertion order of each `serde_json::Map`, which
//! `qapi-support` keeps (serde_json's `preserve_order`): a request's
//! arguments keep their order through decoding, and a reply's members
//! come in the order the generated types serialize them, which is the
//! schema's, as QEMU's output visitor adds them.

#![warn(missing_docs)]

pub mod blocking;
mod capabilities;
mod client;
pub mod json;
mod server;
mod service;
mod session;

pub use capabilities::Capabilities;
pub use client::{Client, ClientError, Event, EventStream, Greeting};
pub use json::Limits;
pub use server::{EventSender, Server};
pub use service::{from_dispatch, DispatchService, Service};
pub use session::{
    event_line, is_oob, response, version_info, ConnState, Protocol, ServerConfig, Session,
};
