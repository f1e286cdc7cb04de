//! Compares the engine with a live QEMU (`/usr/bin/qemu-system-x86_64`)
//! on models with and without props, including props the oracle never
//! recorded: random feature flags, numeric properties, invalid values.

use std::path::Path;

use cpu_models::qmp_io::Qemu;
use cpu_models::x86::X86Models;
use cpu_models::CpuModels;
use qapi_types::{CpuModelExpansionType, CpuModelInfo};
use serde_json::{json, Map, Value};

const QEMU: &str = "/usr/bin/qemu-system-x86_64";

fn qemu() -> Option<Qemu> {
    if !Path::new(QEMU).exists() {
        if std::env::var("QMP_REQUIRE_QEMU").as_deref() == Ok("1") {
            panic!("{QEMU} is missing and QMP_REQUIRE_QEMU=1");
        }
        eprintln!("skipped: {QEMU} is absent");
        return None;
    }
    Some(Qemu::start(Path::new(QEMU)).expect("QEMU starts"))
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

fn ours(engine: &X86Models, ty: &str, name: &str, props: &Value) -> Value {
    let t = if ty == "static" {
        CpuModelExpansionType::Static
    } else {
        CpuModelExpansionType::Full
    };
    let mut m = CpuModelInfo::new(name.to_string());
    m.props = Some(props.clone());
    match engine.expand(t, &m) {
        Ok(info) => {
            json!({"return": {"model": serde_json::to_value(&info.model).unwrap_or(Value::Null)}})
        }
        Err(e) => json!({"error": {"class": e.class, "desc": e.desc}}),
    }
}

fn differences(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match (
        a.pointer("/return/model/props"),
        b.pointer("/return/model/props"),
    ) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            for (k, v) in x {
                if y.get(k) != Some(v) {
                    out.push(format!(
                        "{k}: ours {v}, QEMU {}",
                        y.get(k).unwrap_or(&Value::Null)
                    ));
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    out.push(format!("{k}: missing in ours"));
                }
            }
            if a.pointer("/return/model/name") != b.pointer("/return/model/name") {
                out.push("name differs".into());
            }
        }
        _ => {
            if a != b {
                out.push(format!("ours {a}, QEMU {b}"));
            }
        }
    }
    out
}

