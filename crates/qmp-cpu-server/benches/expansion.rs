//! In-process cost of the CPU-model commands through the generated
//! dispatcher (argument checks, decoding, engine, encoding to a `Value`),
//! and through `execute_into` (what the server calls: the reply encoded
//! as bytes, load-time encodings taken as they are): what a request costs
//! our server before any socket work.

use cpu_models::Target;
use criterion::{criterion_group, criterion_main, Criterion};
use qmp_runtime::Service;
use serde_json::{json, Map, Value};

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn bench(c: &mut Criterion) {
    for (target, model) in [(Target::X86_64, "Haswell"), (Target::S390x, "z14")] {
        let service = qmp_cpu_server::CpuService::new(target).expect("catalogue");
        let arch = target.arch();
        for ty in ["static", "full"] {
            let a = json!({"type": ty, "model": {"name": model}});
            c.bench_function(&format!("{arch} {ty} expansion of {model}"), |b| {
                b.iter(|| service.execute("query-cpu-model-expansion", args(a.clone())))
            });
            c.bench_function(&format!("{arch} {ty} expansion of {model}, encoded"), |b| {
                let mut out = Vec::new();
                b.iter(|| {
                    out.clear();
                    service.execute_into("query-cpu-model-expansion", args(a.clone()), &mut out)
                })
            });
        }
        c.bench_function(&format!("{arch} query-cpu-definitions"), |b| {
            b.iter(|| service.execute("query-cpu-definitions", Map::new()))
        });
        c.bench_function(&format!("{arch} query-cpu-definitions, encoded"), |b| {
            let mut out = Vec::new();
            b.iter(|| {
                out.clear();
                service.execute_into("query-cpu-definitions", Map::new(), &mut out)
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
