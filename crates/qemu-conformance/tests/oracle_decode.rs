//! Every exchange recorded from real QEMU 10.0.2 (`../shared/oracle`)
//! goes through the bindings generated from QEMU's own schema for that
//! target: arguments are checked with QEMU's rules (an argument error
//! must be QEMU's, word for word), decoded and re-encoded; replies decode
//! into the command's `Returns` and re-encode to the same JSON value.

#![cfg(qemu_schema)]

use std::collections::BTreeMap;
use std::path::Path;

use qapi_support::{Command, QmpError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize>(what: &str, v: &Value) {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{what}: does not decode: {e}\n{v}"));
    let back = serde_json::to_value(&typed).expect("encodes");
    assert_eq!(&back, v, "{what}: re-encodes differently");
}

fn exchange<C: Command + DeserializeOwned>(
    tag: &str,
    check: fn(&str, &Value) -> Result<(), QmpError>,
    req: &Value,
    resp: &Value,
) {
    let args = req
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let checked = check(C::NAME, &args);
    if let Some(ret) = resp.get("return") {
        assert_eq!(checked, Ok(()), "{tag}: QEMU accepted these arguments");
        round_trip::<C>(&format!("{tag}: arguments"), &args);
        round_trip::<C::Returns>(&format!("{tag}: return"), ret);
        return;
    }
    let err = resp
        .get("error")
        .unwrap_or_else(|| panic!("{tag}: no return, no error"));
    let qemu: QmpError = serde_json::from_value(err.clone()).expect("QEMU's error decodes");
    match checked {
        Err(ours) => assert_eq!(ours, qemu, "{tag}: argument error differs from QEMU's"),
        Ok(()) => round_trip::<C>(&format!("{tag}: arguments"), &args),
    }
}

/// Runs every exchange of one oracle file through module `$m`; the
/// commands listed are the ones that target has.  A command it does not
/// have must be refused exactly as QEMU refused it.
macro_rules! check_target {
    ($file:expr, $m:ident, { $($cmd:literal => $ty:ident),* $(,)? }) => {{
        use qemu_conformance::$m as m;
        let Some(text) = oracle($file) else { return };
        let mut counts = BTreeMap::<String, usize>::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let rec: Value = serde_json::from_str(line).expect("oracle line is JSON");
            let tag = format!("{} {}", $file, rec["tag"]);
            let (req, resp) = (&rec["request"], &rec["response"]);
            let cmd = req["execute"].as_str().expect("execute is a string").to_string();
            match cmd.as_str() {
                $($cmd => exchange::<m::$ty>(&tag, m::check_arguments, req, resp),)*
                other => {
                    let err = resp.get("error").unwrap_or_else(|| {
                        panic!("{tag}: QEMU answered {other}; add it to the test's list")
                    });
                    let qemu: QmpError = serde_json::from_value(err.clone()).expect("decodes");
                    let args = req.get("arguments").cloned().unwrap_or(Value::Null);
                    assert_eq!(m::check_arguments(other, &args), Err(qemu), "{tag}");
                }
            }
            *counts.entry(cmd).or_default() += 1;
        }
        eprintln!("{}: {counts:?}", $file);
        assert!(counts.values().sum::<usize>() > 50, "{}: too few exchanges", $file);
    }};
}

fn oracle(file: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/oracle")
        .join(file);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

#[test]
fn x86_64_exchanges() {
    check_target!("x86-oracle.jsonl", x86_64, {
        "query-version" => QueryVersion,
        "query-target" => QueryTarget,
        "query-cpu-definitions" => QueryCpuDefinitions,
        "query-cpu-model-expansion" => QueryCpuModelExpansion,
        "qom-list-properties" => QomListProperties,
        "device-list-properties" => DeviceListProperties,
    });
}

#[test]
fn s390x_exchanges() {
    check_target!("s390x-oracle.jsonl", s390x, {
        "query-version" => QueryVersion,
        "query-target" => QueryTarget,
        "query-cpu-definitions" => QueryCpuDefinitions,
        "query-cpu-model-expansion" => QueryCpuModelExpansion,
        "query-cpu-model-comparison" => QueryCpuModelComparison,
        "query-cpu-model-baseline" => QueryCpuModelBaseline,
    });
}

#[test]
fn aarch64_exchanges() {
    check_target!("aarch64-oracle.jsonl", aarch64, {
        "query-version" => QueryVersion,
        "query-target" => QueryTarget,
        "query-cpu-definitions" => QueryCpuDefinitions,
        "query-cpu-model-expansion" => QueryCpuModelExpansion,
    });
}
