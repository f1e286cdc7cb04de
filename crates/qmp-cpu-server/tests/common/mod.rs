//! Helpers shared by the server's tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use cpu_models::Target;
use qmp_runtime::{Client, ClientError, Server, ServerConfig};
use serde_json::{json, Value};

/// `../shared` beside the repository, or `None` (printed) when absent;
/// with QAPI_REQUIRE_SHARED=1 its absence fails the test.
pub fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("oracle").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("QAPI_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("QAPI_REQUIRE_SHARED=1 but {} does not exist", dir.display());
    }
    eprintln!("skipping: {} not found", dir.display());
    None
}

/// A real QEMU binary, or `None` (printed) when absent; with
/// QMP_REQUIRE_QEMU=1 its absence fails the test.
pub fn qemu(binary: &str) -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin").join(binary);
    if p.is_file() {
        return Some(p);
    }
    if std::env::var_os("QMP_REQUIRE_QEMU").is_some_and(|v| v == "1") {
        panic!("QMP_REQUIRE_QEMU=1 but {} is not installed", p.display());
    }
    eprintln!(
        "skipping: {} is not installed (apt-get install -t bookworm-backports qemu-system-x86)",
        p.display()
    );
    None
}

/// A fresh socket path.
pub fn socket_path(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("qmp-cpu-{tag}-{}-{n}.sock", std::process::id()))
}

/// Our server for `target`, listening on a fresh UNIX socket.
pub async fn start_server(target: Target) -> (Server, PathBuf) {
    let service = qmp_cpu_server::CpuService::new(target).expect("catalogue loads");
    let config = ServerConfig {
        version: qmp_cpu_server::greeting_version(),
        inline_commands: true,
        ..ServerConfig::default()
    };
    let server = Server::new(service, config);
    let path = socket_path(target.arch());
    server.listen_unix(&path).await.expect("listens");
    (server, path)
}

/// A negotiated client.
pub async fn client(path: &Path) -> Client {
    let c = Client::connect_unix(path).await.expect("connects");
    c.negotiate().await.expect("negotiates");
    c
}

/// A reply as QMP puts it: `{"return": ...}` or `{"error": {...}}`.
pub async fn reply(c: &Client, command: &str, args: Option<Value>) -> Value {
    match c.execute_json(command, args).await {
        Ok(v) => json!({ "return": v }),
        Err(ClientError::Qmp { error, .. }) => json!({ "error": error }),
        Err(e) => panic!("{command}: {e}"),
    }
}

/// Drops our two extension booleans from an expansion reply.
pub fn without_extension(mut v: Value) -> Value {
    if let Some(ret) = v.get_mut("return").and_then(Value::as_object_mut) {
        if ret.contains_key("model") {
            ret.remove("static");
            ret.remove("migration-safe");
        }
    }
    v
}

/// A real QEMU started as the oracle was recorded, with its QMP socket.
pub struct LiveQemu {
    child: std::process::Child,
    /// Its QMP socket.
    pub socket: PathBuf,
}

impl LiveQemu {
    /// Starts `binary -machine none -accel tcg -nodefaults -nographic -S
    /// -qmp unix:SOCKET,server=on,wait=off` and waits for the socket.
    pub async fn start(binary: &Path) -> LiveQemu {
        let socket = socket_path("qemu");
        let child = cpu_models::qmp_io::qemu_command(binary, &socket)
            .spawn()
            .expect("QEMU starts");
        for _ in 0..500 {
            if socket.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        LiveQemu { child, socket }
    }
}

impl Drop for LiveQemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}
