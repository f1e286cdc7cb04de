//! Every CPU-model exchange recorded from QEMU 10.0.2
//! (`../shared/oracle/{x86,s390x}-oracle.jsonl`) sent to our server over
//! its socket, through the whole stack (framing, negotiation, argument
//! checks, engine): the reply must equal QEMU's as a JSON value, our two
//! extension booleans aside.

mod common;

use common::*;
use cpu_models::Target;
use serde_json::Value;

const CPU_COMMANDS: &[&str] = &[
    "query-cpu-model-expansion",
    "query-cpu-definitions",
    "query-cpu-model-comparison",
    "query-cpu-model-baseline",
];

async fn run(target: Target, file: &str) {
    let Some(shared) = shared() else { return };
    let text = std::fs::read_to_string(shared.join("oracle").join(file)).expect("oracle");
    let (server, path) = start_server(target).await;
    let c = client(&path).await;
    let (mut total, mut failed) = (0, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let rec: Value = serde_json::from_str(line).expect("JSON line");
        let req = &rec["request"];
        let Some(cmd) = req["execute"].as_str() else {
            continue;
        };
        if !CPU_COMMANDS.contains(&cmd) {
            continue;
        }
        total += 1;
        let ours = without_extension(reply(&c, cmd, req.get("arguments").cloned()).await);
        let theirs = rec["response"].clone();
        if ours != theirs {
            failed.push(format!("{}: ours {ours}\n  QEMU {theirs}", rec["tag"]));
        }
    }
    server.shutdown().await;
    eprintln!(
        "{file}: {}/{total} CPU-model exchanges equal to QEMU's",
        total - failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {total} differ:\n{}",
        failed.len(),
        failed
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x86_oracle() {
    run(Target::X86_64, "x86-oracle.jsonl").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s390x_oracle() {
    run(Target::S390x, "s390x-oracle.jsonl").await;
}
