//! Every s390x `query-cpu-definitions`, `query-cpu-model-expansion`,
//! `query-cpu-model-comparison` and `query-cpu-model-baseline` exchange
//! recorded from QEMU 10.0.2 (`../shared/oracle/s390x-oracle.jsonl`) must
//! be answered the same by the engine: JSON values compared, key order
//! aside; errors by class and text; our two added booleans left out.

mod s390x_common;

use std::path::PathBuf;

use cpu_models::s390x::S390xModels;
use serde_json::Value;

fn oracle() -> Option<PathBuf> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/oracle/s390x-oracle.jsonl");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("QAPI_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{} is missing and QAPI_REQUIRE_SHARED=1", p.display());
    }
    eprintln!("skipped: {} is absent", p.display());
    None
}

#[test]
fn s390x_oracle_exchanges() {
    let Some(path) = oracle() else { return };
    let engine = S390xModels::builtin().expect("catalogue loads");
    let text = std::fs::read_to_string(&path).expect("oracle readable");
    let (mut pass, mut total) = (0, 0);
    let mut failures = Vec::new();
    for line in text.lines() {
        let rec: Value = serde_json::from_str(line).expect("oracle line is JSON");
        let Some(ours) = s390x_common::answer(&engine, &rec["request"]) else {
            continue;
        };
        total += 1;
        let mut want = rec["response"].clone();
        if let Some(o) = want.as_object_mut() {
            o.remove("id");
        }
        let d = s390x_common::diff(&ours, &want);
        if d.is_empty() {
            pass += 1;
        } else {
            failures.push(format!(
                "{} {}:\n  {}",
                rec["tag"],
                rec["request"]["arguments"],
                d.join("\n  ")
            ));
        }
    }
    println!("s390x oracle: {pass}/{total} exchanges answered as QEMU did");
    assert!(total > 0, "no exchanges found");
    assert!(
        failures.is_empty(),
        "{} of {total} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
