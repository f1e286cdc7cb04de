//! Times each front-end phase on a schema: `cargo run --release --example
//! phases -- SCHEMA [ITERATIONS]`.

use std::time::{Duration, Instant};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: phases SCHEMA [ITERATIONS]");
    let n: u32 = args.next().map_or(50, |s| s.parse().expect("a number"));
    // The release the schema's tree names (else the newest), as `load` does.
    // (PHASES_RELEASE=X.Y reads it as that release instead.)
    let given = std::env::var("PHASES_RELEASE")
        .ok()
        .map(|r| r.parse().expect("a supported release"));
    let (release, _) =
        qapi_gen::release::choose(std::path::Path::new(&path), given).expect("a supported release");
    let (mut tp, mut te, mut tb, mut td) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    for _ in 0..n {
        let t0 = Instant::now();
        let mut parsed = qapi_gen::parse::parse_schema(&path, release.rules()).expect("parses");
        let t1 = Instant::now();
        let exprs = qapi_gen::check::check_exprs(&mut parsed).expect("checks");
        let t2 = Instant::now();
        let schema = qapi_gen::model::build_schema(parsed, exprs).expect("builds");
        let t3 = Instant::now();
        drop(schema);
        let t4 = Instant::now();
        tp += t1 - t0;
        te += t2 - t1;
        tb += t3 - t2;
        td += t4 - t3;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(n);
    if std::env::var_os("PHASES_LEXER").is_some() {
        let texts: Vec<String> =
            std::fs::read_dir(std::path::Path::new(&path).parent().expect("dir"))
                .expect("dir")
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .map(|t| if t.ends_with('\n') { t } else { t + "\n" })
                .collect();
        let t = Instant::now();
        let mut count = 0;
        for _ in 0..n {
            for t in &texts {
                count += qapi_gen::parse::lexer::tokenize(t).len();
            }
        }
        println!(
            "tokenize: {:.3} ms per schema ({count} tokens)",
            ms(t.elapsed())
        );
    }
    println!(
        "parse {:.3} ms, shape checks {:.3} ms, model {:.3} ms, total {:.3} ms (drop {:.3} ms)",
        ms(tp),
        ms(te),
        ms(tb),
        ms(tp + te + tb),
        ms(td)
    );
}
