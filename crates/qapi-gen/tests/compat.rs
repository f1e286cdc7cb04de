//! `qapi-gen compat`: the schema diff, on QEMU's real schemas.
//!
//! Ground truth is QEMU's own list of what it removed
//! (`qemu-10.2.2/docs/about/removed-features.rst`): every QMP command,
//! event, argument, return member and enum value it lists as removed in
//! 8.0 … 10.2 must be reported between 7.2.0 and 10.2.2, and between the
//! neighbouring corpus releases where it falls.  The corpus is QEMU's
//! (GPL) and libvirt's (LGPL), read from `../shared`, never copied.

mod common;

use std::fs;
use std::path::Path;

use common::{qapi_gen, shared};

/// What each removal entry of 8.0 … 10.2 means on the wire: `(title
/// fragment, release, expected removals as (change, path))`.  An entry
/// with no removals says why.
/// `(title, release, [(change, path)], why none)`.
type Removal = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const REMOVALS: &[Removal] = &[
    (
        "``query-sgx`` return value member ``section-size``",
        "8.0",
        &[("removed", "query-sgx/ret-type/section-size")],
        "",
    ),
    (
        "``query-sgx-capabilities`` return value member ``section-size``",
        "8.0",
        &[("removed", "query-sgx-capabilities/ret-type/section-size")],
        "",
    ),
    (
        "``query-migrate`` return value member ``skipped``",
        "9.1",
        &[("removed", "query-migrate/ret-type/ram/skipped")],
        "",
    ),
    (
        "``migrate`` command option ``inc``",
        "9.1",
        &[("removed", "migrate/arg-type/inc")],
        "",
    ),
    (
        "``migrate`` command option ``blk``",
        "9.1",
        &[("removed", "migrate/arg-type/blk")],
        "",
    ),
    (
        "``migrate-set-capabilities`` ``block`` option",
        "9.1",
        &[(
            "removed",
            "migrate-set-capabilities/arg-type/capabilities/capability/^block",
        )],
        "",
    ),
    (
        "``migrate-set-parameter`` ``compress-level`` option",
        "9.1",
        &[("removed", "migrate-set-parameters/arg-type/compress-level")],
        "",
    ),
    (
        "``migrate-set-parameter`` ``compress-threads`` option",
        "9.1",
        &[(
            "removed",
            "migrate-set-parameters/arg-type/compress-threads",
        )],
        "",
    ),
    (
        "``migrate-set-parameter`` ``compress-wait-thread`` option",
        "9.1",
        &[(
            "removed",
            "migrate-set-parameters/arg-type/compress-wait-thread",
        )],
        "",
    ),
    (
        "``migrate-set-parameter`` ``decompress-threads`` option",
        "9.1",
        &[(
            "removed",
            "migrate-set-parameters/arg-type/decompress-threads",
        )],
        "",
    ),
    (
        "``migrate-set-capability`` ``compress`` option",
        "9.1",
        &[(
            "removed",
            "migrate-set-capabilities/arg-type/capabilities/capability/^compress",
        )],
        "",
    ),
    (
        "Incorrectly typed ``device_add`` arguments",
        "9.2",
        &[],
        "device_add's arguments were never typed in the schema ('gen': false, \
         any object); the change is in QEMU's C code",
    ),
    (
        "``MEM_UNPLUG_ERROR``",
        "9.1",
        &[("removed", "MEM_UNPLUG_ERROR")],
        "",
    ),
    (
        "``vcpu`` trace events",
        "9.1",
        &[
            ("removed", "trace-event-get-state/arg-type/vcpu"),
            ("removed", "trace-event-set-state/arg-type/vcpu"),
            ("removed", "trace-event-get-state/ret-type/vcpu"),
        ],
        "",
    ),
];

