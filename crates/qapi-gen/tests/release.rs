//! Choosing the QEMU release: `--qemu-version`, the `VERSION` file of the
//! schema's QEMU tree, the newest release by default, and the note that
//! follows QEMU's text when a defaulted release's rule rejects a schema.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::qapi_gen;

/// A schema whose doc block has a `Note:` section: valid for QEMU 7.2–9.0,
/// rejected from 9.1 on.
const NOTE_SCHEMA: &str = "##\n# @foo:\n#\n# Does foo.\n#\n# Note: mind the bar.\n##\n\
                           { 'command': 'foo' }\n";

const NOTE_ERROR: &str = "qapi/s.json:6:1: The 'Note' section is no longer supported. \
     Please use rST's '.. note::' or '.. admonition:: notes' directives, or another suitable \
     admonition instead.\n";

/// A fresh directory under the target dir, laid out as a QEMU tree when
/// `version` is given (a `VERSION` file beside `qapi/`).
fn tree(name: &str, version: Option<&str>, with_qapi_dir: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    let schema_dir = if with_qapi_dir {
        dir.join("qapi")
    } else {
        dir.join("other")
    };
    fs::create_dir_all(&schema_dir).expect("mkdir");
    if let Some(v) = version {
        fs::write(dir.join("VERSION"), format!("{v}\n")).expect("VERSION");
    }
    fs::write(schema_dir.join("s.json"), NOTE_SCHEMA).expect("schema");
    dir
}

#[test]
fn version_file_of_the_tree_chooses_the_release() {
    let old = tree("release-old", Some("7.2.0"), true);
    let run = qapi_gen(&old, &["check", "qapi/s.json"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, ""),
        "7.2 accepts Note:"
    );
    let dump = qapi_gen(&old, &["dump", "qapi/s.json"]);
    assert!(
        dump.stdout.contains("    section=Note\nmind the bar.\n"),
        "{}",
        dump.stdout
    );
    // A stable update and a development tree map to release lines.
    let stable = tree("release-stable", Some("9.0.4"), true);
    assert_eq!(qapi_gen(&stable, &["check", "qapi/s.json"]).code, 0);
    let dev = tree("release-dev", Some("9.0.50"), true);
    assert_eq!(
        qapi_gen(&dev, &["check", "qapi/s.json"]).code,
        1,
        "9.0.50 is 9.1"
    );
}

#[test]
fn explicit_release_overrides_the_version_file() {
    let old = tree("release-override", Some("7.2.0"), true);
    let run = qapi_gen(&old, &["check", "--qemu-version", "10.0", "qapi/s.json"]);
    // Chosen on purpose: QEMU's text only, no note.
    assert_eq!((run.code, run.stderr.as_str()), (1, NOTE_ERROR));
}

#[test]
fn defaulted_release_explains_what_differs_after_qemus_text() {
    let new = tree("release-new", Some("10.0.2"), true);
    let run = qapi_gen(&new, &["check", "qapi/s.json"]);
    assert_eq!(run.code, 1);
    let (qemu, note) = run.stderr.split_at(NOTE_ERROR.len());
    assert_eq!(qemu, NOTE_ERROR, "QEMU's text comes first, unchanged");
    assert!(
        note.starts_with("note: QEMU releases differ here: QEMU 7.2–9.0 accept this schema.\n"),
        "{note}"
    );
    assert!(note.contains("VERSION says 10.0.2"), "{note}");
    assert!(note.contains("--qemu-version"), "{note}");
}

#[test]
fn without_a_qemu_tree_the_newest_release_applies() {
    // VERSION without a qapi/ directory beside it is not QEMU's.
    let plain = tree("release-plain", Some("7.2.0"), false);
    let run = qapi_gen(&plain, &["check", "other/s.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("the newest supported release"),
        "{}",
        run.stderr
    );
    // An error every release agrees on gets no note.
    fs::write(
        plain.join("other/s.json"),
        "{ 'command': 'foo', 'data': true }\n",
    )
    .expect("write");
    let run = qapi_gen(&plain, &["check", "other/s.json"]);
    assert_eq!(
        run.stderr,
        "other/s.json: In command 'foo':\n\
         other/s.json:1: 'data' should be an object or type name\n"
    );
}

#[test]
fn unsupported_releases_are_clear_errors() {
    let dir = tree("release-range", None, true);
    for v in ["6.2", "11.0", "7.1.50", "10.2.50"] {
        let run = qapi_gen(&dir, &["check", "--qemu-version", v, "qapi/s.json"]);
        assert_eq!(run.code, 2, "{v}");
        assert!(
            run.stderr.contains("QEMU 7.2 through 10.2"),
            "{v}: {}",
            run.stderr
        );
    }
    let run = qapi_gen(&dir, &["check", "--qemu-version", "ten", "qapi/s.json"]);
    assert!(
        run.stderr.contains("expected X.Y or X.Y.Z"),
        "{}",
        run.stderr
    );
    let bad = tree("release-bad-file", Some("6.2.0"), true);
    let run = qapi_gen(&bad, &["check", "qapi/s.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("VERSION names QEMU 6.2.0") && run.stderr.contains("through 10.2"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_subcommand_takes_the_flag() {
    let dir = tree("release-subcommands", None, true);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-subcommands-out");
    let out = out.to_str().expect("UTF-8 path");
    for args in [
        vec!["check", "--qemu-version", "9.0", "qapi/s.json"],
        vec!["dump", "--qemu-version", "9.0", "qapi/s.json"],
        vec!["doc-check", "--qemu-version", "9.0", "qapi/s.json"],
        vec![
            "generate",
            "--qemu-version",
            "9.0",
            "qapi/s.json",
            "--out-dir",
            out,
        ],
    ] {
        let run = qapi_gen(&dir, &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn library_and_builder_take_the_release() {
    let dir = tree("release-library", None, true);
    let path = dir.join("qapi/s.json");
    let path = path.to_str().expect("UTF-8 path");
    let r72: qapi_gen::Release = "7.2".parse().expect("supported");
    let schema = qapi_gen::load_with_options(path, &qapi_gen::LoadOptions::default().release(r72))
        .expect("7.2 accepts it");
    assert_eq!(schema.rules.release, r72);
    assert_eq!(schema.release_source, qapi_gen::ReleaseSource::Given);
    let err = qapi_gen::load(path).expect_err("10.2 rejects Note:");
    assert!(err.note().is_some());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-builder");
    let built = qapi_gen::Builder::new(path)
        .qemu_version("8.1")
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .generate();
    assert!(built.is_ok(), "{built:?}");
    let bad = qapi_gen::Builder::new(path)
        .qemu_version("12.0")
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .generate()
        .expect_err("unsupported");
    assert!(bad.text().contains("QEMU 7.2 through 10.2"), "{bad}");
}
