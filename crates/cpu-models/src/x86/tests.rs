//! The fiddly parts: property validation, alias spellings, dependencies,
//! levels, QDict order.

use super::*;
use serde_json::json;

fn engine() -> X86Models {
    X86Models::builtin().expect("catalogue loads")
}

fn full(e: &X86Models, name: &str, props: Value) -> Result<Map<String, Value>, String> {
    let mut m = CpuModelInfo::new(name.to_string());
    m.props = Some(props);
    e.expand(CpuModelExpansionType::Full, &m)
        .map(|i| {
            i.model
                .props
                .and_then(|p| p.as_object().cloned())
                .unwrap_or_default()
        })
        .map_err(|e| e.desc)
}

#[test]
fn tdb_hash_orders_like_qemu() {
    // Observed: of two unknown props QEMU reports `zzz-bogus`, and
    // `bogus` wins over a bad `pmu`.
    let p: Map<String, Value> =
        serde_json::from_value(json!({"aaa-bogus": 1, "zzz-bogus": 1})).unwrap_or_default();
    assert_eq!(qdict_order(&p)[0].0, "zzz-bogus");
    let p: Map<String, Value> =
        serde_json::from_value(json!({"pmu": "x", "bogus": 1})).unwrap_or_default();
    assert_eq!(qdict_order(&p)[0].0, "bogus");
}

#[test]
fn bad_props_are_reported_in_request_order_within_a_bucket() {
    // `vmx-pause-exit` and `sse4a` share QDict bucket 291; QEMU 10.0.2
    // iterates the later-inserted one first, so it reports `sse4a` when
    // the request lists it last, and `vmx-pause-exit` otherwise.
    let e = engine();
    let err = |props: Value| full(&e, "Icelake-Server-v7", props).unwrap_err();
    assert!(
        err(json!({"abm": "on", "mtrr": "on", "vmx-pause-exit": "on", "sse4a": "on"}))
            .contains("'model.props.sse4a'")
    );
    assert!(err(json!({"sse4a": "on", "vmx-pause-exit": "on"}))
        .contains("'model.props.vmx-pause-exit'"));
}

#[test]
fn an_unresolvable_link_is_device_not_found() {
    let e = engine();
    let mut m = CpuModelInfo::new("Haswell".into());
    m.props = Some(json!({"memory": "/nowhere"}));
    let err = e.expand(CpuModelExpansionType::Full, &m).unwrap_err();
    assert_eq!(err.class, ErrorClass::DeviceNotFound);
    assert_eq!(err.desc, "Device '/nowhere' not found");
    // A wrong type for the link is the visitor's generic error.
    m.props = Some(json!({"memory": 1}));
    assert_eq!(
        e.expand(CpuModelExpansionType::Full, &m).unwrap_err().class,
        ErrorClass::GenericError
    );
    // So is an unknown property given a string.
    m.props = Some(json!({"no-such-prop": "x"}));
    assert_eq!(
        e.expand(CpuModelExpansionType::Full, &m).unwrap_err().class,
        ErrorClass::GenericError
    );
}

#[test]
fn validation_errors() {
    let e = engine();
    let cases = [
        (json!({"level": -1}), "Parameter 'level' expects uint32_t"),
        (
            json!({"level": 1.5}),
            "Parameter 'model.props.level' expects uint64",
        ),
        (
            json!({"family": -1}),
            "parameter 'family' can be at most 270",
        ),
        (
            json!({"stepping": 16}),
            "parameter 'stepping' can be at most 15",
        ),
        (
            json!({"model": 256}),
            "parameter 'model' can be at most 255",
        ),
        (
            json!({"tsc-frequency": -5}),
            "parameter 'tsc-frequency' can be at most 9223372036854775807",
        ),
        (
            json!({"tsc-frequency": "x"}),
            "Invalid parameter type for 'model.props.tsc-frequency', expected: integer",
        ),
        (
            json!({"core-id": 2_147_483_648u64}),
            "Parameter 'core-id' expects int32_t",
        ),
        (
            json!({"avx10-version": 300}),
            "Parameter 'avx10-version' expects uint8_t",
        ),
        (
            json!({"lbr-fmt": 64}),
            "Property value for 'lbr-fmt' has bits outside mask '0x3f'",
        ),
        (
            json!({"lbr_fmt": 64}),
            "Property value for 'lbr-fmt' has bits outside mask '0x3f'",
        ),
        (
            json!({"hv-no-nonarch-coresharing": "x"}),
            "Parameter 'hv-no-nonarch-coresharing' does not accept value 'x'",
        ),
        (
            json!({"vendor": "x"}),
            "value of property 'vendor' must consist of exactly 12 characters",
        ),
        (
            json!({"pmu": 1}),
            "Invalid parameter type for 'model.props.pmu', expected: boolean",
        ),
        (
            json!({"model-id": 5}),
            "Invalid parameter type for 'model.props.model-id', expected: string",
        ),
        (
            json!({"feature-words": 1}),
            "Property 'Haswell-x86_64-cpu.feature-words' is not writable",
        ),
        (
            json!({"hotplugged": false}),
            "Property 'Haswell-x86_64-cpu.hotplugged' is not writable",
        ),
        (
            json!({"migratable": false}),
            "Property 'Haswell-x86_64-cpu.migratable' not found",
        ),
        (json!({"memory": "x"}), "Device 'x' not found"),
        (
            json!({"realized": true}),
            "apic-id property was not initialized properly",
        ),
    ];
    for (props, want) in cases {
        assert_eq!(
            full(&e, "Haswell", props.clone()).err().as_deref(),
            Some(want),
            "{props}"
        );
    }
    assert_eq!(
        full(&e, "Haswell", json!([])).err().as_deref(),
        Some("Invalid parameter type for 'model.props', expected: object")
    );
    assert_eq!(
        full(&e, "haswell", json!({"bogus": 1})).err().as_deref(),
        Some("CPU model 'haswell' not found")
    );
}

