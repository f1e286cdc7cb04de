//! The replies `CpuService` encodes at load time (definitions, expansions
//! without `props`) are byte for byte what the generated `dispatch`
//! computes and the server encodes, for every model and expansion type;
//! so are the expansions with `props`, written from the engine's ordered
//! props, and the errors of bad arguments.

use cpu_models::Target;
use qmp_runtime::Service;
use serde_json::{json, Map, Value};

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// What `execute` answers, encoded as the server writes it.
fn slow(s: &qmp_cpu_server::CpuService, cmd: &str, a: Value) -> Result<Vec<u8>, String> {
    s.execute(cmd, args(a))
        .map(|v| {
            let mut out = Vec::new();
            qmp_runtime::json::write_value(&mut out, &v);
            out
        })
        .map_err(|e| e.desc)
}

fn fast(s: &qmp_cpu_server::CpuService, cmd: &str, a: Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    s.execute_into(cmd, args(a), &mut out)
        .map(|()| out)
        .map_err(|e| e.desc)
}

#[test]
fn encoded_replies_equal_dispatch() {
    for target in [Target::X86_64, Target::S390x] {
        let s = qmp_cpu_server::CpuService::new(target).expect("catalogue");
        let defs = s
            .execute("query-cpu-definitions", Map::new())
            .expect("definitions");
        let names: Vec<String> = defs
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|d| d["name"].as_str().map(String::from))
            .collect();
        assert!(!names.is_empty());
        let mut cases = vec![
            ("query-cpu-definitions", json!({})),
            ("query-cpu-definitions", json!({"x": 1})),
            ("query-cpu-model-expansion", json!({"type": "static"})),
            (
                "query-cpu-model-expansion",
                json!({"type": "fast", "model": {"name": names[0]}}),
            ),
            (
                "query-cpu-model-expansion",
                json!({"type": "full", "model": {"name": "no-such-model"}}),
            ),
            (
                "query-cpu-model-expansion",
                json!({"type": "full", "model": {"name": names[0], "props": {}}}),
            ),
            (
                "query-cpu-model-expansion",
                json!({"type": "static", "model": {"name": names[0], "props": {"x": true}}}),
            ),
            ("query-version", json!({})),
        ];
        // With props, the reply is written from the engine's ordered
        // props: it must be what `dispatch` makes of the same expansion.
        let props = match target {
            Target::X86_64 => [
                json!({}),
                json!({"vmx": false, "model-id": "caf\u{e9} \"quoted\"", "pmu": true}),
                json!({"level": 30, "avx512f": true, "migratable": false}),
            ],
            Target::S390x => [json!({}), json!({"vx": false}), json!({"msa5": true})],
        };
        for n in &names {
            for ty in ["static", "full"] {
                cases.push((
                    "query-cpu-model-expansion",
                    json!({"type": ty, "model": {"name": n}}),
                ));
                for p in &props {
                    cases.push((
                        "query-cpu-model-expansion",
                        json!({"type": ty, "model": {"name": n, "props": p}}),
                    ));
                }
            }
        }
        for (cmd, a) in cases {
            assert_eq!(
                fast(&s, cmd, a.clone()),
                slow(&s, cmd, a.clone()),
                "{} {cmd} {a}",
                target.arch()
            );
        }
    }
}
