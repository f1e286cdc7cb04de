//! `cargo xtask bench-compile`: what users pay to build bindings, ours
//! next to the existing `qapi-qmp` crate, on the same schema (QEMU 9.1's,
//! the one `qapi-qmp` 0.15 ships), in one run.
//!
//! A scratch workspace under `target/bench-compile/` holds our generated
//! package of `../shared/corpus/qemu-9.1` (every module), the same with
//! module features and one module on, and a crate that depends on
//! `qapi-qmp`, patched to a copy of its published source under `vendor/`
//! so that both crates are compiled alike: as local crates, lints on.
//!
//! Cargo compiles a crate from a registry without incremental state, and
//! a workspace member with it (a third to a half more work for our
//! check from scratch, a quarter to a third more for `qapi-qmp`'s), so both are measured both ways, each way in a target
//! directory of its own: `CARGO_INCREMENTAL=0` (how either arrives as a
//! dependency from crates.io) and incremental (how either is built as a
//! member of the user's workspace).  A further row checks our package as
//! `qapi-gen generate` writes it, its own workspace, whose profile turns
//! incremental state off: the case of a user who checks the generated
//! package on its own.  `qapi-qmp` keeps every definition
//! whatever its `if` and has no server side, so ours is checked with
//! every condition's feature on; further rows add our server side
//! (feature `server`), keep the package's defaults (every condition off)
//! and keep one module.  Their dependencies are checked once; then each
//! row is checked from scratch (`cargo clean -p CRATE`, then `cargo
//! check`), in turns, `runs` times, and the medians and the ratios are
//! printed.  Nothing here is a test: the numbers are for the README and
//! the notes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use qapi_gen::backend::package::{package, PackageSpec, SupportDep};

/// The `qapi-qmp` release measured against, and the QEMU release whose
/// schema it ships.
const THEIRS_VERSION: &str = "0.15.0";
const SCHEMA_RELEASE: &str = "9.1";

/// The module kept on in the one-module package.
const ONE_MODULE: &str = "machine";

/// How cargo compiles the crate being checked.
#[derive(Clone, Copy, PartialEq)]
enum Build {
    /// `CARGO_INCREMENTAL=0`: how cargo builds any crate from a registry.
    Dependency,
    /// Incremental, as cargo builds a workspace member in the dev profile.
    Member,
    /// `qapi-gen generate`'s package checked on its own: its own workspace,
    /// so its own profile (no incremental state) applies.
    Standalone,
}

/// The directory of the standalone package, outside the workspace.
const STANDALONE: &str = "standalone";

impl Build {
    /// Where cargo runs.
    fn dir(self, dir: &Path) -> PathBuf {
        match self {
            Build::Standalone => dir.join(STANDALONE),
            _ => dir.to_path_buf(),
        }
    }

    fn target_dir(self, dir: &Path) -> PathBuf {
        match self {
            Build::Dependency => dir.join("target-dependency"),
            Build::Member => dir.join("target"),
            Build::Standalone => dir.join(STANDALONE).join("target"),
        }
    }

    /// `CARGO_INCREMENTAL`, or `None` to leave it to the package's profile.
    fn incremental(self) -> Option<&'static str> {
        match self {
            Build::Dependency => Some("0"),
            Build::Member => Some("1"),
            Build::Standalone => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Build::Dependency => "a dependency (CARGO_INCREMENTAL=0)",
            Build::Member => "a workspace member (incremental)",
            Build::Standalone => "on its own (its profile: not incremental)",
        }
    }
}

