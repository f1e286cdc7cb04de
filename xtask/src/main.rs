//! `cargo xtask`: project chores.
//!
//! * `cargo xtask codegen [--check]`: regenerate the checked-in bindings
//!   (`crates/qapi-types` from `schema/`, `crates/qga-client/src/generated`
//!   from `schema/qga/`); with `--check`, only report whether they are
//!   stale.
//! * `cargo xtask doc-check`: the documentation checks on our schemas;
//!   fails on any finding.
//! * `cargo xtask bench-compile [--runs N]`: `cargo check` from scratch of
//!   our bindings of QEMU 9.1's schema next to `qapi-qmp` 0.15's, in turns;
//!   prints the medians and the ratio.
//! * `cargo xtask import-cpu-models --qemu PATH`: refresh the CPU-model
//!   catalogue of PATH's target from that QEMU binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["doc-check"] => doc_check(),
        ["bench-compile", rest @ ..] => {
            let runs = match rest {
                [] => 5,
                ["--runs", n] => match n.parse() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        eprintln!("bench-compile: --runs takes a positive number");
                        return ExitCode::from(2);
                    }
                },
                _ => {
                    eprintln!("usage: cargo xtask bench-compile [--runs N]");
                    return ExitCode::from(2);
                }
            };
            match xtask::bench_compile::run(runs) {
                Ok(report) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("bench-compile: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        #[cfg(feature = "import")]
        ["import-cpu-models", "--qemu", path] => {
            match xtask::import_cpu_models(std::path::Path::new(path)) {
                Ok(out) => {
                    eprintln!("wrote {}", out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("import-cpu-models: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check]   regenerate the bindings of schema/\n\
                 \x20      cargo xtask doc-check            check the docs of schema/\n\
                 \x20      cargo xtask bench-compile [--runs N]   compile time: ours vs qapi-qmp\n\
                 \x20      cargo xtask import-cpu-models --qemu PATH   refresh a CPU-model catalogue"
            );
            ExitCode::from(2)
        }
    }
}

fn codegen(check: bool) -> ExitCode {
    let all = match xtask::bindings() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for b in &all {
        let stale = xtask::stale_bindings(b);
        if stale.is_empty() {
            eprintln!("{} is up to date", b.name);
            continue;
        }
        if check {
            eprintln!("{} is stale; run `cargo xtask codegen`:", b.name);
            for s in &stale {
                eprintln!("  {s}");
            }
            failed = true;
            continue;
        }
        // Generated files no longer produced are removed.
        for s in &stale {
            if let Some(rel) = s.strip_suffix(" (not generated any more)") {
                let _ = std::fs::remove_file(b.dir.join(rel));
            }
        }
        if let Err(e) = b.files.write(&b.dir) {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        for s in &stale {
            eprintln!("updated {}/{s}", b.name);
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn doc_check() -> ExitCode {
    match xtask::doc_check() {
        Ok(findings) if findings.is_empty() => {
            eprintln!("{}: no documentation findings", xtask::SCHEMAS.join(", "));
            ExitCode::SUCCESS
        }
        Ok(findings) => {
            for f in &findings {
                println!("{f}");
            }
            eprintln!(
                "{}: {} documentation findings",
                xtask::SCHEMAS.join(", "),
                findings.len()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
