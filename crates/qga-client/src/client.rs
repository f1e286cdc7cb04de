//! The guest-agent client on tokio.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use qapi_support::Command;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::time::Instant;

use crate::channel::{self, Await, Channel, Got};
use crate::error::GaError;
use crate::plan::{Exec, ExecOutput, ExecPlan, Plan, ReadPlan, Want, WritePlan};
use crate::wire::Raw;

/// A stream the client can talk over.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Conn {
    io: Option<Box<dyn Io>>,
    channel: Channel,
}

/// A guest-agent client.  One command runs at a time (the agent answers
/// in order); calls from many tasks queue on the connection.
///
/// The channel is synchronized (`guest-sync-delimited` with a random id)
/// when the client connects, after a command timed out and after raw
/// bytes were sent, so a stale reply is never taken for the next
/// command's.  A client made by [`GaClient::connect_unix`] reconnects
/// when the channel closed.
pub struct GaClient {
    conn: tokio::sync::Mutex<Conn>,
    path: Option<PathBuf>,
    timeout_ms: AtomicU64,
}

impl GaClient {
    /// Connects to the agent's UNIX socket (`qemu-ga -m unix-listen`, or
    /// QEMU's chardev for the guest's virtio-serial port) and
    /// synchronizes.
    pub async fn connect_unix(path: impl AsRef<Path>) -> Result<GaClient, GaError> {
        let path = path.as_ref().to_path_buf();
        let stream = UnixStream::connect(&path).await?;
        GaClient::start(Box::new(stream), Some(path)).await
    }

