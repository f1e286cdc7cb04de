//! A blocking QMP client on std sockets, for tools and scripts that do
//! not run an async runtime: the same greeting, negotiation, typed
//! [`Client::execute`] and errors as [`crate::Client`], one command at a
//! time.  Events that arrive while a command waits are kept for
//! [`Client::take_events`].

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use qapi_support::Command;
use serde_json::{Map, Value};

use crate::client::{
    decode_returns, encode_arguments, event_of, parse_greeting, reply_value, request_line,
};
use crate::{ClientError, Event, Greeting};

/// Events kept before the oldest are dropped.
const EVENTS_KEPT: usize = 4096;

/// A stream the client can talk over.
trait Stream: std::io::Read + Write + Send {
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
}

impl Stream for UnixStream {
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        UnixStream::set_read_timeout(self, t)
    }
}

impl Stream for TcpStream {
    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        TcpStream::set_read_timeout(self, t)
    }
}

/// A blocking QMP client connection.
pub struct Client {
    io: BufReader<Box<dyn Stream>>,
    greeting: Greeting,
    next_id: u64,
    events: VecDeque<Event>,
    missed: u64,
    timeout: Option<Duration>,
}

impl Client {
    /// Connects to a UNIX socket and reads the greeting.
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<Client, ClientError> {
        Client::start(Box::new(UnixStream::connect(path)?))
    }

    /// Connects over TCP and reads the greeting.
    pub fn connect_tcp(addr: impl ToSocketAddrs) -> Result<Client, ClientError> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Client::start(Box::new(s))
    }

    fn start(stream: Box<dyn Stream>) -> Result<Client, ClientError> {
        let mut io = BufReader::new(stream);
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line)? == 0 {
            return Err(ClientError::Disconnected { command: None });
        }
        let greeting = parse_greeting(&line)?;
        Ok(Client {
            io,
            greeting,
            next_id: 1,
            events: VecDeque::new(),
            missed: 0,
            timeout: None,
        })
    }

    /// The greeting the server sent.
    pub fn greeting(&self) -> &Greeting {
        &self.greeting
    }

    /// How long a command may wait for its reply (default: no limit).  A
    /// command that timed out gives [`ClientError::Io`] with kind
    /// `TimedOut`; its late reply is skipped by the next command.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Completes capabilities negotiation, enabling nothing.
    pub fn negotiate(&mut self) -> Result<(), ClientError> {
        self.execute_json("qmp_capabilities", None).map(drop)
    }

    /// Runs a generated command and decodes its reply.
    pub fn execute<C: Command>(&mut self, command: &C) -> Result<C::Returns, ClientError> {
        let args = encode_arguments(command)?;
        if !C::SUCCESS_RESPONSE {
            self.send(C::NAME, args, None)?;
            return decode_returns::<C>(Value::Object(Map::new()));
        }
        let ret = self.execute_json(C::NAME, args)?;
        decode_returns::<C>(ret)
    }

    /// Runs `command` with `arguments` (an object, or `None`) and returns
    /// its `return` value.
    pub fn execute_json(
        &mut self,
        command: &str,
        arguments: Option<Value>,
    ) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(command, arguments, Some(id))?;
        let reply = self.reply(command, id)?;
        reply_value(command, reply)
    }

    /// The events that arrived so far, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// Events dropped because more than 4,096 waited unread.
    pub fn missed_events(&self) -> u64 {
        self.missed
    }

    fn send(
        &mut self,
        command: &str,
        arguments: Option<Value>,
        id: Option<u64>,
    ) -> Result<(), ClientError> {
        let line = request_line(command, arguments, false, id)?;
        let w = self.io.get_mut();
        w.write_all(&line)?;
        w.flush()?;
        Ok(())
    }

    /// Reads until the reply with `id`, keeping events.
    fn reply(&mut self, command: &str, id: u64) -> Result<Value, ClientError> {
        self.io.get_ref().set_read_timeout(self.timeout)?;
        let mut line = Vec::new();
        loop {
            line.clear();
            match self.io.read_until(b'\n', &mut line) {
                Ok(0) => {
                    return Err(ClientError::Disconnected {
                        command: Some(command.into()),
                    })
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    return Err(ClientError::Io(std::io::Error::new(
                        ErrorKind::TimedOut,
                        format!("{command}: no reply in time"),
                    )))
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(ClientError::Io(e)),
            }
            let Ok(v) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let v = match event_of(v) {
                Ok(event) => {
                    if self.events.len() == EVENTS_KEPT {
                        self.events.pop_front();
                        self.missed += 1;
                    }
                    self.events.push_back(event);
                    continue;
                }
                Err(v) => v,
            };
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                return Ok(v);
            }
        }
    }
}
