//! Socket-level load generator: the same QMP requests to our server and to
//! a live QEMU 10.0.2, side by side in one run, through one client
//! implementation (so the client's own cost is the same on both sides).
//!
//! ```text
//! cargo run --release -p qmp-cpu-server --example loadgen -- [--requests N] [--clients K] [--one-thread]
//! ```
//!
//! By default the client and our server share a two-thread tokio runtime,
//! so a request and its reply may each wake the other thread: on a small
//! VM that wake-up (tens of microseconds, seen on a bare `query-version`
//! too) can dominate.  `--one-thread` runs client and server on one
//! thread: the figures are then the server's own cost (QEMU, a process of
//! its own, still pays a wake-up per request).  The row "ours, own
//! process" runs the `qmp-cpu-server` binary built beside this example
//! (`cargo build --release -p qmp-cpu-server`), measured exactly as QEMU
//! is; the last line is the machine's floor for any such reply, a line
//! sent to `cat` and read back.  Pinning the whole run to one CPU
//! (`taskset -c 0 cargo run ...`) takes the cross-CPU wake-up out of
//! every row.
//!
//! For each of x86_64 and s390x (QEMU side skipped when its binary is not
//! installed) it reports the median and 99th percentile round trip of a
//! bare `query-version`, a `query-cpu-model-expansion` (models taken in
//! turn, static and full alternating) and `query-cpu-definitions`, then
//! the expansion throughput of one client and of K clients in parallel
//! (QEMU's QMP socket serves one client at a time, so its K-client figure
//! is left out).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use cpu_models::Target;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use qmp_runtime::{Client, Server, ServerConfig};
use serde_json::{json, Value};

struct Args {
    requests: usize,
    clients: usize,
    one_thread: bool,
}

fn args() -> Args {
    let mut a = Args {
        requests: 2000,
        clients: 8,
        one_thread: false,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    a.one_thread = v.iter().any(|x| x == "--one-thread");
    let mut i = 0;
    while i + 1 < v.len() {
        if v[i] == "--one-thread" {
            i += 1;
            continue;
        }
        let n = v[i + 1].parse().unwrap_or(0);
        match v[i].as_str() {
            "--requests" if n > 0 => a.requests = n,
            "--clients" if n > 0 => a.clients = n,
            _ => {}
        }
        i += 2;
    }
    a
}

fn sock(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("loadgen-{tag}-{}.sock", std::process::id()))
}

/// A server process (QEMU, or our binary) and its socket: killed and
/// removed when dropped.
struct Peer(Child, PathBuf);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

/// `child` once its socket `path` exists (after 10 s, whatever it does).
async fn serving(child: Child, path: PathBuf) -> Peer {
    for _ in 0..500 {
        if path.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Peer(child, path)
}

async fn start_qemu(binary: &str) -> Option<Peer> {
    let bin = Path::new("/usr/bin").join(binary);
    if !bin.is_file() {
        eprintln!("{binary} not installed: QEMU column left empty");
        return None;
    }
    let path = sock(binary);
    let child = cpu_models::qmp_io::qemu_command(&bin, &path).spawn().ok()?;
    Some(serving(child, path).await)
}

/// Our server binary (built next to this example) as a process of its
/// own, started and measured exactly as QEMU is.
async fn start_ours(target: Target) -> Option<Peer> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("qmp-cpu-server");
    if !bin.is_file() {
        eprintln!(
            "{} not built (cargo build --release -p qmp-cpu-server): own-process row left out",
            bin.display()
        );
        return None;
    }
    let path = sock(&format!("ours-{}", target.arch()));
    let child = std::process::Command::new(&bin)
        .arg("--target")
        .arg(target.arch())
        .arg("--socket")
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    Some(serving(child, path).await)
}

async fn connect(path: &Path) -> Client {
    let c = Client::connect_unix(path).await.expect("connects");
    c.negotiate().await.expect("negotiates");
    c
}

