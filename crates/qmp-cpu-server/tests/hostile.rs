//! The server under hostile clients, measured from outside on the
//! `qmp-cpu-server` binary (`/proc/PID` for memory and CPU): a client
//! that sends as fast as it can and never reads, running out of file
//! descriptors, a 100 MB token.  Each pattern is bounded in count and
//! time and asserts a bound, and other clients are answered meanwhile.
//! The figures are printed for the issue notes (`--nocapture`).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `qmp-cpu-server`; killed on drop.
struct Server {
    child: Child,
    socket: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Starts the server, with at most `nofile` open descriptors if given.
fn start(tag: &str, nofile: Option<u32>) -> Server {
    let socket =
        std::env::temp_dir().join(format!("qmp-hostile-{tag}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&socket);
    let bin = env!("CARGO_BIN_EXE_qmp-cpu-server");
    let mut cmd = match nofile {
        Some(n) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--nofile={n}")).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let child = cmd
        .args(["--target", "x86_64", "--socket"])
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qmp-cpu-server");
    let s = Server { child, socket };
    for _ in 0..200 {
        if s.socket.exists() && UnixStream::connect(&s.socket).is_ok() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the server's socket did not appear");
}

/// A field of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) of the process so far.
fn cpu_time(pid: u32) -> Duration {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // After the command name in parentheses: fields 14 and 15 (utime,
    // stime) are the 12th and 13th after it.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    let ticks = f.iter().sum::<u64>();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// A negotiated client that reads its replies.
struct Client {
    w: UnixStream,
    r: BufReader<UnixStream>,
}

impl Client {
    fn connect(socket: &Path) -> Client {
        let w = UnixStream::connect(socket).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let r = BufReader::new(w.try_clone().expect("clone"));
        let mut c = Client { w, r };
        c.line(); // greeting
        c.call(r#"{"execute":"qmp_capabilities"}"#);
        c
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("a reply in time");
        l
    }

    fn call(&mut self, req: &str) -> String {
        self.w.write_all(req.as_bytes()).expect("send");
        loop {
            let l = self.line();
            if !l.contains("\"event\"") {
                return l;
            }
        }
    }
}

/// Sends `request` as fast as it can for `secs`, never reading: how many
/// requests went out.
fn flood(socket: &Path, request: &str, secs: u64) -> usize {
    let mut s = UnixStream::connect(socket).expect("connect");
    s.write_all(br#"{"execute":"qmp_capabilities"}"#)
        .expect("send");
    s.set_write_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let batch = request.repeat(64);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut sent = 0;
    while Instant::now() < deadline {
        match s.write(batch.as_bytes()) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("flood: {e}"),
        }
    }
    sent / request.len()
}

#[test]
fn a_client_that_never_reads_is_throttled_not_buffered() {
    for request in [
        r#"{"execute":"query-version"}"#,
        r#"{"execute":"query-cpu-definitions"}"#,
    ] {
        let server = start("flood", None);
        let pid = server.child.id();
        let before = status_kb(pid, "VmRSS");
        let socket = server.socket.clone();
        let flooder = std::thread::spawn(move || flood(&socket, request, 3));
        // Meanwhile, another client is answered.
        let mut other = Client::connect(&server.socket);
        let t = Instant::now();
        for _ in 0..20 {
            let r = other.call(r#"{"execute":"query-version"}"#);
            assert!(r.contains("\"return\""), "{r}");
        }
        let answered = t.elapsed();
        let sent = flooder.join().expect("flooder");
        let peak = status_kb(pid, "VmHWM");
        eprintln!(
            "non-reading client, {request}: {sent} requests accepted in 3 s; RSS {} MB before, \
             peak {} MB; 20 requests of another client answered in {answered:?}",
            before / 1024,
            peak / 1024
        );
        assert!(
            peak < 64 * 1024,
            "peak RSS {peak} kB under one non-reading client"
        );
        assert!(
            sent < 1_000_000,
            "{sent} requests accepted: the client is not throttled"
        );
    }
}

#[test]
fn out_of_descriptors_the_accept_loop_waits_and_recovers() {
    let server = start("fds", Some(64));
    let pid = server.child.id();
    let mut early = Client::connect(&server.socket);
    // 120 clients connect and hold: the limit of 64 runs out.
    let holders: Vec<UnixStream> = (0..120)
        .filter_map(|_| UnixStream::connect(&server.socket).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let cpu0 = cpu_time(pid);
    let t = Instant::now();
    // Meanwhile a client connected earlier is answered.
    for _ in 0..10 {
        let r = early.call(r#"{"execute":"query-version"}"#);
        assert!(r.contains("\"return\""), "{r}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let wall = t.elapsed();
    let cpu = cpu_time(pid) - cpu0;
    eprintln!(
        "descriptors exhausted (limit 64, {} clients holding): {cpu:?} of CPU in {wall:?}",
        holders.len()
    );
    assert!(
        cpu < wall / 4,
        "the server burns {cpu:?} of CPU in {wall:?} while out of descriptors"
    );
    drop(holders);
    // It recovers: a new client is served.
    let t = Instant::now();
    let mut late = Client::connect(&server.socket);
    let r = late.call(r#"{"execute":"query-version"}"#);
    assert!(r.contains("\"return\""), "{r}");
    eprintln!(
        "descriptors freed: a new client served after {:?}",
        t.elapsed()
    );
}

#[test]
fn a_huge_token_is_refused_and_its_memory_given_back() {
    let server = start("huge", None);
    let pid = server.child.id();
    {
        let mut c = Client::connect(&server.socket);
        let mut msg = Vec::with_capacity(101 << 20);
        // 100 MB: beyond QEMU's 64 MiB limit on one message's tokens.
        msg.extend_from_slice(br#"{"execute": "query-version", "arguments": {"x": ""#);
        msg.resize(msg.len() + (100 << 20), b'a');
        msg.extend_from_slice(b"\"}}");
        c.w.write_all(&msg).expect("send");
        drop(msg);
        let r = c.line();
        assert!(r.contains("JSON token size limit exceeded"), "{:.200}", r);
    }
    // The server is still well: another client is answered.
    let mut other = Client::connect(&server.socket);
    let r = other.call(r#"{"execute":"query-version"}"#);
    assert!(r.contains("\"return\""), "{r}");
    // The server may still be reading what the client left in the
    // socket; its memory must come back once it is done.
    let left = Instant::now();
    let mut rss = status_kb(pid, "VmRSS");
    while rss >= 64 * 1024 && left.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
        rss = status_kb(pid, "VmRSS");
    }
    let peak = status_kb(pid, "VmHWM");
    eprintln!(
        "100 MB string token: refused; peak RSS {} MB, {} MB {:?} after the client left",
        peak / 1024,
        rss / 1024,
        left.elapsed()
    );
    assert!(rss < 64 * 1024, "RSS {rss} kB kept after the client left");
}
