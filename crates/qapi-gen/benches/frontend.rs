//! Parse + all checks on QEMU's full QMP schema (43 files, 26,109 lines),
//! docs included.  Each model is dropped right after its run, outside the
//! timed section.  Reads `../shared/corpus`; prints a note and does nothing
//! when it is absent.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

// Measure with the allocator the `qapi-gen` command uses.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use qapi_gen::parse::Lexer;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/qemu-10.0.2");
    dir.join("qapi/qapi-schema.json").exists().then_some(dir)
}

fn frontend(c: &mut Criterion) {
    let Some(dir) = corpus() else {
        eprintln!("skipping: ../shared/corpus/qemu-10.0.2 not found");
        return;
    };
    std::env::set_current_dir(&dir).expect("corpus dir");
    let mut g = c.benchmark_group("frontend");
    g.bench_function("qemu-system: parse + check (scanner)", |b| {
        b.iter_batched(
            || (),
            |()| qapi_gen::load_with("qapi/qapi-schema.json", Lexer::Scanner).expect("valid"),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("qemu-system: parse + check (pest)", |b| {
        b.iter_batched(
            || (),
            |()| qapi_gen::load_with("qapi/qapi-schema.json", Lexer::Pest).expect("valid"),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("qga: parse + check", |b| {
        b.iter_batched(
            || (),
            |()| qapi_gen::load("qga/qapi-schema.json").expect("valid"),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
