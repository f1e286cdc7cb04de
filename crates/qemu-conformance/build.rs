//! Generates Rust bindings of QEMU 10.0.2's QMP schema (from `../shared`,
//! beside the repository) once per target, with the `if` conditions
//! evaluated as that target's QEMU binary has them: what a client of that
//! binary would generate; the x86_64 bindings of the other corpus
//! releases; and range bindings of 10.2.2 compatible with all five older
//! corpus releases, per target.  Without `../shared` the modules are empty
//! and the tests say they skip.

use std::path::{Path, PathBuf};

/// (module, defined condition symbols)
const TARGETS: &[(&str, &[&str])] = &[
    (
        "x86_64",
        &["TARGET_I386", "CONFIG_KVM", "CONFIG_LINUX", "CONFIG_POSIX"],
    ),
    ("s390x", &["TARGET_S390X", "CONFIG_LINUX", "CONFIG_POSIX"]),
    ("aarch64", &["TARGET_ARM", "CONFIG_LINUX", "CONFIG_POSIX"]),
];

/// The QMP schema of each other corpus release, x86_64 only, each read with
/// its own release's rules: (module, tree, release when the tree has no
/// VERSION file).
const RELEASES: &[(&str, &str, Option<&str>)] = &[
    ("v7_2", "qemu-7.2.0", None),
    ("v8_0", "qemu-8.0", Some("8.0")),
    ("v8_1", "qemu-8.1", Some("8.1")),
    ("v9_1", "qemu-9.1", Some("9.1")),
];

// As Debian builds qemu-system-x86_64, as far as the recorded commands go.
const X86_64: &[&str] = &[
    "TARGET_I386",
    "CONFIG_KVM",
    "CONFIG_LINUX",
    "CONFIG_POSIX",
    "CONFIG_TPM",
];

/// Range bindings: QEMU 10.2.2's schema compatible with every older corpus
/// release (`--compatible-with`), per target of the recorded replies:
/// (module, defined condition symbols).
const RANGE_TARGETS: &[(&str, &[&str])] = &[
    ("range_x86_64", X86_64),
    (
        "range_s390x",
        &[
            "TARGET_S390X",
            "CONFIG_KVM",
            "CONFIG_LINUX",
            "CONFIG_POSIX",
            "CONFIG_TPM",
        ],
    ),
];

/// The older releases of the range: (tree, release when it has no VERSION).
const RANGE_OLDER: &[(&str, Option<&str>)] = &[
    ("qemu-10.0.2", None),
    ("qemu-9.1", Some("9.1")),
    ("qemu-8.1", Some("8.1")),
    ("qemu-8.0", Some("8.0")),
    ("qemu-7.2.0", None),
];

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let corpus = manifest.join("../../../shared/corpus");
    let schema = corpus.join("qemu-10.0.2/qapi/qapi-schema.json");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(qemu_schema)");
    if !schema.is_file() {
        println!("cargo:rerun-if-changed={}", schema.display());
        for (name, _) in TARGETS {
            std::fs::write(out.join(format!("qemu_{name}.rs")), "").expect("OUT_DIR is writable");
        }
        for (name, _, _) in RELEASES {
            std::fs::write(out.join(format!("qemu_{name}_x86_64.rs")), "")
                .expect("OUT_DIR is writable");
        }
        for (name, _) in RANGE_TARGETS {
            std::fs::write(out.join(format!("qemu_{name}.rs")), "").expect("OUT_DIR is writable");
        }
        return;
    }
    let newest = corpus.join("qemu-10.2.2/qapi/qapi-schema.json");
    for (name, defined) in RANGE_TARGETS {
        let mut b = qapi_gen::Builder::new(rel(&newest)).file_name(format!("qemu_{name}.rs"));
        for (tree, release) in RANGE_OLDER {
            let root = rel(&corpus.join(tree).join("qapi/qapi-schema.json"));
            b = b.compatible_with(match release {
                Some(r) => format!("{root}@{r}"),
                None => root,
            });
        }
        for d in *defined {
            b = b.define(*d);
        }
        if let Err(e) = b.generate() {
            panic!("generating range bindings for {name}: {e}");
        }
    }
    for (name, tree, release) in RELEASES {
        let root = corpus.join(tree).join("qapi/qapi-schema.json");
        let mut b = qapi_gen::Builder::new(rel(&root)).file_name(format!("qemu_{name}_x86_64.rs"));
        if let Some(r) = release {
            b = b.qemu_version(r);
        }
        for d in X86_64 {
            b = b.define(*d);
        }
        if let Err(e) = b.generate() {
            panic!("generating QEMU {tree}'s schema for x86_64: {e}");
        }
    }
    println!("cargo:rustc-cfg=qemu_schema");
    for (name, defined) in TARGETS {
        let mut b = qapi_gen::Builder::new(rel(&schema)).file_name(format!("qemu_{name}.rs"));
        for d in *defined {
            b = b.define(*d);
        }
        if let Err(e) = b.generate() {
            panic!("generating QEMU's schema for {name}: {e}");
        }
    }
}

/// The schema path as given (messages name it so).
fn rel(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
