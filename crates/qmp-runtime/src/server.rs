//! The QMP server on tokio: listeners, connections, events, shutdown.
//!
//! Each connection has three tasks: a reader (reads bytes, cuts them into
//! messages, runs out-of-band commands on the spot), an in-band executor
//! (runs requests one after the other, in order, on tokio's blocking pool)
//! and a writer (everything sent to the client goes through one queue).
//! As in QEMU, without `oob` the reader stops reading while a request is
//! pending, and with it while eight are.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qapi_support::{QmpError, Timestamp};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::json::{Message, Streamer};
use crate::service::Service;
use crate::session::{self, ConnState, Core, ServerConfig};

/// QEMU's `QMP_REQ_QUEUE_LEN_MAX`: in-band requests queued with `oob`.
const QUEUE_MAX_OOB: usize = 8;

/// Replies written to a client's socket may trail its requests by at
/// most this many: a client that does not read its replies stops being
/// read (QEMU suspends such a monitor the same way), so neither its
/// requests nor our answers pile up in memory.
const REPLIES_UNWRITTEN_MAX: usize = 8;

/// Events queued for one client and not yet written.  Beyond this a
/// client that does not read loses events rather than making the server
/// hold them without bound (QEMU would buffer them all); each loss is
/// counted in [`EventSender::dropped`].
const EVENTS_UNWRITTEN_MAX: usize = 1024;

/// How long the accept loop waits after running out of file descriptors
/// (or memory) before trying again, at first and at most: accepting again
/// at once would spin.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// What the writer sends: a reply with the permit that bounds unwritten
/// replies, or an event line shared by all clients.
enum Out {
    /// The permit is held, not read: dropping it with the written reply
    /// lets the executor queue the next.
    Reply(Vec<u8>, #[allow(dead_code)] OwnedSemaphorePermit),
    Event(Arc<[u8]>),
}

impl Out {
    fn bytes(&self) -> &[u8] {
        match self {
            Out::Reply(v, _) => v,
            Out::Event(a) => a,
        }
    }
}

/// One client's way out: the writer's queue and the budgets that bound it.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::UnboundedSender<Out>,
    replies: Arc<Semaphore>,
    events: Arc<AtomicUsize>,
}

impl Outbox {
    /// Queues a reply, waiting while the client has not read the earlier
    /// ones.  `false` once the connection is gone.
    async fn reply(&self, line: Vec<u8>) -> bool {
        match self.replies.clone().acquire_owned().await {
            Ok(permit) => self.tx.send(Out::Reply(line, permit)).is_ok(),
            Err(_) => false,
        }
    }

    /// Queues an event unless the client is too far behind; `Err(())`
    /// once the connection is gone, `Ok(false)` when the event was
    /// dropped.
    fn event(&self, line: Arc<[u8]>) -> Result<bool, ()> {
        if self.events.fetch_add(1, Ordering::AcqRel) >= EVENTS_UNWRITTEN_MAX {
            self.events.fetch_sub(1, Ordering::AcqRel);
            return if self.tx.is_closed() {
                Err(())
            } else {
                Ok(false)
            };
        }
        self.tx.send(Out::Event(line)).map(|_| true).map_err(drop)
    }
}

/// The negotiated clients, who receive events.
#[derive(Default)]
struct Registry {
    clients: Mutex<HashMap<u64, Outbox>>,
    /// Events not queued because their client was too far behind.
    dropped: AtomicU64,
}

struct Inner {
    core: Arc<Core>,
    registry: Arc<Registry>,
    shutdown: watch::Sender<bool>,
    next_conn: AtomicU64,
    active: AtomicUsize,
    idle: Notify,
    listeners: Mutex<Vec<(JoinHandle<()>, Option<PathBuf>)>>,
}

/// A QMP server.  Cheap to clone; all clones are the same server.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

/// Broadcasts events to every client that has completed capabilities
/// negotiation (as QEMU's `monitor_qapi_event_emit`).  Cheap to clone.
#[derive(Clone)]
pub struct EventSender {
    registry: Arc<Registry>,
}

impl EventSender {
    /// Sends event `name` with `data` (left out when `None`), stamped with
    /// the current time.  Returns how many clients it was queued for.
    pub fn emit(&self, name: &str, data: Option<Value>) -> usize {
        self.emit_at(name, data, Timestamp::now())
    }

