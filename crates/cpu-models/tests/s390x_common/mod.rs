//! Answering recorded or live s390x requests the way a server would, and
//! comparing answers with QEMU's.

use cpu_models::s390x::S390xModels;
use cpu_models::CpuModels;
use qapi_types::{CpuModelExpansionType, CpuModelInfo};
use serde_json::{json, Value};

/// The four CPU-model commands.
pub const COMMANDS: [&str; 4] = [
    "query-cpu-definitions",
    "query-cpu-model-expansion",
    "query-cpu-model-comparison",
    "query-cpu-model-baseline",
];

fn error_json(e: &qapi_support::QmpError) -> Value {
    json!({"error": {"class": e.class, "desc": e.desc}})
}

fn model_arg(v: &Value) -> CpuModelInfo {
    let mut m = CpuModelInfo::new(v["name"].as_str().unwrap_or("").to_string());
    m.props = v.get("props").cloned();
    m
}

fn reply<T: serde::Serialize>(r: Result<T, qapi_support::QmpError>) -> Value {
    match r {
        Ok(v) => {
            let mut v = serde_json::to_value(&v).unwrap_or(Value::Null);
            // Our two added booleans are not QEMU's.
            if let Some(o) = v.as_object_mut() {
                o.remove("static");
                o.remove("migration-safe");
            }
            json!({ "return": v })
        }
        Err(e) => error_json(&e),
    }
}

/// Answers one request as a server would: the generated argument checker
/// first, then the engine.  `None` for other commands.
pub fn answer(engine: &S390xModels, req: &Value) -> Option<Value> {
    let cmd = req["execute"].as_str()?;
    if !COMMANDS.contains(&cmd) {
        return None;
    }
    let args = req.get("arguments").cloned().unwrap_or(json!({}));
    if let Err(e) = qapi_types::check_arguments(cmd, &args) {
        return Some(error_json(&e));
    }
    Some(match cmd {
        "query-cpu-definitions" => reply(engine.definitions()),
        "query-cpu-model-expansion" => {
            let ty = match args["type"].as_str() {
                Some("static") => CpuModelExpansionType::Static,
                _ => CpuModelExpansionType::Full,
            };
            reply(engine.expand(ty, &model_arg(&args["model"])))
        }
        "query-cpu-model-comparison" => {
            reply(engine.compare(&model_arg(&args["modela"]), &model_arg(&args["modelb"])))
        }
        _ => reply(engine.baseline(&model_arg(&args["modela"]), &model_arg(&args["modelb"]))),
    })
}

/// Differences between our reply and QEMU's (objects compared by key,
/// lists by position), at most a few.
pub fn diff(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, "", &mut out);
    out.truncate(8);
    out
}

fn walk(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => walk(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: only ours ({v})")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: only QEMU's ({w})"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                walk(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: ours {a}, QEMU {b}")),
        _ => {}
    }
}