/// A raw QMP connection for timing: requests are pre-encoded and the
/// reply is read up to its `\r\n` without being parsed, so the figures
/// are the server's, not a client library's.
struct Raw {
    r: tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    w: tokio::net::unix::OwnedWriteHalf,
    line: Vec<u8>,
}

impl Raw {
    async fn connect(path: &Path) -> Raw {
        use tokio::io::AsyncBufReadExt;
        let s = tokio::net::UnixStream::connect(path)
            .await
            .expect("connects");
        let (r, w) = s.into_split();
        let mut raw = Raw {
            r: tokio::io::BufReader::new(r),
            w,
            line: Vec::new(),
        };
        let _ = raw.r.read_until(b'\n', &mut raw.line).await; // the greeting
        raw.call(b"{\"execute\": \"qmp_capabilities\"}\n").await;
        raw
    }

    async fn call(&mut self, req: &[u8]) -> usize {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let _ = self.w.write_all(req).await;
        self.line.clear();
        let _ = self.r.read_until(b'\n', &mut self.line).await;
        self.line.len()
    }
}

/// Median and 99th percentile of `n` sequential calls, in microseconds.
async fn latency(
    path: &Path,
    n: usize,
    mut req: impl FnMut(usize) -> (String, Option<Value>),
) -> (f64, f64) {
    let mut c = Raw::connect(path).await;
    let reqs: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let (cmd, args) = req(i);
            let mut v = json!({ "execute": cmd });
            if let Some(a) = args {
                v["arguments"] = a;
            }
            let mut b = serde_json::to_vec(&v).unwrap_or_default();
            b.push(b'\n');
            b
        })
        .collect();
    let mut t = Vec::with_capacity(n);
    for r in &reqs {
        let start = Instant::now();
        c.call(r).await;
        t.push(start.elapsed().as_secs_f64() * 1e6);
    }
    p50_p99(t)
}

/// The median and 99th percentile of `t` (not empty).
fn p50_p99(mut t: Vec<f64>) -> (f64, f64) {
    t.sort_by(|a, b| a.total_cmp(b));
    (t[t.len() / 2], t[(t.len() * 99 / 100).min(t.len() - 1)])
}

/// What any answer from another process costs on this machine before any
/// work is done: a line written to `cat` and read back, `n` times, median
/// and 99th percentile in microseconds.  Two processes, two wake-ups, as
/// for a request to a server of its own; `None` without `cat`.
fn wakeup_floor(n: usize) -> Option<(f64, f64)> {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut to = child.stdin.take()?;
    let mut from = BufReader::new(child.stdout.take()?);
    let mut line = Vec::new();
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        to.write_all(b"ping\n").ok()?;
        line.clear();
        from.read_until(b'\n', &mut line).ok()?;
        t.push(start.elapsed().as_secs_f64() * 1e6);
    }
    drop(to);
    let _ = child.wait();
    Some(p50_p99(t))
}

