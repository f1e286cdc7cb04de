//! Parse + all checks on QEMU's full QMP schema of every release in the
//! corpus (10.0.2's: 43 files, 26,109 lines), docs included, each read with
//! its own release's rules.  Each model is dropped right after its run,
//! outside the timed section.  Reads `../shared/corpus`; prints a note and
//! does nothing when it is absent.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

// Measure with the allocator the `qapi-gen` command uses.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use qapi_gen::parse::Lexer;
use qapi_gen::{LoadOptions, Release};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.join("qemu-10.0.2/qapi/qapi-schema.json")
        .exists()
        .then_some(dir)
}

fn load(path: &str, release: Option<&str>, lexer: Lexer) {
    let opts = LoadOptions {
        release: release.map(|r| r.parse::<Release>().expect("supported")),
        lexer,
    };
    qapi_gen::load_with_options(path, &opts).expect("valid");
}

fn frontend(c: &mut Criterion) {
    let Some(dir) = corpus() else {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    };
    std::env::set_current_dir(&dir).expect("corpus dir");
    let mut g = c.benchmark_group("frontend");
    // The release comes from the tree's VERSION file where it has one, as
    // for a user; the vendored trees name it.
    for (tree, release) in [
        ("qemu-10.0.2", None),
        ("qemu-7.2.0", None),
        ("qemu-8.0", Some("8.0")),
        ("qemu-8.1", Some("8.1")),
        ("qemu-9.1", Some("9.1")),
        ("qemu-10.2.2", None),
    ] {
        let path = format!("{tree}/qapi/qapi-schema.json");
        g.bench_function(format!("{tree}: parse + check (scanner)"), |b| {
            b.iter_batched(
                || (),
                |()| load(&path, release, Lexer::Scanner),
                BatchSize::PerIteration,
            )
        });
    }
    g.bench_function("qemu-10.0.2: parse + check (pest)", |b| {
        b.iter_batched(
            || (),
            |()| load("qemu-10.0.2/qapi/qapi-schema.json", None, Lexer::Pest),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("qemu-10.0.2 qga: parse + check", |b| {
        b.iter_batched(
            || (),
            |()| load("qemu-10.0.2/qga/qapi-schema.json", None, Lexer::Scanner),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);