/// One line of the report: which package is checked (and cleaned), with
/// which features, built how.
struct Row {
    label: &'static str,
    krate: &'static str,
    package: &'static str,
    features: Vec<String>,
    build: Build,
}

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

    // Dependencies (serde, qapi-support, qapi-spec, ...) once per way of
    // building.
    for build in [Build::Dependency, Build::Member, Build::Standalone] {
        cargo(&dir, build, &["check", "--quiet", "--workspace"])?;
    }

    let features = |f: &str| vec!["--features".to_string(), f.to_string()];
    let ours = |label, build| Row {
        label,
        krate: "bench-ours",
        package: "bench-ours",
        features: features(&conditions),
        build,
    };
    let theirs = |label, build| Row {
        label,
        krate: "qapi-qmp",
        package: "bench-theirs",
        features: Vec::new(),
        build,
    };
    let rows = [
        ours("ours, every module", Build::Dependency),
        theirs("qapi-qmp 0.15", Build::Dependency),
        ours("ours, every module", Build::Member),
        theirs("qapi-qmp 0.15", Build::Member),
        Row {
            label: "ours, every module, `qapi-gen generate`'s package",
            krate: "bench-standalone",
            package: "bench-standalone",
            features: features(&conditions),
            build: Build::Standalone,
        },
        Row {
            label: "ours, one module (machine)",
            krate: "bench-ours-one",
            package: "bench-ours-one",
            features: vec![
                "--no-default-features".into(),
                "--features".into(),
                format!("{ONE_MODULE},{conditions}"),
            ],
            build: Build::Member,
        },
        Row {
            features: features(&format!("server,{conditions}")),
            ..ours(
                "ours, every module and the server side (`server`)",
                Build::Member,
            )
        },
        Row {
            features: Vec::new(),
            ..ours(
                "ours, every module, the package's default features (conditions off)",
                Build::Member,
            )
        },
    ];
    let mut times = rows.each_ref().map(|_| Vec::<f64>::new());
    for _ in 0..runs {
        for (i, row) in rows.iter().enumerate() {
            cargo(&dir, row.build, &["clean", "--quiet", "-p", row.krate])?;
            let mut args = vec!["check", "--quiet", "-p", row.package];
            args.extend(row.features.iter().map(String::as_str));
            let t = Instant::now();
            cargo(&dir, row.build, &args)?;
            times[i].push(t.elapsed().as_secs_f64());
        }
    }
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    let m = times.each_ref().map(|t| t[t.len() / 2]);
    let mut out = format!(
        "cargo check from scratch of QEMU {SCHEMA_RELEASE}'s QMP schema bindings, dependencies built, {runs} alternating runs\n\n| crate | built as | median | runs |\n|---|---|---|---|\n"
    );
    for (i, (row, t)) in rows.iter().zip(&times).enumerate() {
        let all: Vec<String> = t.iter().map(|t| format!("{t:.2} s")).collect();
        let built = row.build.describe();
        out.push_str(&format!(
            "| {} | {built} | {:.2} s | {} |\n",
            row.label,
            m[i],
            all.join(", ")
        ));
    }
    let [ours_dep, theirs_dep, ours_member, theirs_member, standalone, one, server, defaults] = m;
    out.push_str(&format!(
        "\nqapi-qmp / ours, every module: {:.2}x as dependencies, {:.2}x as workspace members; \
         qapi-qmp as a dependency / `qapi-gen generate`'s package on its own: {:.2}x \
         (/ ours as an incremental member: {:.2}x); \
         as members: {:.1}x for one module, {:.2}x with the server side, {:.2}x with the default features\n",
        theirs_dep / ours_dep,
        theirs_member / ours_member,
        theirs_dep / standalone,
        theirs_dep / ours_member,
        theirs_member / one,
        theirs_member / server,
        theirs_member / defaults,
    ));
    Ok(out)
}

fn cargo(dir: &Path, build: Build, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args)
        .current_dir(build.dir(dir))
        .env("CARGO_TARGET_DIR", build.target_dir(dir));
    match build.incremental() {
        Some(v) => cmd.env("CARGO_INCREMENTAL", v),
        None => cmd.env_remove("CARGO_INCREMENTAL"),
    };
    let status = cmd
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
    // The two workspace members, and the package as `qapi-gen generate`
    // writes it (its own workspace), in a directory of its own.
    for (name, module_features, standalone, path) in [
        ("bench-ours", false, false, "bench-ours"),
        ("bench-ours-one", true, false, "bench-ours-one"),
        ("bench-standalone", false, true, STANDALONE),
    ] {
        let gen_opts = qapi_gen::backend::rust::Options {
            module_features,
            server_feature: true,
            ..Default::default()
        };
        let spec = PackageSpec {
            name: name.into(),
            header: "Generated by cargo xtask bench-compile.".into(),
            support: SupportDep::Path(support.to_string_lossy().into_owned()),
            standalone,
            crate_doc: None,
            rustfmt_skip: false,
        };
        let files = package(&loaded, &gen_opts, &spec).map_err(|e| e.to_string())?;
        let pkg = dir.join(path);
        let _ = std::fs::remove_dir_all(pkg.join("src"));
        files.write(&pkg).map_err(|e| e.to_string())?;
    }
    let theirs = dir.join("bench-theirs");
    write(
        &theirs.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"bench-theirs\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nqapi-qmp = \"={THEIRS_VERSION}\"\n"
        ),
    )?;
    write(&theirs.join("src/lib.rs"), "pub use qapi_qmp;\n")?;
    let members =
        "[workspace]\nresolver = \"2\"\nmembers = [\"bench-ours\", \"bench-ours-one\", \"bench-theirs\"]\n";
    let vendored = dir.join(format!("vendor/qapi-qmp-{THEIRS_VERSION}"));
    if !vendored.join("Cargo.toml").is_file() {
        // Let cargo fetch the published crate, then copy it beside the
        // workspace.
        write(&dir.join("Cargo.toml"), members)?;
        copy_dir(&published_source(dir)?, &vendored)?;
    }
    write(
        &dir.join("Cargo.toml"),
        &format!("{members}\n[patch.crates-io]\nqapi-qmp = {{ path = \"vendor/qapi-qmp-{THEIRS_VERSION}\" }}\n"),
    )?;
    Ok(conditions)
}

/// Where cargo unpacked the published `qapi-qmp` that the workspace in
/// `dir` depends on, as `cargo metadata` (which fetches it) reports it.
fn published_source(dir: &Path) -> Result<PathBuf, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--quiet"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "qapi-qmp" && p["version"] == THEIRS_VERSION)
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|m| Path::new(m).parent())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            format!(
                "cargo metadata in {} lists no qapi-qmp {THEIRS_VERSION}",
                dir.display()
            )
        })
}

/// Copies the directory tree `from` to `to`, cargo's bookkeeping files
/// left out.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_name().to_string_lossy().starts_with(".cargo") {
            continue;
        }
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

fn write(path: &PathBuf, text: &str) -> Result<(), String> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
