//! Range bindings (`--compatible-with`): what merging two releases of a
//! small schema of our own (`tests/range/{old,new}`, QEMU trees of 7.2.0
//! and 10.2.0 by their `VERSION` files) does to each kind of change, in
//! the model, in the generated Rust (an `insta` snapshot) and through the
//! CLI.  `tests/compile_generated.rs` compiles the range bindings of the
//! six real corpus releases; `qemu-conformance` decodes real replies with
//! them.

mod common;

use qapi_gen::model::{EntityKind, Schema};

const NEW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/range/new/qapi/schema.json"
);
const OLD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/range/old/qapi/schema.json"
);

fn merged() -> Schema {
    qapi_gen::load_range(NEW, &Default::default(), &[OLD.to_string()]).expect("the range loads")
}

/// (optional, type name) of member `member` of object `ty`.
fn member(s: &Schema, ty: &str, member: &str) -> (bool, String) {
    let id = s.lookup(ty).unwrap_or_else(|| panic!("{ty} exists"));
    let m = s
        .members(id)
        .into_iter()
        .find(|m| &*m.name == member)
        .unwrap_or_else(|| panic!("{ty}.{member} exists"));
    (m.optional, m.type_name.to_string())
}

fn values(s: &Schema, ty: &str) -> Vec<String> {
    match &s.entity(s.lookup(ty).expect("enum")).kind {
        EntityKind::Enum { members, .. } => members.iter().map(|v| v.name.to_string()).collect(),
        _ => panic!("{ty} is an enum"),
    }
}

#[test]
fn releases_come_from_the_version_files() {
    let s = merged();
    let r = s.range.as_ref().expect("a range");
    assert_eq!(
        r.releases.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        ["7.2", "10.2"]
    );
}

#[test]
fn members_are_required_only_where_every_release_requires_them() {
    let s = merged();
    // (member, optional, type): name everywhere; old-field and new-field
    // in one release each; count required in 7.2 only; kind a string in
    // 7.2 and an enum in 10.2 (forms); color new.
    let cases = [
        ("name", false, "str"),
        ("old-field", true, "int"),
        ("new-field", true, "bool"),
        ("count", true, "int"),
        ("kind", true, "q_forms_Info-kind"),
        ("color", true, "Color"),
    ];
    for (name, optional, ty) in cases {
        assert_eq!(
            member(&s, "Info", name),
            (optional, ty.to_string()),
            "Info.{name}"
        );
    }
    // set-mode's new argument is optional: 7.2 does not take it.
    assert!(member(&s, "q_obj_set-mode-arg", "level").0);
    assert!(!member(&s, "q_obj_set-mode-arg", "on").0);
}

#[test]
fn enums_carry_every_releases_values_and_renamed_types_are_absorbed() {
    let s = merged();
    assert_eq!(values(&s, "Color"), ["red", "green", "cyan", "blue"]);
    // Crypto.alg was OldAlgo in 7.2: NewAlgo takes its values too, and the
    // old name stays a type of its own.
    assert_eq!(member(&s, "Crypto", "alg"), (false, "NewAlgo".into()));
    assert_eq!(values(&s, "NewAlgo"), ["a", "b", "c"]);
    assert!(s.lookup("OldAlgo").is_some());
}

#[test]
fn every_release_entities_are_there_with_their_releases() {
    let s = merged();
    let r = s.range.as_ref().expect("a range");
    let rel = |name: &str| r.describe(r.of_entity(s.lookup(name).expect(name)));
    // Neighbouring releases of the range make a run.
    assert_eq!(rel("query-info"), "QEMU 7.2–10.2");
    assert_eq!(rel("old-cmd"), "QEMU 7.2");
    assert_eq!(rel("new-cmd"), "QEMU 10.2");
    assert_eq!(rel("OLD_EVENT"), "QEMU 7.2");
    assert_eq!(rel("NEW_EVENT"), "QEMU 10.2");
    let color = s.lookup("Color").expect("Color");
    let blue = r.of_part(color, "blue").expect("blue");
    assert_eq!(r.describe(blue.present), "QEMU 7.2");
    assert!(r.unmerged.is_empty(), "{:?}", r.unmerged);
}

#[test]
fn one_schema_twice_is_refused() {
    let err = qapi_gen::load_range(NEW, &Default::default(), &[format!("{OLD}@10.2")])
        .expect_err("two 10.2 schemas");
    assert!(
        err.to_string().contains("QEMU 10.2 is listed twice"),
        "{err}"
    );
}

#[test]
fn generated_range_bindings() {
    let s = merged();
    let opts = qapi_gen::backend::rust::Options::default();
    let text = qapi_gen::backend::package::single_file(&s, &opts, "range test")
        .expect("generates")
        .replace(env!("CARGO_MANIFEST_DIR"), "$CRATE");
    for want in [
        "pub old_field: Option<i64>",
        "pub kind: Option<InfoKindForms>",
        "Only in QEMU 7.2, where it is required.",
        "Required in QEMU 7.2; optional in the others.",
        "Of type `str` in QEMU 7.2.",
        "const RELEASES: &'static [&'static str] = &[\"7.2\"];",
        "pub const QEMU_RELEASES: &[&str] = &[\"7.2\", \"10.2\"];",
        "Releases: QEMU 7.2–10.2.",
    ] {
        assert!(text.contains(want), "missing {want:?}");
    }
    // Range bindings are client bindings.
    assert!(!text.contains("trait QmpHandler"));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    settings.bind(|| insta::assert_snapshot!("range", text));
}

#[test]
fn cli_takes_path_at_release() {
    let dir = std::env::temp_dir().join(format!("qapi-gen-range-{}", std::process::id()));
    let out = dir.to_str().expect("UTF-8");
    let run = common::qapi_gen(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "generate",
            NEW,
            "--compatible-with",
            &format!("{OLD}@8.0"),
            "--out-dir",
            out,
            "--name",
            "range-cli",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let machine = std::fs::read_to_string(dir.join("src/schema.rs")).expect("schema.rs");
    assert!(
        machine.contains("Only in QEMU 8.0."),
        "the release given wins"
    );
    // Outside our workspace the package depends on the published runtime.
    let toml = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        toml.contains(&format!("qapi-support = \"{}\"", env!("CARGO_PKG_VERSION"))),
        "{toml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