#[test]
fn x86_live_comparison() {
    let Some(mut q) = qemu() else { return };
    let engine = X86Models::builtin().expect("catalogue loads");
    let conn = q.conn();
    let defs = conn
        .execute("query-cpu-definitions", None)
        .expect("definitions");
    let names: Vec<String> = defs["return"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str().map(str::to_string))
        .collect();
    let base = conn
        .execute(
            "query-cpu-model-expansion",
            Some(json!({"type": "full", "model": {"name": "max"}})),
        )
        .expect("max");
    let all_props: Vec<String> = base["return"]["model"]["props"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let bool_props: Vec<String> = all_props
        .iter()
        .filter(|k| {
            base["return"]["model"]["props"][k.as_str()].is_boolean() && k.as_str() != "realized"
        })
        .cloned()
        .collect();

    let mut cases: Vec<(String, Value)> = vec![
        (
            "Haswell".into(),
            json!({"family": 16, "model": 255, "stepping": 0}),
        ),
        (
            "Haswell".into(),
            json!({"level": 4, "xlevel": 0x80000004u32, "min-level": 30}),
        ),
        (
            "EPYC".into(),
            json!({"svm": false, "min-xlevel": 0x80000001u32}),
        ),
        (
            "max".into(),
            json!({"lm": false, "sse4_2": false, "pmu": false}),
        ),
        ("host".into(), json!({"vmx": true, "migratable": false})),
        (
            "base".into(),
            json!({"avx512f": true, "avx10": true, "avx10-128": true}),
        ),
        (
            "base".into(),
            json!({"full-cpuid-auto-level": false, "avx512f": true, "sse": true, "svm": true}),
        ),
        (
            "Skylake-Server".into(),
            json!({"x-intel-pt-auto-level": false, "intel-pt": true}),
        ),
        ("Skylake-Server".into(), json!({"intel-pt": true})),
        (
            "Icelake-Server".into(),
            json!({"vmx-ept": false, "vmx-vpid": false}),
        ),
        ("Cascadelake-Server".into(), json!({"vmx": false})),
        (
            "Haswell".into(),
            json!({"tsc-frequency": 2_500_999_999i64, "model-id": "a".repeat(70), "vendor": "AuthenticAMD"}),
        ),
        ("Haswell".into(), json!({"level": -1})),
        ("Haswell".into(), json!({"xlevel": 1.5})),
        ("Haswell".into(), json!({"phys-bits": "x"})),
        ("Haswell".into(), json!({"core-id": 3_000_000_000u64})),
        ("Haswell".into(), json!({"lbr-fmt": 63, "ucode-rev": -2})),
        ("Haswell".into(), json!({"lbr_fmt": 64})),
        (
            "Haswell".into(),
            json!({"hv-no-nonarch-coresharing": "auto", "hv-vendor-id": "abc"}),
        ),
        (
            "Haswell".into(),
            json!({"hv-no-nonarch-coresharing": "maybe"}),
        ),
        ("Haswell".into(), json!({"filtered-features": 1})),
        ("Haswell".into(), json!({"migratable": false})),
        ("Haswell".into(), json!({"memory": ""})),
        ("Haswell".into(), json!({"vendor": "Intel"})),
        (
            "Haswell".into(),
            json!({"stepping": 16, "model": 256, "family": 271}),
        ),
        (
            "Haswell".into(),
            json!({"kvm_pv_eoi": true, "kvmclock": true, "kvm-hint-dedicated": true}),
        ),
        (
            "Haswell".into(),
            json!({"level-func7": 3, "xlevel2": 0xc0000001u32}),
        ),
        (
            "Haswell".into(),
            json!({"min-xlevel2": 0xc0000002u32, "xstore": true}),
        ),
        ("Nonexistent".into(), json!({"bogus": 1})),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let numeric = [
        "level",
        "xlevel",
        "min-xlevel",
        "phys-bits",
        "stepping",
        "model",
        "tsc-frequency",
        "hv-spinlocks",
        "core-id",
        "avx10-version",
        "level-func7",
        "min-level",
        "vendor",
        "model-id",
    ];
    let odd_values = [
        json!(-1),
        json!(0),
        json!(7),
        json!(255),
        json!(300),
        json!(4_294_967_296u64),
        json!("x"),
        json!(true),
        json!("GenuineIntel"),
        json!(0x8000_0008u32),
    ];
    for i in 0..300 {
        let name = rng.pick(&names).clone();
        let mut p = Map::new();
        for _ in 0..(1 + rng.next() % 8) {
            let k = rng.pick(&bool_props).clone();
            p.insert(k, Value::Bool(rng.next() & 1 == 0));
        }
        if i % 5 == 0 {
            p.insert("family".into(), json!(rng.next() % 300));
        }
        if i % 7 == 0 {
            p.insert("min-level".into(), json!(rng.next() % 40));
        }
        if i % 3 == 0 {
            let k = rng.pick(&numeric).to_string();
            p.insert(k, rng.pick(&odd_values).clone());
        }
        cases.push((name, Value::Object(p)));
    }
    for n in names.iter().step_by(7) {
        cases.push((n.clone(), json!({})));
    }

    let (mut pass, mut total) = (0, 0);
    let mut failures = Vec::new();
    for (name, props) in &cases {
        for ty in ["static", "full"] {
            total += 1;
            let theirs = conn
                .execute(
                    "query-cpu-model-expansion",
                    Some(json!({"type": ty, "model": {"name": name, "props": props}})),
                )
                .expect("QEMU answers");
            let mine = ours(&engine, ty, name, props);
            let d = differences(&mine, &theirs);
            if d.is_empty() {
                pass += 1;
            } else {
                failures.push(format!("{ty} {name} {props}: {}", d.join("; ")));
            }
        }
    }
    println!("x86 live: {pass}/{total} expansions answered as QEMU did");
    assert!(
        failures.is_empty(),
        "{} of {total} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
