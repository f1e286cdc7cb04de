//! A minimal blocking QMP client for talking to a real QEMU: used by the
//! catalogue importer and by tests that compare with live QEMU.  (The
//! full async client is in the `qmp-runtime` crate; this one keeps the
//! importer free of an async runtime.)

use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A running QEMU with a QMP socket, negotiated and ready.
pub struct Qemu {
    child: Child,
    dir: PathBuf,
    conn: Conn,
}

/// A QMP connection.
pub struct Conn {
    writer: UnixStream,
    reader: serde_json::StreamDeserializer<
        'static,
        serde_json::de::IoRead<BufReader<UnixStream>>,
        Value,
    >,
    /// The greeting QEMU sent.
    pub greeting: Value,
}

impl Conn {
    /// Connects to `path`, reads the greeting and negotiates capabilities.
    pub fn connect(path: &Path) -> std::io::Result<Conn> {
        let s = UnixStream::connect(path)?;
        let reader = BufReader::new(s.try_clone()?);
        let mut conn = Conn {
            writer: s,
            reader: serde_json::Deserializer::from_reader(reader).into_iter(),
            greeting: Value::Null,
        };
        conn.greeting = conn.read()?;
        let r = conn.execute("qmp_capabilities", None)?;
        if r.get("return").is_none() {
            return Err(std::io::Error::other(format!("negotiation failed: {r}")));
        }
        Ok(conn)
    }

    fn read(&mut self) -> std::io::Result<Value> {
        match self.reader.next() {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(std::io::Error::other(e)),
            None => Err(std::io::ErrorKind::UnexpectedEof.into()),
        }
    }

    /// Sends one request and returns the reply (`{"return": ...}` or
    /// `{"error": ...}`); events in between are skipped.
    pub fn execute(&mut self, cmd: &str, args: Option<Value>) -> std::io::Result<Value> {
        let mut req = json!({ "execute": cmd });
        if let Some(a) = args {
            req["arguments"] = a;
        }
        self.send_raw(&req)
    }

    /// Sends an arbitrary request object and returns the reply.
    pub fn send_raw(&mut self, req: &Value) -> std::io::Result<Value> {
        let mut text = serde_json::to_vec(req).map_err(std::io::Error::other)?;
        text.push(b'\n');
        self.writer.write_all(&text)?;
        loop {
            let v = self.read()?;
            if v.get("event").is_none() {
                return Ok(v);
            }
        }
    }
}

/// The command line the oracle was recorded with, QMP on `socket`:
/// `BINARY -machine none -accel tcg -nodefaults -nographic -S -qmp
/// unix:SOCKET,server=on,wait=off`, with no terminal input or output
/// (QEMU's TCG feature warnings are dropped).
pub fn qemu_command(binary: &Path, socket: &Path) -> Command {
    let mut c = Command::new(binary);
    c.args([
        "-machine",
        "none",
        "-accel",
        "tcg",
        "-nodefaults",
        "-nographic",
        "-S",
    ])
    .arg("-qmp")
    .arg(format!("unix:{},server=on,wait=off", socket.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

impl Qemu {
    /// Starts `binary` as the oracle was recorded:
    /// `-machine none -accel tcg -nodefaults -nographic -S -qmp unix:...`.
    pub fn start(binary: &Path) -> std::io::Result<Qemu> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("qmp-io-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let sock = dir.join("qmp.sock");
        let child = qemu_command(binary, &sock).spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        let conn = loop {
            match Conn::connect(&sock) {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        Ok(Qemu { child, dir, conn })
    }

    /// The negotiated connection.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.conn.execute("quit", None);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
