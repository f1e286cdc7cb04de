//! Our answers against a live `qemu-system-s390x` for requests the oracle
//! does not hold: random models with random feature and group toggles,
//! invalid props, random comparisons and baselines.  Skipped (with the
//! reason printed) when the binary is absent, unless `QMP_REQUIRE_QEMU=1`.
//! `S390X_LIVE_CASES` sets the number of cases per command (default 300),
//! `S390X_LIVE_SEED` the random seed.

mod s390x_common;

use std::path::Path;

use cpu_models::qmp_io::Qemu;
use cpu_models::s390x::S390xModels;
use serde_json::{json, Map, Value};

const QEMU: &str = "/usr/bin/qemu-system-s390x";

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

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Names {
    models: Vec<String>,
    features: Vec<String>,
    groups: Vec<String>,
}

fn names() -> Names {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/s390x.json"))
            .expect("catalogue readable");
    let v: Value = serde_json::from_str(&text).expect("catalogue is JSON");
    let strs = |a: &Value, key: Option<&str>| -> Vec<String> {
        a.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| match key {
                Some(k) => x[k].as_str().map(str::to_string),
                None => x.as_str().map(str::to_string),
            })
            .collect()
    };
    Names {
        models: strs(&v["models"], Some("name")),
        features: strs(&v["features"], None),
        groups: strs(&v["groups"], Some("name")),
    }
}

/// Random props: mostly feature and group toggles, sometimes something
/// QEMU rejects.  Never `realized: true` (QEMU would realize the CPU).
fn props(r: &mut Rng, n: &Names, invalid: bool) -> Option<Value> {
    if r.chance(15) {
        return None;
    }
    let mut m = Map::new();
    for _ in 0..1 + r.below(4) {
        let name = if r.chance(25) {
            r.pick(&n.groups).clone()
        } else {
            r.pick(&n.features).clone()
        };
        // Switching off is always allowed; mostly switch off so that the
        // sets stay interesting.
        m.insert(name, Value::Bool(r.chance(10)));
    }
    if invalid {
        let bad: Vec<(&str, Value)> = vec![
            ("no-such-feature", json!(true)),
            ("vx", json!(1)),
            ("msa", json!("on")),
            ("static", json!(true)),
            ("migration-safe", json!(false)),
            ("type", json!("x")),
            ("hotplugged", json!(false)),
            ("core-id", json!(-1)),
            ("core-id", json!("x")),
            ("core-id", json!(4_294_967_296u64)),
            ("core-id", json!(7)),
            ("book-id", json!(1.5)),
            ("book-id", json!(-3)),
            ("socket-id", json!(3_000_000_000u64)),
            ("entitlement", json!("high")),
            ("entitlement", json!("bogus")),
            ("entitlement", json!(2)),
            ("dedicated", json!(true)),
            ("dedicated", json!(null)),
            ("start-powered-off", json!("x")),
            ("realized", json!(false)),
            ("realized", json!("yes")),
            ("crash-information", json!({})),
            ("description", json!("x")),
            ("", json!(true)),
        ];
        for _ in 0..1 + r.below(2) {
            let (k, v) = r.pick(&bad).clone();
            m.insert(k.to_string(), v);
        }
    }
    if r.chance(3) {
        return Some(json!([]));
    }
    Some(Value::Object(m))
}

fn model(r: &mut Rng, n: &Names, invalid: bool) -> Value {
    let name = if invalid && r.chance(5) {
        "NoSuchCPU".to_string()
    } else {
        r.pick(&n.models).clone()
    };
    match props(r, n, invalid) {
        Some(p) => json!({"name": name, "props": p}),
        None => json!({"name": name}),
    }
}

