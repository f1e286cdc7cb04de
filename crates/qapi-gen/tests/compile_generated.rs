//! The generated Rust compiles with zero rustc and clippy warnings.
//!
//! * QEMU's test schemas `qapi-schema-test.json` and `doc-good.json`, as
//!   `single_file` makes them (the snapshots of `tests/golden.rs`): each is
//!   `include!`d twice into a throwaway crate, once with `#[cfg]`
//!   conditions and once with conditions evaluated, and checked with no
//!   features, default features and all features.
//! * QEMU 10.0.2's three real schemas, through `qapi-gen generate
//!   --module-features` (the whole CLI path): `cargo clippy --all-features
//!   -- -D warnings`, `cargo check --no-default-features`, and either
//!   `--features machine` alone (the QMP schema) or a plain `cargo check`.
//!
//! * The QMP schema of every other release in the corpus (7.2.0, 8.0, 8.1,
//!   9.1, 10.2.2) and the guest-agent schemas of 7.2.0 and 10.2.2, each
//!   read with its own release's rules: `cargo clippy --all-features --
//!   -D warnings`.
//!
//! * Range bindings: 10.2.2's QMP schema `--compatible-with` the five older
//!   corpus releases, with `#[cfg]` conditions (merged conditions become
//!   `any(...)`): `cargo clippy --all-features -- -D warnings`.
//!
//! Heavy: it runs cargo on the generated packages.  They live under
//! `<target>/generated-check/pkgs/` and build into
//! `<target>/generated-check` (one target dir, so serde and friends build
//! once and reruns are incremental); each package gets a copy of the
//! workspace's `Cargo.lock`, so dependency versions are the pinned ones.
//! Without `../shared` the tests print why and pass.

mod common;
mod golden_schemas;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use qapi_gen::backend::rust::{generate, Options};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `<target>/generated-check`, where `<target>` is the target dir this
/// test was built in (`CARGO_TARGET_DIR` when set, else the workspace's).
fn check_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        _ => workspace_root().join("target"),
    };
    target.join("generated-check")
}

/// A fresh package directory for `name`; files already right are kept
/// (the writers skip unchanged files) so cargo does not rebuild them.
fn package_dir(name: &str) -> PathBuf {
    let dir = check_dir().join("pkgs").join(name);
    std::fs::create_dir_all(dir.join("src")).expect("create package dir");
    dir
}

/// Writes `text` to `path` unless it already holds it.
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Pins the package's dependencies to the workspace's versions.
fn copy_lock(dir: &Path) {
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(workspace_root().join("Cargo.lock"), &lock).expect("copy Cargo.lock");
    }
}

/// Runs `cargo ARGS` in `dir` and panics with cargo's whole output when
/// it fails or anything warns.
fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", check_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warned = stderr
        .lines()
        .any(|l| l.starts_with("warning") || l.starts_with("error"));
    if !out.status.success() || warned {
        let mut msg = format!(
            "`cargo {}` in {} {}\n",
            args.join(" "),
            dir.display(),
            if out.status.success() {
                "warned"
            } else {
                "failed"
            }
        );
        let _ = write!(
            msg,
            "--- stdout ---\n{}\n--- stderr ---\n{stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        panic!("{msg}");
    }
    eprintln!("ok: cargo {} ({})", args.join(" "), dir.display());
}

/// Architecture invariant: a generated package builds without proc
/// macros (no serde derive in generated code or in qapi-support), so its
/// dependency tree has no `serde_derive` and no `syn`.
fn no_proc_macros(dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--all-features", "-e", "normal", "--prefix", "none"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", check_dir())
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"qapi-support"), "{tree}");
    for banned in ["serde_derive", "syn", "proc-macro2"] {
        assert!(
            !crates.contains(&banned),
            "{banned} in the tree of {}:\n{tree}",
            dir.display()
        );
    }
}

fn support_path() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../qapi-support")
        .canonicalize()
        .expect("qapi-support exists");
    p.to_str().expect("UTF-8 path").replace('\\', "/")
}

