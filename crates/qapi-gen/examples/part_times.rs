//! Times the generation and the formatting of each part of a package, on
//! one thread: `cargo run --release --features mimalloc --example
//! part_times -- SCHEMA`.  Shows where `qapi-gen generate` spends its time
//! and which part bounds the parallel wall time.

use std::time::{Duration, Instant};

use qapi_gen::backend::package::format_items;
use qapi_gen::backend::rust::{Options, Prepared};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let path = std::env::args().nth(1).expect("usage: part_times SCHEMA");
    let schema = qapi_gen::load(&path).expect("valid");
    let opts = Options {
        module_features: true,
        ..Options::default()
    };
    let prepared = Prepared::new(&schema, &opts).expect("prepares");
    let parts = prepared.parts();
    // Best of five per part.
    let mut best = vec![(0usize, Duration::MAX, Duration::MAX); parts.len()];
    for _ in 0..5 {
        for (i, part) in parts.iter().enumerate() {
            let t0 = Instant::now();
            let out = prepared.part(*part).expect("generates");
            let t1 = Instant::now();
            let text = format_items(Vec::new(), out.items, &out.docs);
            let t2 = Instant::now();
            let b = &mut best[i];
            *b = (text.len(), b.1.min(t1 - t0), b.2.min(t2 - t1));
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut rows: Vec<_> = parts.iter().zip(&best).collect();
    rows.sort_by_key(|(_, b)| std::cmp::Reverse(b.1 + b.2));
    let (mut g, mut f) = (0.0, 0.0);
    println!(
        "{:>16} {:>9} {:>9} {:>9}",
        "part", "bytes", "build ms", "print ms"
    );
    for (part, (len, tg, tf)) in &rows {
        println!(
            "{:>16} {len:>9} {:>9.2} {:>9.2}",
            format!("{part:?}"),
            ms(*tg),
            ms(*tf)
        );
        g += ms(*tg);
        f += ms(*tf);
    }
    println!("{:>16} {:>9} {g:>9.1} {f:>9.1}", "total", "");
}
