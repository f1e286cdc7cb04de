//! `cargo xtask bench-compile`: what users pay to build bindings, ours
//! next to the existing `qapi-qmp` crate, on the same schema (QEMU 9.1's,
//! the one `qapi-qmp` 0.15 ships), in one run.
//!
//! A scratch workspace under `target/bench-compile/` holds three members:
//! our generated package of `../shared/corpus/qemu-9.1` (every module),
//! the same with module features and one module on, and a crate that
//! depends on `qapi-qmp`.  `qapi-qmp` keeps every definition whatever its
//! `if` and has no server side, so ours is checked with every condition's
//! feature on; a fourth row adds our server side (feature `server`), a
//! fifth is the package's defaults (every condition off).  Their dependencies are checked once; then each
//! is checked from scratch (`cargo clean -p CRATE`, then `cargo check`),
//! in turns, `runs` times, and the medians and the ratio are printed.
//! Nothing here is a test: the numbers are for the README and the notes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use qapi_gen::backend::package::{package, PackageSpec, SupportDep};

/// The `qapi-qmp` release measured against, and the QEMU release whose
/// schema it ships.
const THEIRS: &str = "=0.15.0";
const SCHEMA_RELEASE: &str = "9.1";

/// The module kept on in the one-module package.
const ONE_MODULE: &str = "machine";

/// Runs the benchmark; returns the printed report.
pub fn run(runs: usize) -> Result<String, String> {
    let root = crate::repo_root();
    let schema = root.join("../shared/corpus/qemu-9.1/qapi/qapi-schema.json");
    if !schema.is_file() {
        return Err(format!(
            "{} not found: the benchmark needs ../shared beside the repository",
            schema.display()
        ));
    }
    let dir = root.join("target/bench-compile");
    let conditions = write_workspace(&root, &schema, &dir)?.join(",");

    // Dependencies (serde, qapi-support, qapi-spec, ...) once.
    cargo(&dir, &["check", "--quiet", "--workspace"])?;

    // `qapi-qmp` has every item whatever its `if`, and no server side:
    // ours is measured the same way (every condition's feature on), and
    // with the server side too.
    let one = format!("{ONE_MODULE},{conditions}");
    let server = format!("server,{conditions}");
    let members = [
        (
            "bench-ours",
            "ours, every module",
            vec!["--features", conditions.as_str()],
        ),
        (
            "bench-ours-one",
            "ours, one module (machine)",
            vec!["--no-default-features", "--features", one.as_str()],
        ),
        ("qapi-qmp", "qapi-qmp 0.15", vec![]),
        (
            "bench-ours",
            "ours, every module and the server side (`server`)",
            vec!["--features", server.as_str()],
        ),
        (
            "bench-ours",
            "ours, every module, the package's default features (conditions off)",
            vec![],
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); members.len()];
    for _ in 0..runs {
        for (i, (krate, _, features)) in members.iter().enumerate() {
            cargo(&dir, &["clean", "--quiet", "-p", krate])?;
            let package = if *krate == "qapi-qmp" {
                "bench-theirs"
            } else {
                krate
            };
            let mut args = vec!["check", "--quiet", "-p", package];
            args.extend(features.iter().copied());
            let t = Instant::now();
            cargo(&dir, &args)?;
            times[i].push(t.elapsed().as_secs_f64());
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = times.iter_mut().map(median).collect();
    let mut out = format!(
        "cargo check from scratch of QEMU {SCHEMA_RELEASE}'s QMP schema bindings, dependencies built, {runs} alternating runs\n\n| crate | median | runs |\n|---|---|---|\n"
    );
    for (i, (_, label, _)) in members.iter().enumerate() {
        let all: Vec<String> = times[i].iter().map(|t| format!("{t:.2} s")).collect();
        out.push_str(&format!(
            "| {label} | {:.2} s | {} |\n",
            medians[i],
            all.join(", ")
        ));
    }
    out.push_str(&format!(
        "\nqapi-qmp / ours: {:.2}x (every module), {:.1}x (one module), {:.2}x (with the server side), {:.2}x (default features)\n",
        medians[2] / medians[0],
        medians[2] / medians[1],
        medians[2] / medians[3],
        medians[2] / medians[4]
    ));
    Ok(out)
}

fn cargo(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .status()
        .map_err(|e| format!("cargo {}: {e}", args.join(" ")))?;
    if !status.success() {
        return Err(format!(
            "cargo {} failed in {}",
            args.join(" "),
            dir.display()
        ));
    }
    Ok(())
}

/// The scratch workspace: our two packages and the crate using
/// `qapi-qmp`.  Returns the features of the schema's `if` conditions.
fn write_workspace(root: &Path, schema: &Path, dir: &Path) -> Result<Vec<String>, String> {
    let release = SCHEMA_RELEASE
        .parse()
        .map_err(|e| format!("release {SCHEMA_RELEASE}: {e}"))?;
    let opts = qapi_gen::LoadOptions {
        release: Some(release),
        ..Default::default()
    };
    let loaded =
        qapi_gen::load_with_options(&schema.to_string_lossy(), &opts).map_err(|e| e.to_string())?;
    let support = root.join("crates/qapi-support");
    // The features the schema's `if` conditions become (the same for both
    // packages).
    let conditions: Vec<String> =
        qapi_gen::backend::rust::Prepared::new(&loaded, &Default::default())
            .map_err(|e| e.to_string())?
            .cond_features()
            .into_iter()
            .collect();
    for (name, module_features) in [("bench-ours", false), ("bench-ours-one", true)] {
        let gen_opts = qapi_gen::backend::rust::Options {
            module_features,
            server_feature: true,
            ..Default::default()
        };
        let spec = PackageSpec {
            name: name.into(),
            header: "Generated by cargo xtask bench-compile.".into(),
            support: SupportDep::Path(support.to_string_lossy().into_owned()),
            standalone: false,
            crate_doc: None,
            rustfmt_skip: false,
        };
        let files = package(&loaded, &gen_opts, &spec).map_err(|e| e.to_string())?;
        let pkg = dir.join(name);
        let _ = std::fs::remove_dir_all(pkg.join("src"));
        files.write(&pkg).map_err(|e| e.to_string())?;
    }
    let theirs = dir.join("bench-theirs");
    write(
        &theirs.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"bench-theirs\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nqapi-qmp = \"{THEIRS}\"\n"
        ),
    )?;
    write(&theirs.join("src/lib.rs"), "pub use qapi_qmp;\n")?;
    write(
        &dir.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"bench-ours\", \"bench-ours-one\", \"bench-theirs\"]\n",
    )?;
    Ok(conditions)
}

fn write(path: &PathBuf, text: &str) -> Result<(), String> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