/// A crate holding a test schema's `single_file` output twice: with
/// `#[cfg]` conditions (module `cfg`, each condition symbol a feature)
/// and with conditions evaluated (module `evaluated`).
fn single_file_crate(shared: &Path, name: &str) {
    let schema = golden_schemas::load(shared, name);
    let features = generate(&schema, &Options::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .cond_features;
    let stem = name.trim_end_matches(".json");
    let pkg = format!("golden-{stem}");
    let dir = package_dir(&pkg);
    let mut toml = format!(
        "[package]\nname = \"{pkg}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nqapi-support = {{ path = \"{}\" }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         [features]\n",
        support_path()
    );
    for f in &features {
        let _ = writeln!(toml, "{f} = []");
    }
    toml.push_str("\n[workspace]\n");
    write_if_changed(&dir.join("Cargo.toml"), &toml);
    copy_lock(&dir);
    write_if_changed(
        &dir.join("src/cfg.rs"),
        &golden_schemas::generate(shared, name, &Options::default()),
    );
    write_if_changed(
        &dir.join("src/evaluated.rs"),
        &golden_schemas::generate(
            shared,
            name,
            &golden_schemas::evaluated(golden_schemas::defined(name)),
        ),
    );
    write_if_changed(
        &dir.join("src/lib.rs"),
        "//! Compile check of qapi-gen's output.\n\n\
         /// Conditions as `#[cfg(feature = ...)]`.\n\
         pub mod cfg {\n    include!(\"cfg.rs\");\n}\n\n\
         /// Conditions evaluated at generation time.\n\
         pub mod evaluated {\n    include!(\"evaluated.rs\");\n}\n",
    );
    cargo(&dir, &["check"]);
    cargo(&dir, &["clippy", "--", "-D", "warnings"]);
    cargo(&dir, &["clippy", "--all-features", "--", "-D", "warnings"]);
}

#[test]
fn qapi_schema_test_compiles() {
    let Some(shared) = common::shared() else {
        return;
    };
    single_file_crate(&shared, "qapi-schema-test.json");
}

#[test]
fn doc_good_compiles() {
    let Some(shared) = common::shared() else {
        return;
    };
    single_file_crate(&shared, "doc-good.json");
}

/// `qapi-gen generate ROOT --out-dir DIR --module-features` on a real
/// schema, run from the corpus directory so paths in the output are
/// relative; returns the package directory.
fn generate_package(shared: &Path, root: &str, pkg: &str) -> PathBuf {
    generate_release_package(shared, "qemu-10.0.2", root, pkg, &["--module-features"])
}

/// `qapi-gen generate` on a schema of the corpus tree `tree`, with
/// `extra` arguments (a `--qemu-version` where the tree has no VERSION).
fn generate_release_package(
    shared: &Path,
    tree: &str,
    root: &str,
    pkg: &str,
    extra: &[&str],
) -> PathBuf {
    let corpus = shared.join("corpus").join(tree);
    let dir = package_dir(pkg);
    let out = dir.to_str().expect("UTF-8 path");
    let mut args = vec!["generate", root, "--out-dir", out, "--name", pkg];
    args.extend_from_slice(extra);
    let run = common::qapi_gen(&corpus, &args);
    assert_eq!(
        run.code, 0,
        "qapi-gen generate {root} failed:\n{}{}",
        run.stdout, run.stderr
    );
    copy_lock(&dir);
    dir
}

#[test]
fn qemu_system_package_compiles() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = generate_package(&shared, "qapi/qapi-schema.json", "qapi-qemu");
    cargo(&dir, &["clippy", "--all-features", "--", "-D", "warnings"]);
    no_proc_macros(&dir);
    cargo(&dir, &["check", "--no-default-features"]);
    cargo(
        &dir,
        &["check", "--no-default-features", "--features", "machine"],
    );
}

#[test]
fn qga_package_compiles() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = generate_package(&shared, "qga/qapi-schema.json", "qapi-qga");
    cargo(&dir, &["clippy", "--all-features", "--", "-D", "warnings"]);
    cargo(&dir, &["check", "--no-default-features"]);
    cargo(&dir, &["check"]);
}

#[test]
fn storage_daemon_package_compiles() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = generate_package(
        &shared,
        "storage-daemon/qapi/qapi-schema.json",
        "qapi-storage-daemon",
    );
    cargo(&dir, &["clippy", "--all-features", "--", "-D", "warnings"]);
    cargo(&dir, &["check", "--no-default-features"]);
    cargo(&dir, &["check"]);
}

/// Every release's real schemas become Rust that compiles without a
/// warning: the QMP schema of each corpus release (10.0.2's is above, with
/// module features) and the guest agents of the two newest and oldest.
#[test]
fn every_release_compiles() {
    let Some(shared) = common::shared() else {
        return;
    };
    for (tree, root, pkg, extra) in [
        (
            "qemu-7.2.0",
            "qapi/qapi-schema.json",
            "qapi-qemu-7-2",
            &[][..],
        ),
        (
            "qemu-8.0",
            "qapi/qapi-schema.json",
            "qapi-qemu-8-0",
            &["--qemu-version", "8.0"][..],
        ),
        (
            "qemu-8.1",
            "qapi/qapi-schema.json",
            "qapi-qemu-8-1",
            &["--qemu-version", "8.1"][..],
        ),
        (
            "qemu-9.1",
            "qapi/qapi-schema.json",
            "qapi-qemu-9-1",
            &["--qemu-version", "9.1"][..],
        ),
        (
            "qemu-10.2.2",
            "qapi/qapi-schema.json",
            "qapi-qemu-10-2",
            &[][..],
        ),
        (
            "qemu-7.2.0",
            "qga/qapi-schema.json",
            "qapi-qga-7-2",
            &[][..],
        ),
        (
            "qemu-10.2.2",
            "qga/qapi-schema.json",
            "qapi-qga-10-2",
            &[][..],
        ),
    ] {
        let dir = generate_release_package(&shared, tree, root, pkg, extra);
        cargo(&dir, &["clippy", "--all-features", "--", "-D", "warnings"]);
    }
}