#[test]
fn values_are_transformed_like_the_setters() {
    let e = engine();
    let r = full(
        &e,
        "Haswell",
        json!({"tsc-frequency": 1500, "model-id": "x".repeat(60), "ucode-rev": -1}),
    )
    .expect("valid");
    assert_eq!(r["tsc-frequency"], json!(1000));
    assert_eq!(r["model-id"], json!("x".repeat(48)));
    assert_eq!(r["ucode-rev"], json!(u64::MAX));
}

#[test]
fn alias_spellings_set_one_feature() {
    let e = engine();
    for spelling in ["sse4.2", "sse4_2", "sse4-2"] {
        let r = full(&e, "Haswell", json!({ spelling: false })).expect("valid");
        for k in ["sse4.2", "sse4_2", "sse4-2"] {
            assert_eq!(r[k], json!(false), "{spelling} -> {k}");
        }
    }
    let r = full(&e, "base", json!({"i64": true, "hv-avic": true})).expect("valid");
    assert_eq!(
        (r["lm"].clone(), r["hv-apicv"].clone()),
        (json!(true), json!(true))
    );
}

#[test]
fn dependencies_and_accelerator() {
    let e = engine();
    // vmx off takes the VMX controls along; avx2 without avx stays.
    let r = full(&e, "Skylake-Server", json!({"vmx": true})).expect("valid");
    assert_eq!(r["vmx-ept"], json!(true));
    let r = full(&e, "Skylake-Server", json!({"vmx": false})).expect("valid");
    assert_eq!(r["vmx-ept"], json!(false));
    let r = full(&e, "Haswell", json!({"avx": false, "avx2": true})).expect("valid");
    assert_eq!(
        (r["avx"].clone(), r["avx2"].clone()),
        (json!(false), json!(true))
    );
    // KVM paravirt features are cleared under TCG, under every spelling.
    let r = full(&e, "Haswell", json!({"kvmclock": true, "kvm_pv_eoi": true})).expect("valid");
    assert_eq!(
        (r["kvmclock"].clone(), r["kvm_pv_eoi"].clone()),
        (json!(false), json!(false))
    );
    // max adds the accelerator's features unless the request set them.
    let r = full(&e, "max", json!({"svm": false})).expect("valid");
    assert_eq!(
        (r["svm"].clone(), r["npt"].clone()),
        (json!(false), json!(false))
    );
}

#[test]
fn levels() {
    let e = engine();
    let r = full(&e, "base", json!({"avx512f": true})).expect("valid");
    assert_eq!(
        (r["level"].clone(), r["min-level"].clone()),
        (json!(7), json!(7))
    );
    let r = full(&e, "Haswell", json!({"level": 2, "xlevel": 5})).expect("valid");
    assert_eq!(
        (
            r["level"].clone(),
            r["min-level"].clone(),
            r["xlevel"].clone()
        ),
        (json!(2), json!(13), json!(5))
    );
    let r = full(&e, "Haswell", json!({"min-level": 2, "min-xlevel": 5})).expect("valid");
    assert_eq!(
        (r["level"].clone(), r["xlevel"].clone()),
        (json!(13), json!(0x8000_0001u32))
    );
    let r = full(
        &e,
        "Haswell",
        json!({"x-intel-pt-auto-level": false, "intel-pt": true}),
    )
    .expect("valid");
    assert_eq!(r["intel-pt"], json!(false));
}

#[test]
fn our_two_booleans() {
    let e = engine();
    let ex = |ty, name: &str, props: Value| {
        let mut m = CpuModelInfo::new(name.to_string());
        m.props = Some(props);
        e.expand(ty, &m)
            .map(|i| (i.q_static, i.migration_safe))
            .map_err(|e| e.desc)
    };
    use CpuModelExpansionType::{Full, Static};
    assert_eq!(ex(Static, "max", json!({})), Ok((true, true)));
    assert_eq!(ex(Full, "max", json!({})), Ok((false, false)));
    assert_eq!(ex(Full, "Haswell", json!({})), Ok((false, true)));
    assert_eq!(
        ex(Full, "Haswell", json!({"pmu": true})),
        Ok((false, false))
    );
    assert_eq!(ex(Full, "base", json!({})), Ok((true, true)));
}

#[test]
fn definitions_come_in_qemu_order() {
    let d = engine().definitions().expect("definitions");
    assert_eq!(d.len(), 154);
    assert_eq!(
        (d[0].name.as_str(), d[1].name.as_str(), d[2].name.as_str()),
        ("max", "host", "base")
    );
}
