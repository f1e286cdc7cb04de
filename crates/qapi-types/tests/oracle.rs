//! Every CPU-model exchange recorded from real QEMU 10.0.2
//! (`../shared/oracle/*.jsonl`) decodes into `qapi-types`: the request
//! into the command's argument struct, the reply into its `Returns` (or a
//! `QmpError`), and both re-encode to the same JSON value.
//!
//! `static` and `migration-safe` of `CpuModelExpansionInfo` are our
//! additions: QEMU never sends them, so they decode as `false` and are
//! left out of the comparison.

use std::path::{Path, PathBuf};

use qapi_support::{Command, QmpError};
use qapi_types::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("oracle").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("QAPI_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("QAPI_REQUIRE_SHARED=1 but {} does not exist", dir.display());
    }
    eprintln!(
        "skipping: {} not found (the oracle lives beside the repository)",
        dir.display()
    );
    None
}

/// Decodes `v` as `T` and re-encodes it; the result must equal `v` except
/// for the keys in `added`, which our schema adds.
fn round_trip<T: DeserializeOwned + Serialize>(what: &str, v: &Value, added: &[&str]) {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{what}: does not decode: {e}\n{v}"));
    let mut back = serde_json::to_value(&typed).expect("encodes");
    strip(&mut back, added);
    assert_eq!(&back, v, "{what}: re-encodes differently");
}

fn strip(v: &mut Value, keys: &[&str]) {
    if let Value::Object(m) = v {
        for k in keys {
            m.remove(*k);
        }
    }
}

/// Round-trips one exchange of command `C`.  When QEMU refused the
/// arguments themselves, the generated checker must refuse them with the
/// same error; otherwise they must decode.
fn exchange<C: Command + DeserializeOwned>(tag: &str, req: &Value, resp: &Value, added: &[&str]) {
    let args = req
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let checked = qapi_types::check_arguments(C::NAME, &args);
    if let Some(ret) = resp.get("return") {
        assert_eq!(checked, Ok(()), "{tag}: QEMU accepted these arguments");
        round_trip::<C>(&format!("{tag}: arguments"), &args, &[]);
        round_trip::<C::Returns>(&format!("{tag}: return"), ret, added);
        return;
    }
    let err = resp
        .get("error")
        .unwrap_or_else(|| panic!("{tag}: neither return nor error"));
    round_trip::<QmpError>(&format!("{tag}: error"), err, &[]);
    let qemu: QmpError = serde_json::from_value(err.clone()).expect("decodes");
    match checked {
        Err(ours) => assert_eq!(ours, qemu, "{tag}: argument error differs from QEMU's"),
        Ok(()) => round_trip::<C>(&format!("{tag}: arguments"), &args, &[]),
    }
}

#[test]
fn oracle_replies_decode() {
    let Some(shared) = shared() else { return };
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for target in ["x86", "s390x", "aarch64"] {
        let path = shared.join(format!("oracle/{target}-oracle.jsonl"));
        let text = std::fs::read_to_string(&path).expect("oracle file");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let rec: Value = serde_json::from_str(line).expect("oracle line is JSON");
            let tag = format!("{target} {}", rec["tag"]);
            let (req, resp) = (&rec["request"], &rec["response"]);
            let Some(cmd) = req["execute"].as_str() else {
                continue;
            };
            match cmd {
                "query-cpu-model-expansion" => exchange::<QueryCpuModelExpansion>(
                    &tag,
                    req,
                    resp,
                    &["static", "migration-safe"],
                ),
                "query-cpu-definitions" => exchange::<QueryCpuDefinitions>(&tag, req, resp, &[]),
                "query-cpu-model-comparison" => {
                    exchange::<QueryCpuModelComparison>(&tag, req, resp, &[])
                }
                "query-cpu-model-baseline" => {
                    exchange::<QueryCpuModelBaseline>(&tag, req, resp, &[])
                }
                "query-version" => exchange::<QueryVersion>(&tag, req, resp, &[]),
                "query-target" => exchange::<QueryTarget>(&tag, req, resp, &[]),
                // Commands outside our schema (qom-list-properties, ...).
                _ => continue,
            }
            *counts.entry(format!("{target} {cmd}")).or_default() += 1;
        }
    }
    eprintln!("decoded and re-encoded: {counts:#?}");
    let total: usize = counts.values().sum();
    assert!(
        total > 600,
        "expected the whole oracle, got {total} exchanges"
    );
}

#[test]
fn expansion_info_has_our_two_booleans() {
    let v: Value = serde_json::from_str(
        r#"{"model": {"name": "base", "props": {"sse": true}}, "static": true, "migration-safe": true}"#,
    )
    .expect("JSON");
    let info: CpuModelExpansionInfo = serde_json::from_value(v.clone()).expect("decodes");
    assert!(info.q_static && info.migration_safe);
    assert_eq!(serde_json::to_value(&info).expect("encodes"), v);
    // A QEMU reply has neither: they read as false.
    let info: CpuModelExpansionInfo =
        serde_json::from_value(serde_json::json!({"model": {"name": "max"}})).expect("decodes");
    assert!(!info.q_static && !info.migration_safe);
}