/// Range bindings of all six corpus releases compile without a warning,
/// conditions kept as `#[cfg]`.
#[test]
fn range_bindings_compile() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = generate_release_package(
        &shared,
        "qemu-10.2.2",
        "qapi/qapi-schema.json",
        "qapi-qemu-range",
        &[
            "--compatible-with",
            "../qemu-10.0.2/qapi/qapi-schema.json",
            "--compatible-with",
            "../qemu-9.1/qapi/qapi-schema.json@9.1",
            "--compatible-with",
            "../qemu-8.1/qapi/qapi-schema.json@8.1",
            "--compatible-with",
            "../qemu-8.0/qapi/qapi-schema.json@8.0",
            "--compatible-with",
            "../qemu-7.2.0/qapi/qapi-schema.json",
        ],
    );
    cargo(&dir, &["clippy", "--all-features", "--", "-D", "warnings"]);
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    /// 1..=max distinct names from `from`.
    fn some<'a>(&mut self, from: &[&'a str], max: usize) -> Vec<&'a str> {
        let n = 1 + self.below(max);
        let mut out: Vec<&str> = Vec::new();
        for _ in 0..n * 3 {
            let x = self.pick(from);
            if !out.contains(&x) {
                out.push(x);
            }
            if out.len() == n {
                break;
            }
        }
        out
    }
}

/// Names that meet after mangling: keywords, digits, dashes against
/// underscores, case, the names generated code uses itself.
const VALUES: &[&str] = &[
    "x1", "x-1", "x_1", "a-b", "a_b", "aB", "ab", "2d", "2-d", "self", "Self", "type", "match",
    "unknown", "other", "all", "ALL", "u", "none", "None", "some", "ok", "Ok", "err",
];
const MEMBERS: &[&str] = &[
    "x1", "x-1", "a-b", "ab", "type", "self", "match", "u", "o", "d", "v", "tag", "none", "some",
    "crate", "super", "async", "gen", "try", "default", "new", "data", "event", "x-2d", "U",
    "Type",
];
const TYPES: &[&str] = &[
    "Foo",
    "FooBar",
    "QueryFoo",
    "String",
    "Result",
    "Option",
    "Event",
    "Self",
    "Box",
    "Vec",
    "QmpHandler",
    "Stop",
    "StopEvent",
    "Thing",
    "ThingBranch",
    "Empty",
    "Command",
    "Value",
    "Ab",
    "Some",
    "Unknown",
];
const COMMANDS: &[&str] = &[
    "stop",
    "query-foo",
    "foo-bar",
    "foo_bar",
    "self",
    "type",
    "dispatch",
    "x-1",
    "x1",
];
const EVENTS: &[&str] = &["STOP", "FOO_BAR", "FOO__BAR", "SELF", "X_1", "X1", "THING"];
const SCALARS: &[&str] = &["str", "int", "bool", "number", "any", "uint8", "size"];