/// The corpus trees in release order, with `@RELEASE` where the tree has
/// no VERSION file.
const TREES: [(&str, &str); 6] = [
    ("qemu-7.2.0/qapi/qapi-schema.json", "7.2"),
    ("qemu-8.0/qapi/qapi-schema.json@8.0", "8.0"),
    ("qemu-8.1/qapi/qapi-schema.json@8.1", "8.1"),
    ("qemu-9.1/qapi/qapi-schema.json@9.1", "9.1"),
    ("qemu-10.0.2/qapi/qapi-schema.json", "10.0"),
    ("qemu-10.2.2/qapi/qapi-schema.json", "10.2"),
];

fn compat_json(corpus: &Path, old: &str, new: &str) -> Vec<serde_json::Value> {
    let run = qapi_gen(corpus, &["compat", "--format", "json", old, new]);
    assert_eq!(run.code, 0, "{old} {new}: {}", run.stderr);
    match serde_json::from_str(&run.stdout).expect("JSON") {
        serde_json::Value::Array(a) => a,
        other => panic!("not a list: {other}"),
    }
}

fn reported(changes: &[serde_json::Value], change: &str, path: &str) -> bool {
    changes.iter().any(|c| {
        c["change"] == change
            && c["paths"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p == path))
    })
}

/// The "(removed in X.Y)" titles of the QMP command and event sections.
fn removal_titles(rst: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_qmp = false;
    for line in rst.lines() {
        if line.starts_with("QEMU Machine Protocol (QMP)") {
            in_qmp = true;
            continue;
        }
        if line.starts_with("Human Monitor Protocol") {
            in_qmp = false;
        }
        if !in_qmp {
            continue;
        }
        if let Some((title, rest)) = line.split_once(" (removed in ") {
            let release = rest.trim_end_matches(')').to_string();
            out.push((title.to_string(), release));
        }
    }
    out
}

fn in_range(release: &str) -> bool {
    let v: Vec<u32> = release.split('.').filter_map(|p| p.parse().ok()).collect();
    v.len() == 2 && (8..=10).contains(&v[0])
}

#[test]
fn every_removal_qemu_lists_is_reported() {
    let Some(shared) = shared() else { return };
    let corpus = shared.join("corpus");
    let rst = fs::read_to_string(corpus.join("qemu-10.2.2/docs/about/removed-features.rst"))
        .expect("removed-features.rst");
    let titles: Vec<_> = removal_titles(&rst)
        .into_iter()
        .filter(|(_, r)| in_range(r))
        .collect();
    // Every entry of the list is accounted for here, and nothing else.
    for (title, release) in &titles {
        assert!(
            REMOVALS
                .iter()
                .any(|(t, r, _, _)| t == title && r == release),
            "removed-features.rst lists {title} (removed in {release}), which this test \
             does not know"
        );
    }
    assert_eq!(
        titles.len(),
        REMOVALS.len(),
        "entries in the list vs the test"
    );

    let whole = compat_json(&corpus, TREES[0].0, TREES[5].0);
    let mut found = 0;
    let mut missing = Vec::new();
    for (title, release, removals, why) in REMOVALS {
        assert!(removals.is_empty() != why.is_empty(), "{title}");
        // The neighbouring corpus releases around the removal.
        let at = TREES
            .iter()
            .position(|(_, r)| {
                let v = |s: &str| -> (u32, u32) {
                    let (a, b) = s.split_once('.').expect("X.Y");
                    (a.parse().expect("X"), b.parse().expect("Y"))
                };
                v(r) >= v(release)
            })
            .expect("a corpus release at or after the removal");
        let near = compat_json(&corpus, TREES[at - 1].0, TREES[at].0);
        for (change, path) in *removals {
            if !reported(&whole, change, path) {
                missing.push(format!("7.2.0 -> 10.2.2: {change} {path} ({title})"));
            }
            if !reported(&near, change, path) {
                missing.push(format!(
                    "{} -> {}: {change} {path} ({title})",
                    TREES[at - 1].1,
                    TREES[at].1
                ));
            }
            found += 1;
        }
    }
    eprintln!(
        "removed-features.rst 8.0-10.2: {} entries, {found} wire removals, each reported \
         from 7.2.0 to 10.2.2 and between neighbouring releases; {} changes in all from \
         7.2.0 to 10.2.2",
        titles.len(),
        whole.len()
    );
    assert!(missing.is_empty(), "not reported:\n{}", missing.join("\n"));
}