/// Expansions per second with `k` clients each sending `n`.
async fn throughput(path: &Path, k: usize, n: usize, models: &[String]) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for j in 0..k {
        let path = path.to_path_buf();
        let models = models.to_vec();
        tasks.push(tokio::spawn(async move {
            let c = connect(&path).await;
            for i in 0..n {
                let m = &models[(i + j) % models.len()];
                let ty = if i % 2 == 0 { "static" } else { "full" };
                let _ = c
                    .execute_json(
                        "query-cpu-model-expansion",
                        Some(json!({"type": ty, "model": {"name": m}})),
                    )
                    .await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    (k * n) as f64 / start.elapsed().as_secs_f64()
}

async fn measure(
    path: &Path,
    a: &Args,
    defs_n: usize,
    parallel: bool,
    props: &Value,
) -> [String; 7] {
    let c = connect(path).await;
    let defs = c
        .execute_json("query-cpu-definitions", None)
        .await
        .expect("definitions");
    let models: Vec<String> = defs
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    drop(c);
    let bare = latency(path, a.requests, |_| ("query-version".into(), None)).await;
    let exp = latency(path, a.requests, |i| {
        let ty = if i % 2 == 0 { "static" } else { "full" };
        let m = &models[(i / 2) % models.len()];
        (
            "query-cpu-model-expansion".into(),
            Some(json!({"type": ty, "model": {"name": m}})),
        )
    })
    .await;
    // With props: computed per request (nothing precomputed applies).
    let exp_props = latency(path, a.requests, |i| {
        let ty = if i % 2 == 0 { "static" } else { "full" };
        let m = &models[(i / 2) % models.len()];
        (
            "query-cpu-model-expansion".into(),
            Some(json!({"type": ty, "model": {"name": m, "props": props}})),
        )
    })
    .await;
    let defs_l = latency(path, defs_n, |_| ("query-cpu-definitions".into(), None)).await;
    let one = throughput(path, 1, a.requests, &models).await;
    let many = if parallel {
        format!(
            "{:.0}",
            throughput(path, a.clients, a.requests / a.clients.max(1), &models).await
        )
    } else {
        "n/a (one client at a time)".to_string()
    };
    [
        format!("{:.0} / {:.0}", bare.0, bare.1),
        format!("{:.0} / {:.0}", exp.0, exp.1),
        format!("{:.0} / {:.0}", exp_props.0, exp_props.1),
        format!("{:.0} / {:.0}", defs_l.0, defs_l.1),
        format!("{one:.0}"),
        many,
        format!("{}", models.len()),
    ]
}

fn main() {
    let a = args();
    let mut rt = if a.one_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    match rt.enable_all().build() {
        Ok(rt) => rt.block_on(run(a)),
        Err(e) => eprintln!("loadgen: no runtime: {e}"),
    }
}

async fn run(a: Args) {
    println!(
        "| target | side | bare round trip µs (p50 / p99) | expansion µs (p50 / p99) | expansion with props µs (p50 / p99) | query-cpu-definitions µs (p50 / p99) | expansions/s, 1 client | expansions/s, {} clients | models |",
        a.clients
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (target, binary) in [
        (Target::X86_64, "qemu-system-x86_64"),
        (Target::S390x, "qemu-system-s390x"),
    ] {
        let service = qmp_cpu_server::CpuService::new(target).expect("catalogue");
        let server = Server::new(
            service,
            ServerConfig {
                version: qmp_cpu_server::greeting_version(),
                inline_commands: true,
                ..ServerConfig::default()
            },
        );
        let path = sock(target.arch());
        server.listen_unix(&path).await.expect("listens");
        let props = match target {
            Target::X86_64 => json!({"vmx": true, "pmu": false}),
            Target::S390x => json!({"vx": false}),
        };
        let ours = measure(&path, &a, a.requests.min(500), true, &props).await;
        println!("| {} | ours | {} |", target.arch(), ours.join(" | "));
        server.shutdown().await;
        if let Some(p) = start_ours(target).await {
            let own = measure(&p.1, &a, a.requests.min(500), true, &props).await;
            println!(
                "| {} | ours, own process | {} |",
                target.arch(),
                own.join(" | ")
            );
        }
        if let Some(q) = start_qemu(binary).await {
            // QEMU is slow on definitions (~20 ms): fewer samples.
            let fewer = Args {
                requests: a.requests.min(1000),
                clients: a.clients,
                one_thread: a.one_thread,
            };
            let theirs = measure(&q.1, &fewer, 30, false, &props).await;
            println!(
                "| {} | QEMU 10.0.2 (TCG) | {} |",
                target.arch(),
                theirs.join(" | ")
            );
        }
    }
    // After the table, as its footnote: what a reply from another process
    // costs at the least on this machine, before any work.
    if let Some((p50, p99)) = wakeup_floor(a.requests) {
        println!(
            "\nfloor: a line to `cat` (another process) and back, no work: {p50:.0} / {p99:.0} µs (p50 / p99)"
        );
    }
}
