//! Every `query-cpu-model-expansion` and `query-cpu-definitions` exchange
//! recorded from QEMU 10.0.2 (`../shared/oracle/x86-oracle.jsonl`) must be
//! answered the same by the engine (JSON values compared, key order aside;
//! errors by class and text; our two added booleans left out).

use std::path::PathBuf;

use cpu_models::x86::X86Models;
use cpu_models::CpuModels;
use qapi_types::{CpuModelExpansionType, CpuModelInfo};
use serde_json::{json, Value};

fn oracle() -> Option<PathBuf> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/oracle/x86-oracle.jsonl");
    if p.exists() {
        return Some(p);
    }
    if std::env::var("QAPI_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{} is missing and QAPI_REQUIRE_SHARED=1", p.display());
    }
    eprintln!("skipped: {} is absent", p.display());
    None
}

fn error_json(e: &qapi_support::QmpError) -> Value {
    json!({"error": {"class": e.class, "desc": e.desc}})
}

/// Answers one request as a server would.
fn answer(engine: &X86Models, req: &Value) -> Option<Value> {
    let cmd = req["execute"].as_str()?;
    let args = req.get("arguments").cloned().unwrap_or(json!({}));
    if cmd != "query-cpu-model-expansion" && cmd != "query-cpu-definitions" {
        return None;
    }
    if let Err(e) = qapi_types::check_arguments(cmd, &args) {
        return Some(error_json(&e));
    }
    Some(match cmd {
        "query-cpu-definitions" => match engine.definitions() {
            Ok(d) => json!({"return": d}),
            Err(e) => error_json(&e),
        },
        _ => {
            let ty = match args["type"].as_str() {
                Some("static") => CpuModelExpansionType::Static,
                _ => CpuModelExpansionType::Full,
            };
            let mut model =
                CpuModelInfo::new(args["model"]["name"].as_str().unwrap_or("").to_string());
            model.props = args["model"].get("props").cloned();
            match engine.expand(ty, &model) {
                Ok(info) => {
                    let mut v = serde_json::to_value(&info).unwrap_or(Value::Null);
                    if let Some(o) = v.as_object_mut() {
                        o.remove("static");
                        o.remove("migration-safe");
                    }
                    json!({"return": v})
                }
                Err(e) => error_json(&e),
            }
        }
    })
}

fn diff(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: only ours ({v})")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: only QEMU's ({w})"));
                }
            }
        }
        _ if a != b => out.push(format!("{path}: ours {a}, QEMU {b}")),
        _ => {}
    }
}

#[test]
fn x86_oracle_exchanges() {
    let Some(path) = oracle() else { return };
    let engine = X86Models::builtin().expect("catalogue loads");
    let text = std::fs::read_to_string(&path).expect("oracle readable");
    let (mut pass, mut total) = (0, 0);
    let mut failures = Vec::new();
    for line in text.lines() {
        let rec: Value = serde_json::from_str(line).expect("oracle line is JSON");
        let Some(ours) = answer(&engine, &rec["request"]) else {
            continue;
        };
        total += 1;
        let mut want = rec["response"].clone();
        if let Some(o) = want.as_object_mut() {
            o.remove("id");
        }
        let mut d = Vec::new();
        diff(&ours, &want, "", &mut d);
        if d.is_empty() {
            pass += 1;
        } else {
            d.truncate(6);
            failures.push(format!(
                "{} {}:\n  {}",
                rec["tag"],
                rec["request"]["arguments"],
                d.join("\n  ")
            ));
        }
    }
    println!("x86 oracle: {pass}/{total} exchanges answered as QEMU did");
    assert!(
        failures.is_empty(),
        "{} of {total} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
