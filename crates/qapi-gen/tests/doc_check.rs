//! `qapi-gen doc-check`: our small cases, one per finding kind plus a clean
//! one, byte for byte through the CLI; and the finding counts on QEMU
//! 10.0.2's three real schemas.
//!
//! Each case in `tests/doc_check/` is `NAME.json` with `NAME.out` (expected
//! stdout) and `NAME.err` (expected stderr).  `load-error` is a schema
//! that does not load: exit 1 with QEMU's text, `--deny` or not.

mod common;

use std::fs;
use std::path::Path;

use common::{compare, first_diff, qapi_gen, shared};
use qapi_gen::doccheck::{counts, doc_check, Kind};

fn cases_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doc_check")
}

#[test]
fn own_cases() {
    let dir = cases_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("tests/doc_check exists")
        .map(|entry| entry.expect("directory entry").file_name())
        .filter_map(|name| name.to_str()?.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    let read = |name: &str, ext: &str| {
        let path = dir.join(format!("{name}.{ext}"));
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut failures = Vec::new();
    let mut kinds_seen = Vec::new();
    for name in &names {
        let file = format!("{name}.json");
        let (want_out, want_err) = (read(name, "out"), read(name, "err"));
        let load_error = name == "load-error";
        for deny in [false, true] {
            let mut args = vec!["doc-check", file.as_str()];
            if deny {
                args.push("--deny");
            }
            let run = qapi_gen(&dir, &args);
            let want_code = i32::from(load_error || (deny && !want_out.is_empty()));
            if run.stdout != want_out || run.stderr != want_err || run.code != want_code {
                let mut why = format!("{} : exit {} (want {want_code})", args.join(" "), run.code);
                if run.stdout != want_out {
                    why.push_str(&format!("\n stdout {}", first_diff(&want_out, &run.stdout)));
                }
                if run.stderr != want_err {
                    why.push_str(&format!("\n stderr {}", first_diff(&want_err, &run.stderr)));
                }
                failures.push(why);
            }
        }
        for line in want_out.lines() {
            if let Some(code) = line.split(": ").nth(1) {
                kinds_seen.push(code.to_string());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every kind has a case that shows it.
    for k in Kind::ALL {
        assert!(
            kinds_seen.iter().any(|c| c == k.code()),
            "no case produces {k}"
        );
    }
}

#[test]
fn load_error_matches_check() {
    // A schema that fails to load reports exactly what `check` reports.
    let dir = cases_dir();
    let want = qapi_gen(&dir, &["check", "load-error.json"]);
    let got = qapi_gen(&dir, &["doc-check", "load-error.json"]);
    assert!(compare("load-error", &got, "", &want.stderr).is_none());
}

/// Counts per kind on QEMU 10.0.2's schemas.  QEMU's own checks (with
/// `doc-required` on) leave no missing doc blocks, no undocumented
/// features and no deprecation without text; what remains are the
/// `documentation-exceptions` gaps and the versions.  See
/// `docs/doc-check-qemu.md` for the findings themselves.
const QEMU_COUNTS: [(&str, &[(Kind, usize)]); 3] = [
    (
        "qapi/qapi-schema.json",
        &[
            (Kind::UndocumentedMember, 35),
            (Kind::UndocumentedValue, 372),
            (Kind::MissingSince, 9),
            (Kind::MalformedSince, 1),
            (Kind::SinceBeforeDefinition, 26),
        ],
    ),
    (
        "qga/qapi-schema.json",
        &[
            (Kind::UndocumentedMember, 25),
            (Kind::MissingSince, 2),
            (Kind::SinceBeforeDefinition, 2),
        ],
    ),
    (
        "storage-daemon/qapi/qapi-schema.json",
        &[
            (Kind::UndocumentedMember, 32),
            (Kind::UndocumentedValue, 148),
            (Kind::MissingSince, 5),
            (Kind::SinceBeforeDefinition, 25),
        ],
    ),
];

#[test]
fn qemu_schemas() {
    let Some(shared) = shared() else { return };
    let root = shared.join("corpus/qemu-10.0.2");
    std::env::set_current_dir(&root).expect("corpus dir");
    let mut failures = Vec::new();
    for (schema, want) in QEMU_COUNTS {
        let s = qapi_gen::load(schema).unwrap_or_else(|e| panic!("{schema}: {e}"));
        let findings = doc_check(&s);
        let got = counts(&findings);
        if got != want {
            failures.push(format!("{schema}: got {got:?}, want {want:?}"));
        }
        for f in &findings {
            // Every finding points at a column of an existing line.
            let text = fs::read_to_string(&f.file).unwrap_or_default();
            let line = text.lines().nth(f.line as usize - 1);
            if f.col.is_none() || line.is_none_or(|l| l.len() + 1 < f.col.unwrap_or(0) as usize) {
                failures.push(format!("{schema}: bad location: {f}"));
            }
        }
        // Source order.
        let lines: Vec<(&str, u32, Option<u32>)> = findings
            .iter()
            .map(|f| (f.file.as_str(), f.line, f.col))
            .collect();
        for w in lines.windows(2) {
            if w[0].0 == w[1].0 && (w[0].1, w[0].2) > (w[1].1, w[1].2) {
                failures.push(format!("{schema}: out of order: {:?} {:?}", w[0], w[1]));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn qemu_schema_through_cli() {
    // The CLI prints one line per finding and the summary on stderr.
    let Some(shared) = shared() else { return };
    let root = shared.join("corpus/qemu-10.0.2");
    let run = qapi_gen(&root, &["doc-check", "qga/qapi-schema.json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.lines().count(), 29);
    assert_eq!(
        run.stderr,
        "qga/qapi-schema.json: 29 documentation findings: 25 undocumented-member, \
         2 missing-since, 2 since-before-definition\n"
    );
    assert!(run
        .stdout
        .starts_with("qga/qapi-schema.json:368:30: since-before-definition: "));
    let deny = qapi_gen(&root, &["doc-check", "--deny", "qga/qapi-schema.json"]);
    assert_eq!(deny.code, 1);
}

#[test]
fn own_schema() {
    // Our schema should end up clean; it is being edited, so this only
    // reports what it finds.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let run = qapi_gen(&dir, &["doc-check", "schema/qapi-schema.json"]);
    eprint!("{}{}", run.stdout, run.stderr);
}
