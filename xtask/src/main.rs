//! `cargo xtask`: project chores.
//!
//! * `cargo xtask codegen [--check]`: regenerate `crates/qapi-types` from
//!   `schema/` (with `--check`, only report whether it is stale).
//! * `cargo xtask doc-check`: the documentation checks on `schema/`;
//!   fails on any finding.
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
                "usage: cargo xtask codegen [--check]   regenerate crates/qapi-types from schema/\n\
                 \x20      cargo xtask doc-check            check the docs of schema/\n\
                 \x20      cargo xtask import-cpu-models --qemu PATH   refresh a CPU-model catalogue"
            );
            ExitCode::from(2)
        }
    }
}

fn codegen(check: bool) -> ExitCode {
    let files = match xtask::qapi_types_files() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = xtask::qapi_types_dir();
    let stale = xtask::stale(&files, &dir);
    if stale.is_empty() {
        eprintln!("crates/qapi-types is up to date");
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!("crates/qapi-types is stale; run `cargo xtask codegen`:");
        for s in &stale {
            eprintln!("  {s}");
        }
        return ExitCode::FAILURE;
    }
    // Generated files no longer produced are removed.
    for s in &stale {
        if let Some(rel) = s.strip_suffix(" (not generated any more)") {
            let _ = std::fs::remove_file(dir.join(rel));
        }
    }
    if let Err(e) = files.write(&dir) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    for s in &stale {
        eprintln!("updated {s}");
    }
    ExitCode::SUCCESS
}

fn doc_check() -> ExitCode {
    match xtask::doc_check() {
        Ok(findings) if findings.is_empty() => {
            eprintln!("{}: no documentation findings", xtask::SCHEMA);
            ExitCode::SUCCESS
        }
        Ok(findings) => {
            for f in &findings {
                println!("{f}");
            }
            eprintln!(
                "{}: {} documentation findings",
                xtask::SCHEMA,
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
