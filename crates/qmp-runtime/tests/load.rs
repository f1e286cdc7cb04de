//! 64 concurrent clients × 1,000 requests each, every reply checked; the
//! peak RSS of the process (server and clients) is printed.

mod common;

use common::{start, Raw};

const CLIENTS: usize = 64;
const REQUESTS: usize = 1000;

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_many_requests() {
    let before = vm_hwm_kib();
    let (server, path) = start("load").await;
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Raw::negotiated(&path).await;
            // Pipelined in batches of 50, alternating commands.
            for batch in 0..REQUESTS / 50 {
                let mut out = String::new();
                for i in 0..50 {
                    let n = batch * 50 + i;
                    let cmd = if n % 2 == 0 { "query-target" } else { "query-version" };
                    out.push_str(&format!(r#"{{"execute":"{cmd}","id":[{client},{n}]}}"#));
                }
                c.send(&out).await;
                for i in 0..50 {
                    let n = batch * 50 + i;
                    let line = c.line().await;
                    let want = if n % 2 == 0 {
                        format!(r#"{{"return": {{"arch": "x86_64"}}, "id": [{client}, {n}]}}"#)
                    } else {
                        format!(
                            r#"{{"return": {{"qemu": {{"micro": 2, "minor": 0, "major": 10}}, "package": "{}"}}, "id": [{client}, {n}]}}"#,
                            common::PACKAGE
                        )
                    };
                    assert_eq!(line, want);
                }
            }
            REQUESTS
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.expect("client task");
    }
    let elapsed = started.elapsed();
    assert_eq!(answered, CLIENTS * REQUESTS);
    server.shutdown().await;
    println!(
        "{CLIENTS} clients x {REQUESTS} requests: all {answered} answered correctly in {:.2?} ({:.0} req/s); \
         peak RSS (VmHWM) {} KiB (before the server: {} KiB)",
        elapsed,
        answered as f64 / elapsed.as_secs_f64(),
        vm_hwm_kib().map_or("?".into(), |v| v.to_string()),
        before.map_or("?".into(), |v| v.to_string()),
    );
}
