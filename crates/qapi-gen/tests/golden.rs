//! Golden snapshots (`insta`) of the Rust that `single_file` generates for
//! QEMU's two broadest test schemas: `qapi-schema-test.json` (every kind,
//! conditions, features, includes) and `doc-good.json` (every doc form).
//!
//! Each schema is snapshotted twice: with default options (conditions as
//! `#[cfg(feature = ...)]`) and with conditions evaluated at generation
//! time against a few defined symbols, so that both kept and dropped items
//! show.  A change to the generator's output shows up here as a reviewable
//! diff; accept it with `cargo insta review` (or `INSTA_UPDATE=always`).
//!
//! The schemas are read from `../shared` (never copied in); without it the
//! tests print why and pass.  `tests/compile_generated.rs` checks that the
//! same output compiles without warnings.

mod common;
mod golden_schemas;

use std::collections::BTreeSet;

use golden_schemas::{defined, evaluated, generate};
use qapi_gen::backend::rust::Options;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    // Absolute: insta otherwise finds the directory through `cargo
    // metadata`, which can fall back to the wrong root.
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    s
}

#[test]
fn qapi_schema_test_default() {
    let Some(shared) = common::shared() else {
        return;
    };
    let text = generate(&shared, "qapi-schema-test.json", &Options::default());
    settings().bind(|| insta::assert_snapshot!("qapi-schema-test", text));
}

#[test]
fn qapi_schema_test_evaluated() {
    let Some(shared) = common::shared() else {
        return;
    };
    let text = generate(
        &shared,
        "qapi-schema-test.json",
        &evaluated(defined("qapi-schema-test.json")),
    );
    settings().bind(|| insta::assert_snapshot!("qapi-schema-test-evaluated", text));
}

#[test]
fn doc_good_default() {
    let Some(shared) = common::shared() else {
        return;
    };
    let text = generate(&shared, "doc-good.json", &Options::default());
    settings().bind(|| insta::assert_snapshot!("doc-good", text));
}

#[test]
fn doc_good_evaluated() {
    let Some(shared) = common::shared() else {
        return;
    };
    let text = generate(
        &shared,
        "doc-good.json",
        &evaluated(defined("doc-good.json")),
    );
    settings().bind(|| insta::assert_snapshot!("doc-good-evaluated", text));
}

/// The evaluated snapshots really differ from the `#[cfg]` ones: the
/// defined symbols select some items and drop others.
#[test]
fn evaluation_keeps_and_drops() {
    let Some(shared) = common::shared() else {
        return;
    };
    for (name, defined) in golden_schemas::SCHEMAS {
        let cfg = generate(&shared, name, &Options::default());
        let eval = generate(&shared, name, &evaluated(defined));
        assert!(
            cfg.contains("#[cfg("),
            "{name}: no #[cfg] in default output"
        );
        assert!(
            !eval.contains("#[cfg(feature"),
            "{name}: #[cfg] survived evaluation"
        );
        let set: BTreeSet<_> = cfg.lines().collect();
        let kept = eval.lines().filter(|l| set.contains(l)).count();
        assert!(
            kept < eval.lines().count() || eval.len() < cfg.len(),
            "{name}"
        );
    }
}
