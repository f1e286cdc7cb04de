//! Side by side with a real QEMU 10.0.2: the same requests to
//! `qemu-system-x86_64` / `qemu-system-s390x` and to our server, through
//! our typed client; the replies must be equal (our two extension booleans
//! aside).  Cases go beyond the recorded oracle: models from the live
//! definitions list, feature flags switched both ways, numeric and string
//! properties, wrong types, unknown properties and models.

mod common;

use common::*;
use cpu_models::Target;
use qapi_types as q;
use serde_json::{json, Value};

/// Requests: both expansion types of every `step`-th model, plain and
/// with each of `props`; then fixed odd cases.
fn cases(models: &[String], step: usize, props: &[Value], odd: &[Value]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate().filter(|(i, _)| i % step == 0) {
        for ty in ["static", "full"] {
            out.push((
                "query-cpu-model-expansion".to_string(),
                json!({"type": ty, "model": {"name": m}}),
            ));
            let p = &props[i % props.len()];
            out.push((
                "query-cpu-model-expansion".to_string(),
                json!({"type": ty, "model": {"name": m, "props": p}}),
            ));
        }
    }
    for o in odd {
        out.push(("query-cpu-model-expansion".to_string(), o.clone()));
    }
    out
}

async fn side_by_side(
    target: Target,
    binary: &str,
    props: &[Value],
    odd: &[Value],
    extra: Vec<(String, Value)>,
) {
    let Some(bin) = qemu(binary) else { return };
    let qemu = LiveQemu::start(&bin).await;
    let theirs = client(&qemu.socket).await;
    let (server, path) = start_server(target).await;
    let ours = client(&path).await;

    // The typed client decodes QEMU's definitions.
    let defs: Vec<q::CpuDefinitionInfo> = theirs
        .execute(&q::QueryCpuDefinitions {})
        .await
        .expect("QEMU's definitions decode into qapi-types");
    let models: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    assert_eq!(
        reply(&ours, "query-cpu-definitions", None).await,
        reply(&theirs, "query-cpu-definitions", None).await,
        "query-cpu-definitions"
    );
    let mut all = cases(&models, 3, props, odd);
    all.extend(extra);
    let mut differ = Vec::new();
    for (cmd, args) in &all {
        let a = without_extension(reply(&ours, cmd, Some(args.clone())).await);
        let b = reply(&theirs, cmd, Some(args.clone())).await;
        if a != b {
            differ.push(format!("{cmd} {args}\n  ours {a}\n  QEMU {b}"));
        }
    }
    server.shutdown().await;
    eprintln!(
        "{binary}: {}/{} live requests answered as QEMU does",
        all.len() - differ.len(),
        all.len()
    );
    assert!(
        differ.is_empty(),
        "{} of {} differ from live QEMU:\n{}",
        differ.len(),
        all.len(),
        differ
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x86_64_against_live_qemu() {
    let props = [
        json!({"vmx": true}),
        json!({"avx2": false, "sse4.2": false}),
        json!({"pmu": true}),
        json!({"family": 6, "model": 85, "stepping": 4}),
        json!({"model-id": "A test CPU"}),
        json!({"sse4_1": false}),
        json!({"level": 13, "xlevel": 2147483656u64}),
        json!({"migratable": false}),
    ];
    let odd = [
        json!({"type": "full", "model": {"name": "qemu64", "props": {"bogus": true}}}),
        json!({"type": "full", "model": {"name": "qemu64", "props": {"vmx": "yes"}}}),
        json!({"type": "static", "model": {"name": "qemu64", "props": {"family": -1}}}),
        json!({"type": "static", "model": {"name": "qemu64", "props": {"family": "six"}}}),
        json!({"type": "full", "model": {"name": "no-such-cpu"}}),
        json!({"type": "full", "model": {"name": "base", "props": {"avx512f": true}}}),
        json!({"type": "static", "model": {"name": "max", "props": {"host-cache-info": true}}}),
        json!({"type": "full", "model": {"name": "qemu64", "props": {}}}),
        json!({"type": "full", "model": {"name": "qemu64", "props": []}}),
        json!({"type": "bogus", "model": {"name": "qemu64"}}),
        json!({"model": {"name": "qemu64"}}),
        json!({"type": "full", "model": {"name": 1}}),
        json!({"type": "full", "model": {"name": "qemu64", "foo": 1}}),
    ];
    let extra = vec![
        (
            "query-cpu-model-baseline".to_string(),
            json!({"modela": {"name": "a"}, "modelb": {"name": "b"}}),
        ),
        ("query-cpu-model-comparison".to_string(), json!({})),
    ];
    side_by_side(Target::X86_64, "qemu-system-x86_64", &props, &odd, extra).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s390x_against_live_qemu() {
    let props = [
        json!({"vx": false}),
        json!({"msa5": true}),
        json!({"te": false, "cte": false}),
        json!({"ri": true}),
    ];
    let odd = [
        json!({"type": "full", "model": {"name": "z13", "props": {"bogus": true}}}),
        json!({"type": "full", "model": {"name": "z13", "props": {"vx": "on"}}}),
        json!({"type": "static", "model": {"name": "host"}}),
        json!({"type": "full", "model": {"name": "no-such-cpu"}}),
    ];
    let pairs = [
        ("z13", "z14"),
        ("z14", "z13"),
        ("z15", "z15-base"),
        ("qemu", "max"),
        ("z900", "gen16a"),
    ];
    let mut extra = Vec::new();
    for (a, b) in pairs {
        extra.push((
            "query-cpu-model-comparison".to_string(),
            json!({"modela": {"name": a}, "modelb": {"name": b}}),
        ));
        extra.push((
            "query-cpu-model-baseline".to_string(),
            json!({"modela": {"name": a}, "modelb": {"name": b}}),
        ));
    }
    extra.push((
        "query-cpu-model-comparison".to_string(),
        json!({"modela": {"name": "z14", "props": {"vx": false}}, "modelb": {"name": "z13"}}),
    ));
    side_by_side(Target::S390x, "qemu-system-s390x", &props, &odd, extra).await;
}
