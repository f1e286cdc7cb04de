//! Our own golden cases, in `tests/cases/`: the checks that QEMU's suite
//! does not cover, the quirks we decided on, and unusual line endings.
//!
//! Each case is `NAME.json` with `NAME.out` (expected stdout) and `NAME.err`
//! (expected stderr; empty for a valid schema). The binary runs as
//! `qapi-gen dump --qemu-version 10.0 NAME.json` from the cases directory,
//! as QEMU's harness
//! does, and must match byte for byte, with exit code 1 exactly when an
//! error is expected. The first line of every schema says what it covers.

mod common;

use std::fs;
use std::path::Path;

use common::{compare, qapi_gen};

#[test]
fn own_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("tests/cases exists")
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.to_str()?.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());

    let read = |name: &str, ext: &str| {
        let path = dir.join(format!("{name}.{ext}"));
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut failures = Vec::new();
    for name in &names {
        // The cases were written for QEMU 10.0's rules (release-specific
        // behaviour is pinned by the suites of each release).
        let file = format!("{name}.json");
        let run = qapi_gen(&dir, &["dump", "--qemu-version", "10.0", &file]);
        if let Some(why) = compare(name, &run, &read(name, "out"), &read(name, "err")) {
            failures.push(why);
        }
    }
    eprintln!(
        "own cases: {} passed, {} failed",
        names.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
