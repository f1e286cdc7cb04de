//! 64 clients × 1,000 requests each against the CPU-model server: every
//! reply must be the right one (compared with the engine's own answer for
//! that request), and memory must stay bounded (peak RSS printed).

mod common;

use common::*;
use cpu_models::Target;
use serde_json::{json, Value};

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_a_thousand_requests_each() {
    const CLIENTS: usize = 64;
    const REQUESTS: usize = 1000;
    let (server, path) = start_server(Target::X86_64).await;
    let probe = client(&path).await;
    let defs = probe
        .execute_json("query-cpu-definitions", None)
        .await
        .expect("definitions");
    let models: Vec<String> = defs
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["name"].as_str().map(String::from))
        .collect();
    // The expected reply of each distinct request, asked once up front.
    let mut expected = std::collections::HashMap::new();
    for (i, m) in models.iter().enumerate().take(16) {
        let ty = if i % 2 == 0 { "static" } else { "full" };
        let args = json!({"type": ty, "model": {"name": m}});
        let r = reply(&probe, "query-cpu-model-expansion", Some(args.clone())).await;
        expected.insert(args.to_string(), r);
    }
    let expected = std::sync::Arc::new(expected);
    let before = vm_hwm_kib();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let path = path.clone();
        let expected = expected.clone();
        tasks.push(tokio::spawn(async move {
            let cl = client(&path).await;
            let mut keys: Vec<&String> = expected.keys().collect();
            keys.sort();
            for i in 0..REQUESTS {
                if i % 4 == 0 {
                    let k = keys[(i / 4 + c) % keys.len()];
                    let args: Value = serde_json::from_str(k).expect("key is JSON");
                    let r = reply(&cl, "query-cpu-model-expansion", Some(args)).await;
                    assert_eq!(&r, &expected[k], "client {c} request {i}");
                } else if i % 4 == 1 {
                    let r = reply(
                        &cl,
                        "query-cpu-model-expansion",
                        Some(json!({"model": {"name": "x"}})),
                    )
                    .await;
                    assert_eq!(r["error"]["desc"], "Parameter 'type' is missing");
                } else {
                    let r = reply(&cl, "query-version", None).await;
                    assert_eq!(r["return"]["qemu"]["major"], 10);
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("a client task failed");
    }
    server.shutdown().await;
    eprintln!(
        "{} requests answered; peak RSS {:?} KiB before the load, {:?} KiB after",
        CLIENTS * REQUESTS,
        before,
        vm_hwm_kib()
    );
}
