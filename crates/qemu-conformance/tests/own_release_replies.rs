//! Every reply libvirt recorded from a real QEMU (`../shared/corpus/
//! libvirt-11.3.0/caps/*.replies`) round-trips — decodes into the
//! command's `Returns` and re-encodes to the same JSON value — through
//!
//! * the bindings of that QEMU's own release where the corpus has its
//!   schema (7.2.0, 8.0, 8.1, 9.1; x86_64);
//! * ONE set of range bindings, 10.2.2's schema compatible with 7.2.0,
//!   8.0, 8.1, 9.1 and 10.0.2 (`--compatible-with`), built with the
//!   conditions of the reply's target, for every recording from 7.2.0 on;
//!   older recordings are reported.
//!
//! Errors must be well-formed QMP errors.

#![cfg(qemu_schema)]

use std::path::Path;

use qapi_support::{Command, QmpError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize>(what: &str, v: &Value) -> Result<(), String> {
    let typed: T =
        serde_json::from_value(v.clone()).map_err(|e| format!("{what}: does not decode: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("{what}: encode: {e}"))?;
    if &back != v {
        return Err(format!("{what}: re-encodes differently"));
    }
    Ok(())
}

fn exchanges(file: &str) -> Vec<(Value, Value)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/libvirt-11.3.0/caps")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let values: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(|v| v.expect("JSON"))
        .collect();
    values
        .windows(2)
        .filter(|w| w[0].get("execute").is_some())
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect()
}

fn reply<C: Command>(tag: &str, resp: &Value) -> Result<(), String> {
    match (resp.get("return"), resp.get("error")) {
        (Some(ret), _) => round_trip::<C::Returns>(tag, ret),
        (None, Some(err)) => serde_json::from_value::<QmpError>(err.clone())
            .map(drop)
            .map_err(|e| format!("{tag}: error does not decode: {e}")),
        _ => Err(format!("{tag}: no return, no error")),
    }
}

/// Round-trips every reply of `$file` through bindings module `$m`:
/// (replies, failures).
macro_rules! replies_through {
    ($file:expr, $m:ident) => {{
        use qemu_conformance::$m as m;
        let mut n = 0usize;
        let mut failures = Vec::new();
        for (i, (req, resp)) in exchanges($file).iter().enumerate() {
            let cmd = req["execute"].as_str().expect("execute").to_string();
            let tag = format!("{} #{i} {cmd}", $file);
            let r = match cmd.as_str() {
                "qmp_capabilities" => reply::<m::QmpCapabilities>(&tag, resp),
                "device-list-properties" => reply::<m::DeviceListProperties>(&tag, resp),
                "qom-list-properties" => reply::<m::QomListProperties>(&tag, resp),
                "qom-list-types" => reply::<m::QomListTypes>(&tag, resp),
                "query-command-line-options" => reply::<m::QueryCommandLineOptions>(&tag, resp),
                "query-cpu-definitions" => reply::<m::QueryCpuDefinitions>(&tag, resp),
                "query-cpu-model-expansion" => reply::<m::QueryCpuModelExpansion>(&tag, resp),
                "query-kvm" => reply::<m::QueryKvm>(&tag, resp),
                "query-machines" => reply::<m::QueryMachines>(&tag, resp),
                "query-migrate-capabilities" => reply::<m::QueryMigrateCapabilities>(&tag, resp),
                "query-qmp-schema" => reply::<m::QueryQmpSchema>(&tag, resp),
                "query-sev-capabilities" => reply::<m::QuerySevCapabilities>(&tag, resp),
                "query-sgx-capabilities" => reply::<m::QuerySgxCapabilities>(&tag, resp),
                "query-target" => reply::<m::QueryTarget>(&tag, resp),
                "query-tpm-models" => reply::<m::QueryTpmModels>(&tag, resp),
                "query-tpm-types" => reply::<m::QueryTpmTypes>(&tag, resp),
                "query-version" => reply::<m::QueryVersion>(&tag, resp),
                "query-cpus-fast" => reply::<m::QueryCpusFast>(&tag, resp),
                other => Err(format!("{tag}: add {other} to the test's list")),
            };
            if let Err(e) = r {
                failures.push(e);
            }
            n += 1;
        }
        (n, failures)
    }};
}

/// Every reply of `$file` round-trips through `$m`.
macro_rules! all_replies {
    ($file:expr, $m:ident; $what:expr) => {{
        let (n, failures) = replies_through!($file, $m);
        eprintln!(
            "{}: {n} replies, {} round-trip through {}",
            $file,
            n - failures.len(),
            $what
        );
        assert!(n > 40, "{}: too few exchanges", $file);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }};
}

macro_rules! own_release {
    ($file:expr, $m:ident) => {
        all_replies!($file, $m; "its own release's bindings")
    };
}

#[test]
fn qemu_7_2_0() {
    own_release!("caps_7.2.0_x86_64.replies", v7_2);
}

#[test]
fn qemu_8_0_0() {
    own_release!("caps_8.0.0_x86_64.replies", v8_0);
}

#[test]
fn qemu_8_1_0() {
    own_release!("caps_8.1.0_x86_64.replies", v8_1);
}

#[test]
fn qemu_9_1_0() {
    own_release!("caps_9.1.0_x86_64.replies", v9_1);
}

/// Why range bindings are needed: 7.2.0's `query-machines` reply does not
/// decode into bindings of 10.0.2 alone (`acpi` became mandatory in 8.0).
#[test]
fn another_releases_bindings_refuse_it() {
    let (_, resp) = exchanges("caps_7.2.0_x86_64.replies")
        .into_iter()
        .find(|(req, _)| req["execute"] == "query-machines")
        .expect("a query-machines exchange");
    let err = round_trip::<<qemu_conformance::x86_64::QueryMachines as Command>::Returns>(
        "7.2.0 query-machines in 10.0.2's bindings",
        &resp["return"],
    )
    .expect_err("10.0.2's MachineInfo requires acpi");
    assert!(err.contains("acpi"), "{err}");
}

/// Range bindings (10.2.2 compatible with 7.2.0, 8.0, 8.1, 9.1, 10.0.2):
/// every reply recorded from QEMU 7.2.0 on, by target.
macro_rules! range_release {
    ($name:ident, $file:expr, $m:ident) => {
        #[test]
        fn $name() {
            all_replies!($file, $m; "the range bindings 7.2–10.2");
        }
    };
}

range_release!(range_7_2_0, "caps_7.2.0_x86_64.replies", range_x86_64);
range_release!(range_8_0_0, "caps_8.0.0_x86_64.replies", range_x86_64);
range_release!(range_8_1_0, "caps_8.1.0_x86_64.replies", range_x86_64);
range_release!(range_8_1_0_s390x, "caps_8.1.0_s390x.replies", range_s390x);
range_release!(range_8_2_0, "caps_8.2.0_x86_64.replies", range_x86_64);
range_release!(range_9_0_0, "caps_9.0.0_x86_64.replies", range_x86_64);
range_release!(range_9_1_0, "caps_9.1.0_x86_64.replies", range_x86_64);
range_release!(range_9_2_0, "caps_9.2.0_x86_64.replies", range_x86_64);

/// Releases older than the range: reported, not required.
#[test]
fn older_than_the_range() {
    let mut report = Vec::new();
    for (file, (n, failures)) in [
        (
            "caps_6.2.0_x86_64.replies",
            replies_through!("caps_6.2.0_x86_64.replies", range_x86_64),
        ),
        (
            "caps_6.2.0_ppc64.replies",
            replies_through!("caps_6.2.0_ppc64.replies", range_x86_64),
        ),
        (
            "caps_7.0.0_x86_64.replies",
            replies_through!("caps_7.0.0_x86_64.replies", range_x86_64),
        ),
        (
            "caps_7.1.0_x86_64.replies",
            replies_through!("caps_7.1.0_x86_64.replies", range_x86_64),
        ),
    ] {
        eprintln!(
            "{file}: {} of {n} replies decode into the range bindings 7.2–10.2",
            n - failures.len()
        );
        for f in failures.iter().take(3) {
            eprintln!("    {f}");
        }
        report.push(n);
    }
    assert!(
        report.iter().all(|n| *n > 40),
        "too few exchanges: {report:?}"
    );
}

/// What the range bindings say of releases: the constants clients read.
#[test]
#[allow(deprecated)]
fn range_constants() {
    use qemu_conformance::range_x86_64 as r;
    assert_eq!(
        r::QEMU_RELEASES,
        ["7.2", "8.0", "8.1", "9.1", "10.0", "10.2"]
    );
    // `query-machines` is everywhere; `x-query-rdma` was removed in 9.1.
    assert_eq!(<r::QueryMachines as Command>::RELEASES, r::QEMU_RELEASES);
    assert_eq!(<r::XQueryRdma as Command>::RELEASES, ["7.2", "8.0", "8.1"]);
    let ev = r::Event::MemUnplugError(r::MemUnplugErrorEvent::new("dimm0".into(), "busy".into()));
    assert!(!ev.releases().contains(&"10.2"), "{:?}", ev.releases());
}
