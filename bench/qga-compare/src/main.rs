//! Our guest-agent clients next to the `qapi` crate's, on one real
//! qemu-ga started here in a temporary directory: round trips of
//! `guest-ping` and `guest-info` (p50 and p99 of each call), and the
//! throughput of moving a 16 MiB file through `guest-file-*`.  The clients
//! take turns, round after round, so that drift on the machine hits all of
//! them alike.
//!
//! `cargo run --release --manifest-path bench/qga-compare/Cargo.toml [ROUNDS] [CALLS]`

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILE_BYTES: usize = 16 << 20;
/// The chunk the `qapi` loop moves per request: the same as our helpers'.
const CHUNK: usize = qga_client::plan::FILE_CHUNK;

struct Agent {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl Agent {
    fn start() -> Agent {
        let dir = std::env::temp_dir().join(format!("qga-compare-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("state")).expect("temp dir");
        let socket = dir.join("qga.sock");
        let child = Command::new("/usr/sbin/qemu-ga")
            .args(["-m", "unix-listen", "-p"])
            .arg(&socket)
            .arg("-t")
            .arg(dir.join("state"))
            .arg("-f")
            .arg(dir.join("pid"))
            .args([
                "-b",
                "guest-shutdown,guest-suspend-disk,guest-suspend-ram,guest-suspend-hybrid",
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("qemu-ga (Debian's qemu-guest-agent) starts");
        while !socket.exists() {
            std::thread::sleep(Duration::from_millis(10));
        }
        Agent { child, socket, dir }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Per-call times of `calls` runs of `f`.
fn time_calls(calls: usize, mut f: impl FnMut()) -> Vec<Duration> {
    (0..calls)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

fn mib_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[derive(Default)]
struct Figures {
    ping: Vec<Duration>,
    info: Vec<Duration>,
    write: Vec<Duration>,
    read: Vec<Duration>,
}

/// The `qapi` crate's client: its typed commands, and the file loop a user
/// of it writes (it has no file helper).
fn qapi_round(socket: &Path, calls: usize, file: &str, data: &[u8], f: &mut Figures) {
    use qapi::qga;
    let stream = UnixStream::connect(socket).expect("connect");
    let mut ga = qapi::Qga::from_stream(&stream);
    ga.guest_sync(0x1234_5678).expect("guest-sync");
    f.ping.extend(time_calls(calls, || {
        ga.execute(&qga::guest_ping {}).expect("ping");
    }));
    f.info.extend(time_calls(calls / 4, || {
        ga.execute(&qga::guest_info {}).expect("info");
    }));
    let t = Instant::now();
    let h = ga
        .execute(&qga::guest_file_open {
            path: file.into(),
            mode: Some("w".into()),
        })
        .expect("open");
    for chunk in data.chunks(CHUNK) {
        ga.execute(&qga::guest_file_write {
            handle: h,
            // qapi-qga encodes the bytes itself.
            buf_b64: chunk.to_vec(),
            count: None,
        })
        .expect("write");
    }
    ga.execute(&qga::guest_file_close { handle: h })
        .expect("close");
    f.write.push(t.elapsed());
    let t = Instant::now();
    let h = ga
        .execute(&qga::guest_file_open {
            path: file.into(),
            mode: Some("r".into()),
        })
        .expect("open");
    let mut back = Vec::with_capacity(data.len());
    loop {
        let r = ga
            .execute(&qga::guest_file_read {
                handle: h,
                count: Some(CHUNK as i64),
            })
            .expect("read");
        back.extend(r.buf_b64);
        if r.eof {
            break;
        }
    }
    ga.execute(&qga::guest_file_close { handle: h })
        .expect("close");
    f.read.push(t.elapsed());
    assert!(back == data);
}

fn ours_blocking_round(socket: &Path, calls: usize, file: &str, data: &[u8], f: &mut Figures) {
    use qga_client::schema;
    let mut ga = qga_client::blocking::GaClient::connect_unix(socket).expect("connect");
    f.ping.extend(time_calls(calls, || {
        ga.execute(&schema::GuestPing {}).expect("ping");
    }));
    f.info.extend(time_calls(calls / 4, || {
        ga.execute(&schema::GuestInfo {}).expect("info");
    }));
    let t = Instant::now();
    ga.write_file(file, data).expect("write_file");
    f.write.push(t.elapsed());
    let t = Instant::now();
    let back = ga.read_file(file).expect("read_file");
    f.read.push(t.elapsed());
    assert!(back == data);
}

fn ours_async_round(
    rt: &tokio::runtime::Runtime,
    socket: &Path,
    calls: usize,
    file: &str,
    data: &[u8],
    f: &mut Figures,
) {
    use qga_client::schema;
    rt.block_on(async {
        let ga = qga_client::GaClient::connect_unix(socket)
            .await
            .expect("connect");
        for _ in 0..calls {
            let t = Instant::now();
            ga.execute(&schema::GuestPing {}).await.expect("ping");
            f.ping.push(t.elapsed());
        }
        for _ in 0..calls / 4 {
            let t = Instant::now();
            ga.execute(&schema::GuestInfo {}).await.expect("info");
            f.info.push(t.elapsed());
        }
        let t = Instant::now();
        ga.write_file(file, data).await.expect("write_file");
        f.write.push(t.elapsed());
        let t = Instant::now();
        let back = ga.read_file(file).await.expect("read_file");
        f.read.push(t.elapsed());
        assert!(back == data);
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let agent = Agent::start();
    let file = agent.dir.join("blob");
    let file = file.to_str().expect("utf-8 path");
    let data = random_bytes(FILE_BYTES);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut ours = Figures::default();
    let mut ours_async = Figures::default();
    let mut theirs = Figures::default();
    for _ in 0..rounds {
        ours_blocking_round(&agent.socket, calls, file, &data, &mut ours);
        qapi_round(&agent.socket, calls, file, &data, &mut theirs);
        ours_async_round(&rt, &agent.socket, calls, file, &data, &mut ours_async);
    }
    println!(
        "{rounds} rounds x {calls} guest-ping and {} guest-info per client; {} MiB file, {} MiB per request",
        calls / 4,
        FILE_BYTES >> 20,
        CHUNK >> 20
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} {:>11} {:>11}",
        "client", "ping p50", "ping p99", "info p50", "info p99", "write MiB/s", "read MiB/s"
    );
    for (name, f) in [
        ("qga-client (blocking)", &mut ours),
        ("qga-client (tokio)", &mut ours_async),
        ("qapi 0.15 + qapi-qga 0.13", &mut theirs),
    ] {
        let w = pct(&mut f.write, 0.5);
        let r = pct(&mut f.read, 0.5);
        println!(
            "{:<28} {:>8}µs {:>8}µs {:>8}µs {:>8}µs {:>11.1} {:>11.1}",
            name,
            pct(&mut f.ping, 0.5).as_micros(),
            pct(&mut f.ping, 0.99).as_micros(),
            pct(&mut f.info, 0.5).as_micros(),
            pct(&mut f.info, 0.99).as_micros(),
            mib_s(FILE_BYTES, w),
            mib_s(FILE_BYTES, r),
        );
    }
}
