//! The guest-agent client on std sockets, for tools and scripts without
//! an async runtime: the same commands, helpers and errors as
//! [`crate::GaClient`], one call at a time (`&mut self`).

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qapi_support::Command;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::channel::{self, Await, Channel, Got};
use crate::error::GaError;
use crate::plan::{Exec, ExecOutput, ExecPlan, Plan, ReadPlan, Want, WritePlan};
use crate::wire::Raw;

/// A blocking guest-agent client (see [`crate::GaClient`] for how the
/// channel is kept synchronized).
pub struct GaClient {
    io: Option<UnixStream>,
    path: Option<PathBuf>,
    channel: Channel,
    timeout: Duration,
}

impl GaClient {
    /// Connects to the agent's UNIX socket and synchronizes.
    pub fn connect_unix(path: impl AsRef<Path>) -> Result<GaClient, GaError> {
        let path = path.as_ref().to_path_buf();
        let io = UnixStream::connect(&path)?;
        GaClient::start(io, Some(path))
    }

    /// Talks over an already-connected socket (it cannot reconnect).
    pub fn from_stream(stream: UnixStream) -> Result<GaClient, GaError> {
        GaClient::start(stream, None)
    }

    fn start(io: UnixStream, path: Option<PathBuf>) -> Result<GaClient, GaError> {
        let mut client = GaClient {
            io: Some(io),
            path,
            channel: Channel::new(),
            timeout: channel::DEFAULT_TIMEOUT,
        };
        client.sync()?;
        Ok(client)
    }

    /// How long a command may take before [`GaError::Timeout`] (default
    /// 30 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Runs a generated command and decodes its reply (see
    /// [`crate::GaClient::execute`]).
    pub fn execute<C: Command>(&mut self, command: &C) -> Result<C::Returns, GaError> {
        self.execute_with_timeout(command, self.timeout)
    }

    /// [`GaClient::execute`] with its own timeout.
    pub fn execute_with_timeout<C: Command>(
        &mut self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Returns, GaError> {
        let args = channel::encode(command)?;
        let args = Some(args.as_ref());
        let v = self.call(C::NAME, args, C::SUCCESS_RESPONSE, timeout)?;
        channel::decode::<C>(&v)
    }

    /// Runs `command` with `arguments` and returns its `return` value.
    pub fn execute_json(
        &mut self,
        command: &str,
        arguments: Option<Value>,
    ) -> Result<Value, GaError> {
        let args = channel::encode_value(command, arguments.as_ref())?;
        let raw = self.call(command, args.as_deref(), true, self.timeout)?;
        channel::to_value(&raw)
    }

    /// Synchronizes the channel now.
    pub fn sync(&mut self) -> Result<(), GaError> {
        self.channel.unsynced();
        self.synced(self.timeout)
    }

    /// Writes raw bytes to the agent; the next command synchronizes
    /// first.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), GaError> {
        self.channel.unsynced();
        self.write(bytes)
    }

    /// Runs a program in the guest and waits for it (see
    /// [`crate::GaClient::exec`]).
    pub fn exec(&mut self, exec: &Exec) -> Result<ExecOutput, GaError> {
        self.run(ExecPlan::new(exec.clone()))
    }

    /// Reads a whole file of the guest.
    pub fn read_file(&mut self, path: &str) -> Result<Vec<u8>, GaError> {
        self.run(ReadPlan::new(path))
    }

    /// Writes a whole file of the guest (created or truncated).
    pub fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), GaError> {
        self.run(WritePlan::new(path, data.to_vec()))
    }

    fn run<P: Plan>(&mut self, mut plan: P) -> Result<P::Output, GaError> {
        let mut reply = None;
        loop {
            match plan.next(reply.take()) {
                Want::Call(r) => reply = Some(self.call(r.name, Some(&r.args), true, self.timeout)),
                Want::Wait(d) => std::thread::sleep(d),
                Want::Done(out) => return out,
            }
        }
    }

    fn call(
        &mut self,
        command: &str,
        arguments: Option<&RawValue>,
        success_response: bool,
        timeout: Duration,
    ) -> Result<Raw, GaError> {
        self.synced(timeout)?;
        let (line, wait) = self.channel.request(command, arguments, success_response);
        self.write(&line)?;
        let got = self.wait(wait, timeout);
        self.channel.outcome(command, wait, got)
    }

    fn synced(&mut self, timeout: Duration) -> Result<(), GaError> {
        if self.io.is_none() {
            let Some(path) = &self.path else {
                return Err(GaError::Disconnected { command: None });
            };
            self.io = Some(UnixStream::connect(path)?);
            self.channel.reconnected();
        }
        if self.channel.is_synced() {
            return Ok(());
        }
        let (line, wait) = self.channel.sync_request();
        self.write(&line)?;
        let got = self.wait(wait, timeout);
        self.channel.sync_outcome(got)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), GaError> {
        let Some(io) = self.io.as_mut() else {
            return Err(GaError::Disconnected { command: None });
        };
        if let Err(e) = io.write_all(bytes).and_then(|()| io.flush()) {
            self.io = None;
            return Err(GaError::Io(e));
        }
        Ok(())
    }

    fn wait(&mut self, wait: Await, timeout: Duration) -> Result<Got, GaError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(got) = self.channel.poll(wait)? {
                return Ok(got);
            }
            let Some(io) = self.io.as_mut() else {
                return Err(GaError::Disconnected { command: None });
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(channel::timed_out(timeout));
            }
            io.set_read_timeout(Some(left))?;
            match io.read(self.channel.space()) {
                Ok(0) => {
                    self.io = None;
                    return Err(GaError::Disconnected { command: None });
                }
                Ok(n) => self.channel.filled(n),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(channel::timed_out(timeout))
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.io = None;
                    return Err(GaError::Io(e));
                }
            }
        }
    }
}