/// A random schema (valid or not) over the awkward names.
fn random_schema(rng: &mut Rng) -> String {
    // Every name may break QEMU's case rules: the collisions after
    // mangling are what is under test.
    let all: Vec<String> = TYPES
        .iter()
        .chain(COMMANDS)
        .chain(EVENTS)
        .map(|n| format!("'{n}'"))
        .collect();
    let mut out = format!(
        "{{ 'pragma': {{ 'doc-required': false, 'member-name-exceptions': [ {} ], \
         'command-name-exceptions': [ {} ] }} }}\n",
        all.join(", "),
        COMMANDS
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let types = rng.some(TYPES, 6);
    let mut defined: Vec<String> = Vec::new();
    let q = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut enum_name = None;
    for (i, t) in types.iter().enumerate() {
        let members = |rng: &mut Rng, defined: &[String]| {
            rng.some(MEMBERS, 4)
                .iter()
                .map(|m| {
                    let ty = if !defined.is_empty() && rng.below(3) == 0 {
                        defined[rng.below(defined.len())].clone()
                    } else {
                        rng.pick(SCALARS).to_string()
                    };
                    let opt = if rng.below(3) == 0 { "*" } else { "" };
                    format!("'{opt}{m}': '{ty}'")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match (i, rng.below(4)) {
            (0, _) | (_, 0) => {
                let values = rng.some(VALUES, 5);
                let _ = writeln!(out, "{{ 'enum': '{t}', 'data': [ {} ] }}", q(&values));
                enum_name.get_or_insert((t.to_string(), values));
            }
            (_, 1) => {
                let m = members(rng, &defined);
                let _ = writeln!(out, "{{ 'struct': '{t}', 'data': {{ {m} }} }}");
            }
            (_, 2) => {
                let Some((e, values)) = enum_name.clone() else {
                    continue;
                };
                let m = members(rng, &defined);
                let base = format!("{{ 'kind': '{e}', {m} }}");
                let branches = format!("'{}': 'Leaf'", values[0]);
                let _ = writeln!(
                    out,
                    "{{ 'union': '{t}', 'base': {base}, 'discriminator': 'kind', \
                     'data': {{ {branches} }} }}"
                );
            }
            _ => {
                let a = rng.pick(MEMBERS);
                let b = rng.pick(MEMBERS);
                let _ = writeln!(
                    out,
                    "{{ 'alternate': '{t}', 'data': {{ '{a}': 'str', '{b}': 'int' }} }}"
                );
            }
        }
        defined.push(t.to_string());
    }
    let _ = writeln!(
        out,
        "{{ 'struct': 'Leaf', 'data': {{ '{}': 'int' }} }}",
        rng.pick(MEMBERS)
    );
    for c in rng.some(COMMANDS, 2) {
        let arg = rng.pick(MEMBERS);
        let _ = writeln!(out, "{{ 'command': '{c}', 'data': {{ '{arg}': 'int' }} }}");
    }
    for e in rng.some(EVENTS, 2) {
        let data = rng.pick(MEMBERS);
        match rng.below(2) {
            0 => {
                let _ = writeln!(out, "{{ 'event': '{e}' }}");
            }
            _ => {
                let _ = writeln!(out, "{{ 'event': '{e}', 'data': {{ '{data}': 'str' }} }}");
            }
        }
    }
    out
}

/// Random valid schemas whose names meet after mangling either generate
/// Rust that compiles (all of them in one crate, checked once) or give a
/// located error; never uncompilable code.
#[test]
fn awkward_names_compile_or_are_located_errors() {
    let dir = package_dir("awkward-names");
    let schemas_dir = dir.join("schemas");
    std::fs::create_dir_all(&schemas_dir).expect("schemas dir");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut invalid, mut located, mut generated) = (0, 0, 0);
    let mut lib = String::from("//! Compile check of qapi-gen's output for awkward names.\n");
    for i in 0..300 {
        let text = random_schema(&mut rng);
        let path = schemas_dir.join(format!("s{i}.json"));
        write_if_changed(&path, &text);
        let Ok(schema) = qapi_gen::load(path.to_str().expect("UTF-8")) else {
            invalid += 1;
            continue;
        };
        for (variant, opts) in [
            ("closed", Options::default()),
            (
                "open",
                Options {
                    unknown_enum_values: true,
                    ..Options::default()
                },
            ),
        ] {
            match qapi_gen::backend::package::single_file(&schema, &opts, "awkward") {
                Ok(rust) => {
                    generated += 1;
                    write_if_changed(&dir.join(format!("src/s{i}_{variant}.rs")), &rust);
                    let _ = writeln!(
                        lib,
                        "\n/// {}\n#[allow(clippy::all)]\npub mod s{i}_{variant} {{\n    \
                         include!(\"s{i}_{variant}.rs\");\n}}",
                        path.display()
                    );
                }
                Err(e) => {
                    assert!(
                        e.location().is_some(),
                        "s{i} ({variant}): an error without a location: {e}\n{text}"
                    );
                    located += 1;
                }
            }
        }
    }
    eprintln!(
        "awkward names: 300 schemas, {invalid} invalid for QEMU, {generated} generated \
         (closed and open enums), {located} located errors"
    );
    assert!(generated > 80, "too few schemas generated: {generated}");
    assert!(
        located > 0,
        "no collision was found: the generator is too tame"
    );
    let toml = format!(
        "[package]\nname = \"awkward-names\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[dependencies]\nqapi-support = {{ path = \"{}\" }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         [workspace]\n",
        support_path()
    );
    write_if_changed(&dir.join("Cargo.toml"), &toml);
    copy_lock(&dir);
    write_if_changed(&dir.join("src/lib.rs"), &lib);
    cargo(&dir, &["check"]);
}
