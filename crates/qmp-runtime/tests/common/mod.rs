//! Shared by the integration tests: a test service over the generated
//! bindings of our schema, and a raw byte-level QMP connection.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use qapi_support::{CommandMeta, QmpError};
use qapi_types::{CommandInfo, QmpHandler, SysEmuTarget, TargetInfo, VersionInfo, VersionTriple};
use qmp_runtime::{from_dispatch, version_info, Server, ServerConfig, Service};
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// The version real QEMU 10.0.2 on this machine reports (Debian's).
pub const PACKAGE: &str = "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1";

pub struct Handler;

impl QmpHandler for Handler {
    fn query_version(&self) -> Result<VersionInfo, QmpError> {
        Ok(VersionInfo::new(
            VersionTriple::new(10, 0, 2),
            PACKAGE.into(),
        ))
    }

    fn query_commands(&self) -> Result<Vec<CommandInfo>, QmpError> {
        Ok(TestService::commands()
            .iter()
            .map(|c| CommandInfo::new(c.name.into()))
            .collect())
    }

    fn query_target(&self) -> Result<TargetInfo, QmpError> {
        Ok(TargetInfo::new(SysEmuTarget::X86_64))
    }
}

const fn meta(name: &'static str, allow_oob: bool, success_response: bool) -> CommandMeta {
    CommandMeta {
        name,
        allow_oob,
        allow_preconfig: true,
        success_response,
        deprecated: false,
    }
}

/// Test-only commands besides the schema's.
static EXTRA: &[CommandMeta] = &[
    // Sleeps `ms` milliseconds in band.
    meta("x-sleep", false, true),
    // Answers at once; may run out of band.
    meta("x-ping", true, true),
    // Succeeds without a reply.
    meta("x-quiet", false, false),
    // Echoes its arguments.
    meta("x-echo", false, true),
];

/// Our schema's commands (through the generated dispatcher and argument
/// checker) plus the test commands.
pub struct TestService {
    generated: Box<dyn Service>,
    pub quiet_runs: AtomicUsize,
}

impl TestService {
    pub fn new() -> Self {
        let handler = Handler;
        TestService {
            generated: Box::new(from_dispatch(qapi_types::COMMANDS, move |c, a| {
                qapi_types::dispatch(&handler, c, a)
            })),
            quiet_runs: AtomicUsize::new(0),
        }
    }

    pub fn commands() -> Vec<CommandMeta> {
        qapi_types::COMMANDS.iter().chain(EXTRA).copied().collect()
    }
}

impl Service for TestService {
    fn execute(&self, command: &str, arguments: Map<String, Value>) -> Result<Value, QmpError> {
        match command {
            "x-sleep" => {
                let ms = arguments.get("ms").and_then(Value::as_u64).unwrap_or(0);
                std::thread::sleep(Duration::from_millis(ms));
                Ok(Value::Object(Map::new()))
            }
            "x-ping" => Ok(serde_json::json!({"pong": true})),
            "x-quiet" => {
                self.quiet_runs.fetch_add(1, Ordering::SeqCst);
                Ok(Value::Object(Map::new()))
            }
            "x-echo" => Ok(Value::Object(arguments)),
            _ => self.generated.execute(command, arguments),
        }
    }

    fn command(&self, name: &str) -> Option<CommandMeta> {
        EXTRA
            .iter()
            .find(|c| c.name == name)
            .copied()
            .or_else(|| self.generated.command(name))
    }
}

pub fn config() -> ServerConfig {
    ServerConfig {
        version: version_info(10, 0, 2, PACKAGE),
        ..ServerConfig::default()
    }
}

/// A fresh socket path in a private directory.
pub fn socket_path(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qmp-runtime-{}-{tag}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let p = dir.join("qmp.sock");
    let _ = std::fs::remove_file(&p);
    p
}

/// A server with the test service listening on a fresh UNIX socket.
pub async fn start(tag: &str) -> (Server, PathBuf) {
    start_with(tag, config()).await
}

pub async fn start_with(tag: &str, config: ServerConfig) -> (Server, PathBuf) {
    let server = Server::new(TestService::new(), config);
    let path = socket_path(tag);
    server.listen_unix(&path).await.expect("listen");
    (server, path)
}

/// A QMP connection at the byte level.
pub struct Raw {
    pub stream: UnixStream,
    buf: Vec<u8>,
}

pub const TIMEOUT: Duration = Duration::from_secs(20);

impl Raw {
    pub async fn connect(path: &Path) -> Raw {
        Raw {
            stream: UnixStream::connect(path).await.expect("connect"),
            buf: Vec::new(),
        }
    }

    /// Connects, reads the greeting and negotiates.
    pub async fn negotiated(path: &Path) -> Raw {
        let mut r = Raw::connect(path).await;
        r.line().await;
        assert_eq!(
            r.ask(r#"{"execute":"qmp_capabilities"}"#).await,
            r#"{"return": {}}"#
        );
        r
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).await.expect("write");
    }

    /// The next line, without its `\r\n` (which must be there).
    pub async fn line(&mut self) -> String {
        self.try_line(TIMEOUT).await.expect("a line in time")
    }

    pub async fn try_line(&mut self, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                assert!(line.ends_with(b"\r\n"), "line not ended by CRLF: {line:?}");
                return Some(String::from_utf8(line[..line.len() - 2].to_vec()).expect("UTF-8"));
            }
            let mut chunk = [0u8; 65536];
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .ok()?
                .expect("read");
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a request and returns the next line.
    pub async fn ask(&mut self, req: &str) -> String {
        self.send(req).await;
        self.line().await
    }
}

/// A QEMU started by a test; killed (and its socket removed) when dropped.
pub struct Qemu {
    pub child: std::process::Child,
    pub path: PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Starts `bin` with no machine, stopped, its QMP monitor on a fresh UNIX
/// socket (`QEMU_MODULE_DIR` set to `modules` when given), and waits for
/// the socket.
pub async fn spawn_qemu(bin: &Path, modules: Option<&Path>, tag: &str) -> Qemu {
    use std::process::{Command, Stdio};
    let path = socket_path(&format!("qemu-{tag}"));
    let mut cmd = Command::new(bin);
    if let Some(m) = modules {
        cmd.env("QEMU_MODULE_DIR", m);
    }
    let child = cmd
        .args([
            "-machine",
            "none",
            "-accel",
            "tcg",
            "-nodefaults",
            "-nographic",
            "-S",
            "-qmp",
        ])
        .arg(format!("unix:{},server=on,wait=off", path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu");
    let q = Qemu { child, path };
    for _ in 0..200 {
        if UnixStream::connect(&q.path).await.is_ok() {
            return q;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("QEMU's QMP socket did not appear at {}", q.path.display());
}
