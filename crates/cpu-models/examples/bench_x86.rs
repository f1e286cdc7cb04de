//! Times x86 expansions in-process: `cargo run --release -p cpu-models --example bench_x86`.
use std::time::Instant;

use cpu_models::x86::X86Models;
use cpu_models::CpuModels;
use qapi_types::{CpuModelExpansionType, CpuModelInfo};
use serde_json::json;

fn main() {
    let t = Instant::now();
    let e = match X86Models::builtin() {
        Ok(e) => e,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    println!("load: {:?}", t.elapsed());
    let names: Vec<String> = e
        .definitions()
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.name)
        .collect();
    let with_props = {
        let mut m = CpuModelInfo::new("Haswell".into());
        m.props =
            Some(json!({"avx": false, "family": 6, "sse4_2": false, "level": 20, "pmu": true}));
        m
    };
    for (label, ty) in [
        ("static", CpuModelExpansionType::Static),
        ("full", CpuModelExpansionType::Full),
    ] {
        let n = 20_000;
        let t = Instant::now();
        for i in 0..n {
            let m = CpuModelInfo::new(names[i % names.len()].clone());
            std::hint::black_box(e.expand(ty, &m).ok());
        }
        let all = t.elapsed() / n as u32;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(e.expand(ty, &with_props).ok());
        }
        let props = t.elapsed() / n as u32;
        let t = Instant::now();
        for _ in 0..n {
            let r = e.expand(ty, &with_props).ok();
            std::hint::black_box(serde_json::to_string(&r).ok());
        }
        let ser = t.elapsed() / n as u32;
        println!("{label}: all models {all:?}/expansion, Haswell+5 props {props:?}, incl. JSON text {ser:?}");
    }
    let t = Instant::now();
    for _ in 0..1000 {
        std::hint::black_box(e.definitions().ok());
    }
    println!("definitions: {:?}", t.elapsed() / 1000);
}