    /// Like [`EventSender::emit`] with a given timestamp.
    pub fn emit_at(&self, name: &str, data: Option<Value>, timestamp: Timestamp) -> usize {
        let line: Arc<[u8]> = session::event_line(name, data.as_ref(), timestamp).into();
        let mut clients = self
            .registry
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut dropped = 0;
        clients.retain(|_, out| match out.event(line.clone()) {
            Ok(queued) => {
                dropped += u64::from(!queued);
                true
            }
            Err(()) => false,
        });
        if dropped > 0 {
            self.registry.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
        clients.len()
    }

    /// Events dropped so far because their client had not read the
    /// previous ones (more than a thousand unwritten).
    pub fn dropped(&self) -> u64 {
        self.registry.dropped.load(Ordering::Relaxed)
    }

    /// Sends a generated event (an `Event` enum value, which serializes as
    /// `{"event": NAME, "data": {...}}`).
    pub fn emit_event<E: Serialize>(&self, event: &E) -> Result<usize, QmpError> {
        let v = serde_json::to_value(event).map_err(|e| QmpError::generic(e.to_string()))?;
        let name = v
            .get("event")
            .and_then(Value::as_str)
            .ok_or_else(|| QmpError::generic("an event must serialize with an 'event' name"))?;
        Ok(self.emit(name, v.get("data").cloned()))
    }

    /// How many negotiated clients are connected.
    pub fn receivers(&self) -> usize {
        self.registry.clients.lock().map(|c| c.len()).unwrap_or(0)
    }
}

impl Server {
    /// A server running `service`, not listening yet.
    pub fn new(service: impl Service, config: ServerConfig) -> Self {
        let (shutdown, _) = watch::channel(false);
        Server {
            inner: Arc::new(Inner {
                core: Arc::new(Core {
                    service: Box::new(service),
                    config,
                }),
                registry: Arc::default(),
                shutdown,
                next_conn: AtomicU64::new(0),
                active: AtomicUsize::new(0),
                idle: Notify::new(),
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The handle that sends events.
    pub fn events(&self) -> EventSender {
        EventSender {
            registry: self.inner.registry.clone(),
        }
    }

    /// How many clients are connected.
    pub fn connections(&self) -> usize {
        self.inner.active.load(Ordering::Acquire)
    }

    /// Listens on a UNIX socket at `path` (a stale socket file there is
    /// replaced, as QEMU does).  The file is removed at shutdown.
    pub async fn listen_unix(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref().to_path_buf();
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_socket() {
                std::fs::remove_file(&path)?;
            }
        }
        let listener = UnixListener::bind(&path)?;
        let task = self.accept_loop(listener);
        self.add_listener(task, Some(path));
        Ok(())
    }

    /// Listens on TCP at `addr`, which must be a loopback address: QMP has
    /// no authentication.  Returns the address bound (for port 0).
    pub async fn listen_tcp(&self, addr: SocketAddr) -> io::Result<SocketAddr> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("QMP over TCP listens on loopback only, not {addr}"),
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let task = self.accept_loop(listener);
        self.add_listener(task, None);
        Ok(local)
    }

    /// Serves one already-connected stream (any transport).
    pub fn serve_stream<S>(&self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (r, w) = tokio::io::split(stream);
        spawn_connection(&self.inner, r, w);
    }

    /// Accepts connections until shutdown.  A transient failure (out of
    /// file descriptors, of memory, of buffers) makes it wait before the
    /// next try, doubling the wait up to a second, instead of spinning;
    /// the connections already open are served meanwhile.
    fn accept_loop<L: Listener>(&self, listener: L) -> JoinHandle<()> {
        let inner = self.inner.clone();
        let mut stop = self.inner.shutdown.subscribe();
        tokio::spawn(async move {
            let mut backoff = ACCEPT_BACKOFF.0;
            loop {
                let r = tokio::select! {
                    r = listener.accept_split() => r,
                    _ = stop.wait_for(|s| *s) => break,
                };
                match r {
                    Ok((r, w)) => {
                        backoff = ACCEPT_BACKOFF.0;
                        spawn_connection(&inner, r, w);
                    }
                    Err(e) if accept_must_wait(&e) => {
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = stop.wait_for(|s| *s) => break,
                        }
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
                    }
                    // A connection that failed before it was accepted
                    // (reset, aborted): take the next one.
                    Err(_) => {}
                }
            }
        })
    }

    fn add_listener(&self, task: JoinHandle<()>, path: Option<PathBuf>) {
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((task, path));
    }

    /// Stops: no more connections, every client closed (queued requests
    /// are dropped), socket files removed.  Returns when all connections
    /// are gone.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let listeners = std::mem::take(
            &mut *self
                .inner
                .listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for (task, path) in listeners {
            let _ = task.await;
            if let Some(path) = path {
                let _ = std::fs::remove_file(path);
            }
        }
        loop {
            let idle = self.inner.idle.notified();
            if self.inner.active.load(Ordering::Acquire) == 0 {
                break;
            }
            idle.await;
        }
    }
}

/// A listening socket the accept loop takes connections from.
trait Listener: Send + 'static {
    type Read: AsyncRead + Unpin + Send + 'static;
    type Write: AsyncWrite + Unpin + Send + 'static;
    /// The next connection, split into its halves.
    fn accept_split(
        &self,
    ) -> impl std::future::Future<Output = io::Result<(Self::Read, Self::Write)>> + Send;
}

