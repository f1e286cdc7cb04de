//! Times the s390x engine in-process:
//! `cargo run --release -p cpu-models --example bench_s390x`.

use std::hint::black_box;
use std::time::Instant;

use cpu_models::s390x::S390xModels;
use cpu_models::CpuModels;
use qapi_types::{CpuModelExpansionType, CpuModelInfo};
use serde_json::json;

fn time(label: &str, n: u32, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{label:<44} {us:>8.2} µs");
}

fn main() {
    let t = Instant::now();
    let e = S390xModels::builtin().expect("catalogue loads");
    println!(
        "{:<44} {:>8.2} ms",
        "load catalogue",
        t.elapsed().as_secs_f64() * 1e3
    );
    let z13 = CpuModelInfo::new("z13".into());
    let mut z13p = CpuModelInfo::new("z13".into());
    z13p.props = Some(json!({"vx": false, "msa": false, "core-id": 2}));
    let gen16 = CpuModelInfo::new("gen16a".into());
    let n = 20_000;
    time("expansion static z13", n, || {
        black_box(
            e.expand(CpuModelExpansionType::Static, black_box(&z13))
                .ok(),
        );
    });
    time("expansion full z13", n, || {
        black_box(e.expand(CpuModelExpansionType::Full, black_box(&z13)).ok());
    });
    time("expansion static z13 + 3 props", n, || {
        black_box(
            e.expand(CpuModelExpansionType::Static, black_box(&z13p))
                .ok(),
        );
    });
    time("expansion full z13 + 3 props", n, || {
        black_box(e.expand(CpuModelExpansionType::Full, black_box(&z13p)).ok());
    });
    time("comparison z13+props vs gen16a", n, || {
        black_box(e.compare(black_box(&z13p), &gen16).ok());
    });
    time("baseline z13+props, gen16a", n, || {
        black_box(e.baseline(black_box(&z13p), &gen16).ok());
    });
    time("query-cpu-definitions", 2_000, || {
        black_box(e.definitions().ok());
    });
    let models: Vec<CpuModelInfo> = e
        .definitions()
        .unwrap_or_default()
        .into_iter()
        .map(|d| CpuModelInfo::new(d.name))
        .collect();
    let mut i = 0;
    time("expansion full, all models round-robin", n, || {
        i = (i + 1) % models.len();
        black_box(e.expand(CpuModelExpansionType::Full, &models[i]).ok());
    });
    time("expansion full + serialize to JSON", n, || {
        let r = e.expand(CpuModelExpansionType::Full, black_box(&z13));
        black_box(r.ok().and_then(|r| serde_json::to_string(&r).ok()));
    });
}