#[test]
fn json_report_has_the_contract_fields_and_breaks_are_right() {
    let Some(shared) = shared() else { return };
    let corpus = shared.join("corpus");
    let changes = compat_json(&corpus, TREES[0].0, TREES[1].0);
    for c in &changes {
        for key in ["change", "entity", "paths", "breaks", "old", "new"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
    // MachineInfo's 'acpi' became a mandatory member of query-machines'
    // reply in 8.0: a client built for 8.0 cannot decode 7.2's reply.
    let acpi = changes
        .iter()
        .find(|c| c["entity"] == "MachineInfo" && c["member"] == "acpi")
        .expect("acpi is reported");
    assert_eq!(acpi["change"], "added");
    assert_eq!(acpi["breaks"], serde_json::json!(["new-client-old-qemu"]));
    assert!(acpi["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .any(|p| p == "query-machines/ret-type/acpi"));
    let old = acpi["old"].as_str().expect("old FILE:LINE");
    let new = acpi["new"].as_str().expect("new FILE:LINE");
    assert!(old.starts_with("qemu-7.2.0/qapi/machine.json:"), "{old}");
    assert!(new.starts_with("qemu-8.0/qapi/machine.json:"), "{new}");
}

#[test]
fn text_report_and_deny() {
    let Some(shared) = shared() else { return };
    let corpus = shared.join("corpus");
    let run = qapi_gen(&corpus, &["compat", TREES[0].0, TREES[5].0]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with(
        "qemu-7.2.0/qapi/qapi-schema.json (QEMU 7.2) to qemu-10.2.2/qapi/qapi-schema.json \
         (QEMU 10.2): "
    ));
    assert!(run
        .stdout
        .contains("removed: event 'MEM_UNPLUG_ERROR' (qemu-7.2.0/qapi/machine.json:"));
    let deny = qapi_gen(&corpus, &["compat", "--deny", TREES[0].0, TREES[5].0]);
    assert_eq!(deny.code, 1, "breaking changes deny");
    let same = qapi_gen(&corpus, &["compat", "--deny", TREES[4].0, TREES[4].0]);
    assert_eq!(
        (same.code, same.stdout.lines().count()),
        (0, 1),
        "{}",
        same.stdout
    );
}

/// The `query-qmp-schema` reply libvirt recorded from a real QEMU 7.2.0
/// (x86_64), against the schemas: type names are masked there, so the
/// diff matches by structure from the commands and events.
#[test]
fn schema_against_a_real_introspection_reply() {
    let Some(shared) = shared() else { return };
    let corpus = shared.join("corpus");
    let reply =
        common::qmp_schema_reply(&corpus.join("libvirt-11.3.0/caps/caps_7.2.0_x86_64.replies"));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("qmp-schema-7.2.0-x86_64.json");
    fs::write(&path, reply.to_string()).expect("write");
    let path = path.to_str().expect("UTF-8");
    // The binary against its own release's schema: only what its target
    // or build leaves out, nothing it has that the schema lacks.
    let own = compat_json(&corpus, TREES[0].0, path);
    assert!(
        own.iter().all(|c| c["change"] != "added"),
        "{:#?}",
        own.iter()
            .filter(|c| c["change"] == "added")
            .collect::<Vec<_>>()
    );
    assert!(
        reported(&own, "removed", "query-cpu-model-comparison"),
        "s390x only"
    );
    // And 10.2.2's schema against that 7.2.0 binary: the acpi member.
    let newer = compat_json(&corpus, path, TREES[5].0);
    assert!(reported(&newer, "added", "query-machines/ret-type/acpi"));
    eprintln!(
        "7.2.0 x86_64 binary vs its schema: {} changes; vs 10.2.2's: {}",
        own.len(),
        newer.len()
    );
}