impl Listener for UnixListener {
    type Read = tokio::net::unix::OwnedReadHalf;
    type Write = tokio::net::unix::OwnedWriteHalf;
    async fn accept_split(&self) -> io::Result<(Self::Read, Self::Write)> {
        let (stream, _) = self.accept().await?;
        Ok(stream.into_split())
    }
}

impl Listener for TcpListener {
    type Read = tokio::net::tcp::OwnedReadHalf;
    type Write = tokio::net::tcp::OwnedWriteHalf;
    async fn accept_split(&self) -> io::Result<(Self::Read, Self::Write)> {
        let (stream, _) = self.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(stream.into_split())
    }
}

/// Whether a failed `accept` means "not now" (a resource ran out) rather
/// than "that connection failed": EMFILE, ENFILE, ENOBUFS, ENOMEM.
fn accept_must_wait(e: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOBUFS: i32 = 105;
    const ENOMEM: i32 = 12;
    matches!(e.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
        || e.kind() == io::ErrorKind::OutOfMemory
}

fn spawn_connection<R, W>(inner: &Arc<Inner>, reader: R, writer: W)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    if *inner.shutdown.borrow() {
        return;
    }
    inner.active.fetch_add(1, Ordering::AcqRel);
    let inner = inner.clone();
    tokio::spawn(async move {
        connection(&inner, reader, writer).await;
        if inner.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            inner.idle.notify_waiters();
        }
    });
}

/// Requests read but not yet answered, for flow control.
#[derive(Default)]
struct Pending {
    count: AtomicUsize,
    changed: Notify,
}

/// Runs one message, turning a panicking service into an error reply.
fn handle_guarded(core: &Core, st: &ConnState, msg: Message) -> Option<Vec<u8>> {
    std::panic::catch_unwind(AssertUnwindSafe(|| core.handle(st, msg))).unwrap_or_else(|_| {
        Some(session::response(
            &Err(QmpError::generic("internal error: the command panicked")),
            None,
        ))
    })
}

