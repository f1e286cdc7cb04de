//! libvirt's schema queries, answered on what libvirt recorded from real
//! QEMUs (`../shared/corpus/libvirt-11.3.0`, LGPL test data, read in
//! place): for every query of `schema-queries.tsv` and every
//! `caps/*.replies`, our answer equals the flag libvirt derived (its
//! `.xml`); libvirt's own query cases give libvirt's results; and
//! `qapi-gen schema-query` prints them.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{qapi_gen, qmp_schema_reply as schema_reply, shared};
use qapi_support::schema_query::SchemaIndex;
use serde_json::Value;

fn libvirt(shared: &Path) -> PathBuf {
    shared.join("corpus/libvirt-11.3.0")
}

fn tsv(path: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(path)
        .expect("tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn flags_equal_libvirts_on_every_recorded_qemu() {
    let Some(shared) = shared() else { return };
    let dir = libvirt(&shared);
    let queries = tsv(&dir.join("schema-queries.tsv"));
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("caps"))
        .expect("caps")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "replies"))
        .collect();
    files.sort();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for f in &files {
        let reply = schema_reply(f);
        let index = SchemaIndex::new(reply).expect("a schema reply");
        let xml = fs::read_to_string(f.with_extension("xml")).expect("xml");
        for q in &queries {
            let (query, flag) = (&q[0], &q[1]);
            let want = xml.contains(&format!("<flag name='{flag}'/>"));
            match index.query(query) {
                Ok(got) if got == want => checked += 1,
                other => wrong.push(format!(
                    "{}: {query} -> {other:?}, libvirt's flag {flag} is {want}",
                    f.file_name().and_then(|n| n.to_str()).unwrap_or_default()
                )),
            }
        }
    }
    eprintln!(
        "schema queries: {} queries x {} recorded QEMUs: {checked} equal to libvirt's flags",
        queries.len(),
        files.len()
    );
    assert!(files.len() >= 12 && queries.len() >= 30);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn libvirts_own_query_cases() {
    let Some(shared) = shared() else { return };
    let dir = libvirt(&shared);
    // libvirt ran these on QEMU 10.0.0 x86_64; the same holds for 9.2.0.
    let reply = schema_reply(&dir.join("caps/caps_9.2.0_x86_64.replies"));
    let index = SchemaIndex::new(reply).expect("a schema reply");
    let cases = tsv(&dir.join("qapi-query-cases.tsv"));
    for c in &cases {
        let got = match index.query(&c[0]) {
            Ok(true) => "1",
            Ok(false) => "0",
            Err(_) => "-1",
        };
        assert_eq!(got, c[1], "{}", c[0]);
    }
    eprintln!(
        "libvirt's query cases: {} of {} equal",
        cases.len(),
        cases.len()
    );
}

#[test]
fn the_command_prints_one_answer_per_query() {
    let Some(shared) = shared() else { return };
    let dir = libvirt(&shared);
    let reply = schema_reply(&dir.join("caps/caps_7.2.0_x86_64.replies"));
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Both forms: the reply object and the bare list.
    let wrapped = tmp.join("schema-7.2.0.json");
    fs::write(&wrapped, reply.to_string()).expect("write");
    let bare = tmp.join("schema-7.2.0-bare.json");
    fs::write(&bare, reply["return"].to_string()).expect("write");
    for file in [&wrapped, &bare] {
        let file = file.to_str().expect("UTF-8");
        let run = qapi_gen(
            tmp,
            &[
                "schema-query",
                file,
                "blockdev-add/arg-type/+file/aio/^io_uring",
                "query-machines/ret-type/acpi",
                "query-status/ret-type/status/^debug/test",
            ],
        );
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{}", run.stdout);
        assert_eq!(lines[0], "true");
        assert_eq!(lines[1], "false", "7.2 has no acpi member");
        assert!(lines[2].starts_with("error: "), "{}", lines[2]);
        assert_eq!(run.code, 1, "a malformed query");
    }
    let none = qapi_gen(tmp, &["schema-query", "/nonexistent.json", "x"]);
    assert_eq!(none.code, 2);
}

#[test]
fn libvirts_own_validation_cases() {
    let Some(shared) = shared() else { return };
    let dir = libvirt(&shared);
    // libvirt ran these on QEMU 10.0.0 x86_64's schema; 9.2.0's has the
    // same types for them.
    let reply = schema_reply(&dir.join("caps/caps_9.2.0_x86_64.replies"));
    let index = SchemaIndex::new(reply).expect("a schema reply");
    let cases = tsv(&dir.join("qapi-validate-cases.tsv"));
    for c in &cases {
        let value: Value = serde_json::from_str(&c[1]).expect("case JSON");
        let got = index.validate(&c[0], &value);
        assert_eq!(got.is_ok().to_string(), c[2], "{} {}: {got:?}", c[0], c[1]);
    }
    eprintln!(
        "libvirt's validation cases: {} of {} equal",
        cases.len(),
        cases.len()
    );
}