    /// Talks over an already-connected stream (it cannot reconnect).
    pub async fn from_stream<S>(stream: S) -> Result<GaClient, GaError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        GaClient::start(Box::new(stream), None).await
    }

    async fn start(io: Box<dyn Io>, path: Option<PathBuf>) -> Result<GaClient, GaError> {
        let client = GaClient {
            conn: tokio::sync::Mutex::new(Conn {
                io: Some(io),
                channel: Channel::new(),
            }),
            path,
            timeout_ms: AtomicU64::new(channel::DEFAULT_TIMEOUT.as_millis() as u64),
        };
        client.sync().await?;
        Ok(client)
    }

    /// How long a command may take before [`GaError::Timeout`] (default
    /// 30 s).
    pub fn set_timeout(&self, timeout: Duration) {
        self.timeout_ms
            .store(timeout.as_millis() as u64, Ordering::Relaxed);
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::Relaxed))
    }

    /// Runs a generated command and decodes its reply.  A command whose
    /// `success-response` is false (`guest-shutdown`, `guest-suspend-*`)
    /// returns as soon as the agent has taken it: the client synchronizes
    /// after sending it, so an error the agent sends back is still
    /// returned, and a channel that closes (the guest went down) is
    /// success.
    pub async fn execute<C: Command>(&self, command: &C) -> Result<C::Returns, GaError> {
        self.execute_with_timeout(command, self.timeout()).await
    }

    /// [`GaClient::execute`] with its own timeout.
    pub async fn execute_with_timeout<C: Command>(
        &self,
        command: &C,
        timeout: Duration,
    ) -> Result<C::Returns, GaError> {
        let args = channel::encode(command)?;
        let args = Some(args.as_ref());
        let v = self
            .call(C::NAME, args, C::SUCCESS_RESPONSE, timeout)
            .await?;
        channel::decode::<C>(&v)
    }

    /// Runs `command` with `arguments` (an object, or `None`) and returns
    /// its `return` value.
    pub async fn execute_json(
        &self,
        command: &str,
        arguments: Option<Value>,
    ) -> Result<Value, GaError> {
        let args = channel::encode_value(command, arguments.as_ref())?;
        let raw = self
            .call(command, args.as_deref(), true, self.timeout())
            .await?;
        channel::to_value(&raw)
    }

    /// Synchronizes the channel now.
    pub async fn sync(&self) -> Result<(), GaError> {
        let mut conn = self.conn.lock().await;
        conn.channel.unsynced();
        self.synced(&mut conn, self.timeout()).await
    }

    /// Writes raw bytes to the agent (for tests of misbehaving peers);
    /// the next command synchronizes first.
    pub async fn send_raw(&self, bytes: &[u8]) -> Result<(), GaError> {
        let mut conn = self.conn.lock().await;
        conn.channel.unsynced();
        self.write(&mut conn, bytes).await
    }

    /// Runs a program in the guest and waits for it to end; its output is
    /// captured.  Errors name the step and the program.
    pub async fn exec(&self, exec: &Exec) -> Result<ExecOutput, GaError> {
        self.run(ExecPlan::new(exec.clone())).await
    }

    /// Reads a whole file of the guest.  Errors name the step and the
    /// path; the file is closed after a failed read too.
    pub async fn read_file(&self, path: &str) -> Result<Vec<u8>, GaError> {
        self.run(ReadPlan::new(path)).await
    }

    /// Writes a whole file of the guest (created or truncated).
    pub async fn write_file(&self, path: &str, data: &[u8]) -> Result<(), GaError> {
        self.run(WritePlan::new(path, data.to_vec())).await
    }

    async fn run<P: Plan>(&self, mut plan: P) -> Result<P::Output, GaError> {
        let mut reply = None;
        loop {
            match plan.next(reply.take()) {
                Want::Call(r) => {
                    reply = Some(self.call(r.name, Some(&r.args), true, self.timeout()).await)
                }
                Want::Wait(d) => tokio::time::sleep(d).await,
                Want::Done(out) => return out,
            }
        }
    }

    async fn call(
        &self,
        command: &str,
        arguments: Option<&RawValue>,
        success_response: bool,
        timeout: Duration,
    ) -> Result<Raw, GaError> {
        let mut conn = self.conn.lock().await;
        self.synced(&mut conn, timeout).await?;
        let (line, wait) = conn.channel.request(command, arguments, success_response);
        self.write(&mut conn, &line).await?;
        let got = self.wait(&mut conn, wait, timeout).await;
        conn.channel.outcome(command, wait, got)
    }

    /// Reconnects if needed, then synchronizes if needed.
    async fn synced(&self, conn: &mut Conn, timeout: Duration) -> Result<(), GaError> {
        if conn.io.is_none() {
            let Some(path) = &self.path else {
                return Err(GaError::Disconnected { command: None });
            };
            conn.io = Some(Box::new(UnixStream::connect(path).await?));
            conn.channel.reconnected();
        }
        if conn.channel.is_synced() {
            return Ok(());
        }
        let (line, wait) = conn.channel.sync_request();
        self.write(conn, &line).await?;
        let got = self.wait(conn, wait, timeout).await;
        conn.channel.sync_outcome(got)
    }

    async fn write(&self, conn: &mut Conn, bytes: &[u8]) -> Result<(), GaError> {
        let Some(io) = conn.io.as_mut() else {
            return Err(GaError::Disconnected { command: None });
        };
        let r = async {
            io.write_all(bytes).await?;
            io.flush().await
        }
        .await;
        if let Err(e) = r {
            conn.io = None;
            return Err(GaError::Io(e));
        }
        Ok(())
    }

    /// Reads until the inbox holds what `wait` waits for, the deadline
    /// passes, or the channel fails.
    async fn wait(&self, conn: &mut Conn, wait: Await, timeout: Duration) -> Result<Got, GaError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(got) = conn.channel.poll(wait)? {
                return Ok(got);
            }
            let Some(io) = conn.io.as_mut() else {
                return Err(GaError::Disconnected { command: None });
            };
            if Instant::now() >= deadline {
                return Err(channel::timed_out(timeout));
            }
            match tokio::time::timeout_at(deadline, io.read(conn.channel.space())).await {
                Err(_) => return Err(channel::timed_out(timeout)),
                Ok(Ok(0)) => {
                    conn.io = None;
                    return Err(GaError::Disconnected { command: None });
                }
                Ok(Ok(n)) => conn.channel.filled(n),
                Ok(Err(e)) => {
                    conn.io = None;
                    return Err(GaError::Io(e));
                }
            }
        }
    }
}