async fn connection<R, W>(inner: &Arc<Inner>, mut reader: R, writer: W)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let id = inner.next_conn.fetch_add(1, Ordering::Relaxed);
    let core = inner.core.clone();
    let (tx, rx) = mpsc::unbounded_channel::<Out>();
    let out = Outbox {
        tx,
        replies: Arc::new(Semaphore::new(REPLIES_UNWRITTEN_MAX)),
        events: Arc::new(AtomicUsize::new(0)),
    };
    let mut stop = inner.shutdown.subscribe();
    let writer_task = tokio::spawn(write_loop(
        writer,
        rx,
        out.events.clone(),
        inner.shutdown.subscribe(),
    ));
    let greeting = core.greeting();
    if !greeting.is_empty() {
        out.reply(greeting).await;
    }

    let state = Arc::new(ConnState::new(core.config.protocol));
    let pending = Arc::new(Pending::default());
    let (inband_tx, inband_rx) = mpsc::unbounded_channel::<Message>();
    let executor = tokio::spawn(inband_loop(
        core.clone(),
        state.clone(),
        inband_rx,
        out.clone(),
        pending.clone(),
        inner.registry.clone(),
        id,
    ));

    let mut streamer = Streamer::new(core.config.limits);
    let mut buf = vec![0u8; 16 * 1024];
    let mut msgs = Vec::new();
    let stopped = 'read: loop {
        // Flow control: QEMU suspends the monitor while its queue is full.
        loop {
            let changed = pending.changed.notified();
            let limit = if state.oob() { QUEUE_MAX_OOB } else { 1 };
            if pending.count.load(Ordering::Acquire) < limit {
                break;
            }
            tokio::select! {
                _ = changed => {}
                _ = stop.wait_for(|s| *s) => break 'read true,
            }
        }
        // The writer is gone (the client closed or stopped taking our
        // bytes): what is still buffered is not worth reading.
        if out.tx.is_closed() {
            break 'read false;
        }
        let n = tokio::select! {
            r = reader.read(&mut buf) => match r {
                Ok(0) | Err(_) => break 'read false,
                Ok(n) => n,
            },
            _ = stop.wait_for(|s| *s) => break 'read true,
        };
        streamer.feed(&buf[..n], &mut |m| msgs.push(m));
        for m in msgs.drain(..) {
            if session::is_oob(&m) {
                // Out of band: run now, ahead of anything queued (and
                // stop reading while the client does not read replies).
                if let Some(line) = handle_guarded(&core, &state, m) {
                    tokio::select! {
                        _ = out.reply(line) => {}
                        _ = stop.wait_for(|s| *s) => break 'read true,
                    }
                }
            } else if core.config.inline_commands && pending.count.load(Ordering::Acquire) == 0 {
                // Nothing in band is queued or running: run it here and
                // spare the hand-off to the in-band task (its reply still
                // goes through the outbox, after anything written before).
                tokio::select! {
                    alive = run_inband(&core, &state, m, &out, &inner.registry, id) => {
                        if !alive {
                            break 'read false;
                        }
                    }
                    _ = stop.wait_for(|s| *s) => break 'read true,
                }
            } else {
                pending.count.fetch_add(1, Ordering::AcqRel);
                let _ = inband_tx.send(m);
            }
        }
    };
    drop(inband_tx);
    if stopped {
        executor.abort();
    }
    let _ = executor.await;
    inner
        .registry
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    // The reader's buffers go with it: a huge rejected message does not
    // stay allocated while the connection winds down.
    drop((streamer, buf, msgs));
    drop(out);
    let _ = writer_task.await;
}

async fn inband_loop(
    core: Arc<Core>,
    state: Arc<ConnState>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    out: Outbox,
    pending: Arc<Pending>,
    registry: Arc<Registry>,
    id: u64,
) {
    while let Some(msg) = rx.recv().await {
        let alive = run_inband(&core, &state, msg, &out, &registry, id).await;
        pending.count.fetch_sub(1, Ordering::AcqRel);
        pending.changed.notify_waiters();
        if !alive {
            break;
        }
    }
}

/// Runs one in-band request and queues its reply (waiting while the
/// client has not read earlier replies); registers the client for events
/// once it has negotiated.  False when the client is gone.
async fn run_inband(
    core: &Arc<Core>,
    state: &Arc<ConnState>,
    msg: Message,
    out: &Outbox,
    registry: &Registry,
    id: u64,
) -> bool {
    let was_negotiated = state.negotiated();
    let line = if core.config.inline_commands {
        handle_guarded(core, state, msg)
    } else {
        let (c, s) = (core.clone(), state.clone());
        tokio::task::spawn_blocking(move || handle_guarded(&c, &s, msg))
            .await
            .unwrap_or(None)
    };
    if !was_negotiated && state.negotiated() {
        registry
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, out.clone());
    }
    match line {
        Some(line) => out.reply(line).await,
        None => true,
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    writer: W,
    mut rx: mpsc::UnboundedReceiver<Out>,
    events: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) {
    let mut w = BufWriter::with_capacity(16 * 1024, writer);
    // Written: its reply permit (dropped with it) or event slot is free.
    let written = |o: Out| {
        if let Out::Event(_) = o {
            events.fetch_sub(1, Ordering::AcqRel);
        }
    };
    loop {
        let first = tokio::select! {
            o = rx.recv() => match o {
                Some(o) => o,
                None => break,
            },
            _ = stop.wait_for(|s| *s) => break,
        };
        let write = async {
            w.write_all(first.bytes()).await?;
            written(first);
            while let Ok(o) = rx.try_recv() {
                w.write_all(o.bytes()).await?;
                written(o);
            }
            w.flush().await
        };
        let ok = tokio::select! {
            r = write => r.is_ok(),
            _ = stop.wait_for(|s| *s) => false,
        };
        if !ok {
            break;
        }
    }
    let _ = w.shutdown().await;
}