#[test]
fn s390x_live_comparison() {
    let Some(mut q) = qemu() else { return };
    let engine = S390xModels::builtin().expect("catalogue loads");
    let n = names();
    let cases: usize = std::env::var("S390X_LIVE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("S390X_LIVE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5390_C0DE);
    let mut r = Rng(seed | 1);
    let mut reqs = vec![json!({"execute": "query-cpu-definitions"})];
    for i in 0..cases {
        let invalid = i % 8 == 7;
        let ty = if r.chance(50) { "static" } else { "full" };
        reqs.push(json!({"execute": "query-cpu-model-expansion",
            "arguments": {"type": ty, "model": model(&mut r, &n, invalid)}}));
        reqs.push(json!({"execute": "query-cpu-model-comparison",
            "arguments": {"modela": model(&mut r, &n, invalid), "modelb": model(&mut r, &n, false)}}));
        reqs.push(json!({"execute": "query-cpu-model-baseline",
            "arguments": {"modela": model(&mut r, &n, false), "modelb": model(&mut r, &n, invalid)}}));
    }
    let (mut pass, mut errors_matched) = (0, 0);
    let mut failures = Vec::new();
    let mut tally: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for req in &reqs {
        let want = q.conn().send_raw(req).expect("QEMU answers");
        let Some(ours) = s390x_common::answer(&engine, req) else {
            continue;
        };
        let t = tally
            .entry(req["execute"].as_str().unwrap_or("").to_string())
            .or_default();
        if want.get("error").is_some() {
            t.1 += 1;
        } else {
            t.0 += 1;
        }
        let d = s390x_common::diff(&ours, &want);
        if d.is_empty() {
            pass += 1;
            if want.get("error").is_some() {
                errors_matched += 1;
            }
        } else {
            failures.push(format!("{req}:\n  {}", d.join("\n  ")));
        }
    }
    println!(
        "s390x live: {pass}/{} answered as QEMU did ({errors_matched} of them errors), seed {seed}",
        reqs.len()
    );
    for (cmd, (ok, err)) in &tally {
        println!("  {cmd}: {ok} answers, {err} errors");
    }
    failures.truncate(15);
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

/// Every pair of models, unmodified, compared and baselined: checks the
/// generation, GA and machine facts the catalogue derived.
#[test]
fn s390x_live_all_pairs() {
    let Some(mut q) = qemu() else { return };
    let engine = S390xModels::builtin().expect("catalogue loads");
    let n = names();
    let (mut pass, mut total) = (0, 0);
    let mut failures = Vec::new();
    for a in &n.models {
        for b in &n.models {
            for cmd in ["query-cpu-model-comparison", "query-cpu-model-baseline"] {
                let req = json!({"execute": cmd,
                    "arguments": {"modela": {"name": a}, "modelb": {"name": b}}});
                let want = q.conn().send_raw(&req).expect("QEMU answers");
                let Some(ours) = s390x_common::answer(&engine, &req) else {
                    continue;
                };
                total += 1;
                let d = s390x_common::diff(&ours, &want);
                if d.is_empty() {
                    pass += 1;
                } else {
                    failures.push(format!("{req}:\n  {}", d.join("\n  ")));
                }
            }
        }
    }
    println!("s390x live, all model pairs: {pass}/{total} answered as QEMU did");
    failures.truncate(15);
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

/// `realized: true` makes QEMU check the model against the max model
/// before realizing; only models that fail that check are asked (QEMU
/// does not answer for a CPU it goes on to realize).
#[test]
fn s390x_live_realize_checks() {
    let Some(mut q) = qemu() else { return };
    let engine = S390xModels::builtin().expect("catalogue loads");
    let n = names();
    let (mut pass, mut total) = (0, 0);
    let mut failures = Vec::new();
    for m in &n.models {
        for ty in ["static", "full"] {
            let req = json!({"execute": "query-cpu-model-expansion",
                "arguments": {"type": ty, "model": {"name": m, "props": {"realized": true}}}});
            let Some(ours) = s390x_common::answer(&engine, &req) else {
                continue;
            };
            if ours["error"]["desc"] == "The CPU cannot be realized here" {
                continue;
            }
            total += 1;
            let want = q.conn().send_raw(&req).expect("QEMU answers");
            let d = s390x_common::diff(&ours, &want);
            if d.is_empty() {
                pass += 1;
            } else {
                failures.push(format!("{req}:\n  {}", d.join("\n  ")));
            }
        }
    }
    println!("s390x live, realize checks: {pass}/{total} answered as QEMU did");
    failures.truncate(15);
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}
