//! Drives the protocol in process (`Session`: bytes in, bytes out) with the
//! loadgen's request mix, for profiling:
//!
//! ```text
//! cargo run --release -p qmp-cpu-server --example session_loop -- [x86_64|s390x] [expansion|props|definitions|version] [N]
//! ```

use std::time::Instant;

use cpu_models::Target;
use qmp_runtime::{ServerConfig, Service, Session};
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let target = a
        .first()
        .and_then(|s| Target::from_arch(s))
        .unwrap_or(Target::X86_64);
    let what = a.get(1).map_or("expansion", String::as_str).to_string();
    let n: usize = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(20000);
    let service = qmp_cpu_server::CpuService::new(target).expect("catalogue");
    let defs = service
        .execute("query-cpu-definitions", serde_json::Map::new())
        .expect("definitions");
    let models: Vec<String> = defs
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut s = Session::new(
        service,
        ServerConfig {
            version: qmp_cpu_server::greeting_version(),
            ..ServerConfig::default()
        },
    );
    s.feed(b"{\"execute\": \"qmp_capabilities\"}");
    let reqs: Vec<Vec<u8>> = (0..models.len() * 2)
        .map(|i| {
            let v = match what.as_str() {
                "definitions" => json!({"execute": "query-cpu-definitions"}),
                "version" => json!({"execute": "query-version"}),
                // With props, nothing is taken from load time; the props
                // are the loadgen's.
                "props" => {
                    let ty = if i % 2 == 0 { "static" } else { "full" };
                    let props = match target {
                        Target::X86_64 => json!({"vmx": true, "pmu": false}),
                        Target::S390x => json!({"vx": false}),
                    };
                    json!({"execute": "query-cpu-model-expansion",
                           "arguments": {"type": ty, "model": {"name": models[(i / 2) % models.len()], "props": props}}})
                }
                _ => {
                    let ty = if i % 2 == 0 { "static" } else { "full" };
                    json!({"execute": "query-cpu-model-expansion",
                           "arguments": {"type": ty, "model": {"name": models[(i / 2) % models.len()]}}})
                }
            };
            let mut b = serde_json::to_vec(&v).unwrap_or_default();
            b.push(b'\n');
            b
        })
        .collect();
    let start = Instant::now();
    let mut bytes = 0;
    for i in 0..n {
        bytes += s.feed(&reqs[i % reqs.len()]).len();
    }
    let el = start.elapsed();
    println!(
        "{} {what}: {:.1} us/request ({} bytes/reply)",
        target.arch(),
        el.as_secs_f64() * 1e6 / n as f64,
        bytes / n
    );
}
