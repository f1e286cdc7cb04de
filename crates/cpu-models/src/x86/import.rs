//! Collects the x86 catalogue from a running QEMU over QMP.
//!
//! Everything here is observed: the definitions as QEMU lists them, the
//! properties of every model class, every model's full and static
//! expansion, and a set of small experiments that reveal the rules the
//! expansion follows (which features a feature takes down with it, which
//! property names are spellings of the same feature, how far each feature
//! raises the CPUID levels, what the custom setters accept).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::qmp_io::{Conn, Qemu};

/// The non-feature keys of QEMU's static property set.
pub(crate) const STATIC_SCALARS: [&str; 8] = [
    "min-level",
    "min-xlevel",
    "family",
    "model",
    "stepping",
    "model-id",
    "vendor",
    "lmce",
];

struct Session<'a> {
    conn: &'a mut Conn,
}

impl Session<'_> {
    fn exec(&mut self, cmd: &str, args: Value) -> Result<Value, String> {
        let r = self
            .conn
            .execute(cmd, Some(args))
            .map_err(|e| format!("{cmd}: {e}"))?;
        Ok(r)
    }

    fn ret(&mut self, cmd: &str, args: Value) -> Result<Value, String> {
        let r = self.exec(cmd, args)?;
        r.get("return")
            .cloned()
            .ok_or_else(|| format!("{cmd} failed: {r}"))
    }

    /// Expansion props, or the error text.
    fn expand(
        &mut self,
        ty: &str,
        name: &str,
        props: &Map<String, Value>,
    ) -> Result<Result<Map<String, Value>, String>, String> {
        let r = self.exec(
            "query-cpu-model-expansion",
            json!({"type": ty, "model": {"name": name, "props": props}}),
        )?;
        if let Some(e) = r.get("error") {
            return Ok(Err(e["desc"].as_str().unwrap_or("").to_string()));
        }
        match r.pointer("/return/model/props") {
            Some(Value::Object(m)) => Ok(Ok(m.clone())),
            _ => Ok(Ok(Map::new())),
        }
    }

    fn expand_ok(
        &mut self,
        ty: &str,
        name: &str,
        props: &Map<String, Value>,
    ) -> Result<Map<String, Value>, String> {
        self.expand(ty, name, props)?
            .map_err(|e| format!("expanding {name} with {props:?}: {e}"))
    }
}

fn bools(names: &[String], v: bool) -> Map<String, Value> {
    names.iter().map(|n| (n.clone(), Value::Bool(v))).collect()
}

fn true_set(m: &Map<String, Value>, feats: &[String]) -> BTreeSet<String> {
    feats
        .iter()
        .filter(|f| m.get(*f) == Some(&Value::Bool(true)))
        .cloned()
        .collect()
}

fn u64_of(m: &Map<String, Value>, k: &str) -> u64 {
    m.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// Starts `qemu` and collects the catalogue.
pub fn collect(qemu: &Path) -> Result<Value, String> {
    let mut q = Qemu::start(qemu).map_err(|e| format!("starting {}: {e}", qemu.display()))?;
    let mut s = Session { conn: q.conn() };
    collect_with(&mut s)
}

fn collect_with(s: &mut Session) -> Result<Value, String> {
    let version = s.ret("query-version", json!({}))?;
    let defs = s.ret("query-cpu-definitions", json!({}))?;
    let defs_list = defs.as_array().cloned().unwrap_or_default();
    let names: Vec<String> = defs_list
        .iter()
        .filter_map(|d| d["name"].as_str().map(str::to_string))
        .collect();

    // Property types: the union over every model class.
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut per_model_props: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &defs_list {
        let tn = d["typename"].as_str().unwrap_or("");
        let name = d["name"].as_str().unwrap_or("").to_string();
        let list = s.ret("qom-list-properties", json!({"typename": tn}))?;
        let mut set = BTreeSet::new();
        for p in list.as_array().into_iter().flatten() {
            let (Some(n), Some(t)) = (p["name"].as_str(), p["type"].as_str()) else {
                continue;
            };
            types.insert(n.to_string(), t.to_string());
            set.insert(n.to_string());
        }
        per_model_props.insert(name, set);
    }

    // Every model's full and static expansion.
    let empty = Map::new();
    let mut full: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut static_keys: Vec<String> = Vec::new();
    for n in &names {
        let f = s.expand_ok("full", n, &empty)?;
        let st = s.expand_ok("static", n, &empty)?;
        if static_keys.is_empty() {
            static_keys = st.keys().cloned().collect();
        }
        full.insert(n.clone(), f);
    }
    let features: Vec<String> = static_keys
        .iter()
        .filter(|k| !STATIC_SCALARS.contains(&k.as_str()))
        .cloned()
        .collect();
    let writable: BTreeSet<String> = full.values().flat_map(|m| m.keys().cloned()).collect();

    // Experiment 1: every feature on, on `base`.  What still comes out
    // off is cleared unconditionally (the KVM paravirt word under TCG).
    let all_on = bools(&features, true);
    let on = s.expand_ok("full", "base", &all_on)?;
    let kvm_cleared: Vec<String> = features
        .iter()
        .filter(|f| on.get(*f) != Some(&Value::Bool(true)))
        .cloned()
        .collect();

    // Experiment 2: every feature on but one: what the dependency pass
    // takes down along with it.
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in &features {
        if kvm_cleared.contains(g) {
            continue;
        }
        let mut p = all_on.clone();
        p.insert(g.clone(), Value::Bool(false));
        let r = s.expand_ok("full", "base", &p)?;
        let lost: Vec<String> = features
            .iter()
            .filter(|f| {
                *f != g
                    && on.get(*f) == Some(&Value::Bool(true))
                    && r.get(*f) == Some(&Value::Bool(false))
            })
            .cloned()
            .collect();
        if !lost.is_empty() {
            deps.insert(g.clone(), lost);
        }
    }

    // Experiment 3: other boolean property names that are spellings of a
    // feature: turning one off on a model that has the feature takes
    // exactly that feature (and what depends on it) down.
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    let feature_set: BTreeSet<&String> = features.iter().collect();
    let richest = full
        .iter()
        .max_by_key(|(_, m)| true_set(m, &features).len())
        .map(|(n, _)| n.clone())
        .unwrap_or_default();
    let hosts: Vec<String> = vec!["max".to_string(), richest];
    for (p, t) in &types {
        if t != "bool" || feature_set.contains(p) || !writable.contains(p) {
            continue;
        }
        let mut found = None;
        for h in &hosts {
            let Some(hf) = full.get(h) else { continue };
            let had = true_set(hf, &features);
            let mut props = Map::new();
            props.insert(p.clone(), Value::Bool(false));
            let Ok(r) = s.expand("full", h, &props)? else {
                break;
            };
            let lost: BTreeSet<String> = had
                .iter()
                .filter(|f| r.get(*f) == Some(&Value::Bool(false)))
                .cloned()
                .collect();
            if lost.is_empty() {
                continue;
            }
            found = lost
                .iter()
                .find(|g| {
                    let mut c: BTreeSet<String> = deps
                        .get(*g)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .collect();
                    c.insert((*g).clone());
                    c.retain(|x| had.contains(x));
                    c == lost
                })
                .cloned();
            break;
        }
        if found.is_none() {
            // Turning it on alone on `base` shows a feature without
            // dependencies.
            let mut props = Map::new();
            props.insert(p.clone(), Value::Bool(true));
            if let Ok(r) = s.expand("full", "base", &props)? {
                let gained: Vec<String> = features
                    .iter()
                    .filter(|f| r.get(*f) == Some(&Value::Bool(true)))
                    .cloned()
                    .collect();
                if gained.len() == 1 {
                    found = gained.into_iter().next();
                }
            }
        }
        if found.is_none() {
            // Not observable here (a feature no model has, or one the
            // accelerator clears): legacy spellings differ only in '_'.
            let canon = p.replace('_', "-");
            if feature_set.contains(&canon) {
                found = Some(canon);
            }
        }
        if let Some(g) = found {
            aliases.insert(p.clone(), g);
        }
    }
    // Other properties that always follow each other (QOM aliases such
    // as `lbr_fmt`, or two names for one Hyper-V bit): setting either
    // changes both.
    let base_full = full.get("base").cloned().unwrap_or_default();
    let probe_value = |name: &str| -> Value {
        match base_full.get(name) {
            Some(Value::Bool(b)) => Value::Bool(!b),
            Some(x) if x == &json!(1) => json!(2),
            _ => json!(1),
        }
    };
    for (p, t) in &types {
        let eligible = t == "bool" || t.starts_with("uint");
        if !eligible || !writable.contains(p) || feature_set.contains(p) || aliases.contains_key(p)
        {
            continue;
        }
        let pv = probe_value(p);
        let mut m = Map::new();
        m.insert(p.clone(), pv.clone());
        let Ok(r) = s.expand("full", "base", &m)? else {
            continue;
        };
        for (q, v) in &r {
            if q == p
                || v != &pv
                || base_full.get(q) == Some(&pv)
                || types.get(q) != Some(t)
                || feature_set.contains(q)
            {
                continue;
            }
            let mut m = Map::new();
            m.insert(q.clone(), pv.clone());
            if let Ok(back) = s.expand("full", "base", &m)? {
                if back.get(p) == Some(&pv) && p > q {
                    aliases.insert(p.clone(), q.clone());
                }
            }
        }
    }

    // Experiment 4: how far each feature raises the CPUID levels, with
    // and without full-cpuid-auto-level.
    let level_keys = ["min-level", "min-xlevel", "min-xlevel2", "level-func7"];
    let mut raises: BTreeMap<String, Value> = BTreeMap::new();
    for f in &features {
        if kvm_cleared.contains(f) {
            continue;
        }
        let mut p = Map::new();
        p.insert(f.clone(), Value::Bool(true));
        for (g, lost) in &deps {
            if lost.contains(f) {
                p.insert(g.clone(), Value::Bool(true));
            }
        }
        let a = s.expand_ok("full", "base", &p)?;
        p.insert("full-cpuid-auto-level".into(), Value::Bool(false));
        let b = s.expand_ok("full", "base", &p)?;
        let ra: Vec<u64> = level_keys.iter().map(|k| u64_of(&a, k)).collect();
        let rb: Vec<u64> = level_keys.iter().map(|k| u64_of(&b, k)).collect();
        if ra.iter().chain(&rb).any(|v| *v != 0) {
            raises.insert(f.clone(), json!({"auto": ra, "always": rb}));
        }
    }

    // Experiment 5: the custom setters' limits.
    let mut limits: BTreeMap<String, Value> = BTreeMap::new();
    for (p, t) in &types {
        if !writable.contains(p) || aliases.contains_key(p) {
            continue;
        }
        let probes: Vec<Value> = match t.as_str() {
            "int" => vec![json!(u64::MAX), json!(-1), json!(1500)],
            "uint64" => vec![json!(u64::MAX)],
            "string" | "str" => vec![json!("x"), json!("x".repeat(100))],
            _ => continue,
        };
        let mut got = Vec::new();
        for v in probes {
            let mut m = Map::new();
            m.insert(p.clone(), v);
            got.push(match s.expand("full", "base", &m)? {
                Ok(r) => json!({"value": r.get(p).cloned().unwrap_or(Value::Null)}),
                Err(e) => json!({"error": e}),
            });
        }
        limits.insert(p.clone(), Value::Array(got));
    }

    // Per model: level values before the automatic raise, and whether the
    // model fixes level/xlevel/xlevel2 itself.
    let all_off = bools(&features, false);
    let dependents_all: BTreeSet<&String> = deps.values().flatten().collect();
    let roots: Map<String, Value> = deps
        .keys()
        .filter(|g| !dependents_all.contains(g))
        .map(|g| (g.clone(), Value::Bool(true)))
        .collect();
    let mut models = Map::new();
    for n in &names {
        let f = &full[n];
        let a = s.expand_ok("full", n, &all_off)?;
        let mut pushed = all_off.clone();
        pushed.insert("min-level".into(), json!(0x7fff_fff0u32));
        pushed.insert("min-xlevel".into(), json!(0xffff_fff0u32));
        pushed.insert("min-xlevel2".into(), json!(0xffff_fff0u32));
        let b = s.expand_ok("full", n, &pushed)?;
        // Features the class sets that the dependency pass takes away
        // (e.g. VMX controls of a model without `vmx`), or that the
        // accelerator adds to `max`/`host` but a dependency blocks: with
        // every dependency root forced on, they appear.
        let c = s.expand_ok("full", n, &roots)?;
        let mut before = true_set(f, &features);
        let extra: BTreeSet<String> = true_set(&c, &features)
            .into_iter()
            .filter(|x| !before.contains(x) && !roots.contains_key(x))
            .collect();
        before.extend(extra);
        let mut m = Map::new();
        m.insert("features".into(), json!(before));
        let mut values = Map::new();
        for (k, v) in f {
            if feature_set.contains(k) || aliases.contains_key(k) {
                continue;
            }
            values.insert(k.clone(), v.clone());
        }
        m.insert("values".into(), Value::Object(values));
        let mins: Vec<u64> = level_keys.iter().map(|k| u64_of(&a, k)).collect();
        m.insert("min-levels".into(), json!(mins));
        let mut fixed = Map::new();
        for (lk, pushed_v) in [
            ("level", 0x7fff_fff0u64),
            ("xlevel", 0xffff_fff0),
            ("xlevel2", 0xffff_fff0),
        ] {
            let v = u64_of(&b, lk);
            if v != pushed_v {
                fixed.insert(lk.into(), json!(v));
            }
        }
        m.insert("fixed-levels".into(), Value::Object(fixed));
        let not_writable: Vec<&String> = per_model_props[n]
            .iter()
            .filter(|p| !f.contains_key(*p))
            .collect();
        m.insert("read-only".into(), json!(not_writable));
        models.insert(n.clone(), Value::Object(m));
    }

    let mut out = Map::new();
    out.insert("qemu-version".into(), version);
    out.insert("definitions".into(), defs);
    out.insert("property-types".into(), json!(types));
    out.insert("static-keys".into(), json!(static_keys));
    out.insert("accel-cleared".into(), json!(kvm_cleared));
    out.insert("dependents".into(), json!(deps));
    out.insert("aliases".into(), json!(aliases));
    out.insert("level-raise".into(), json!(raises));
    out.insert("setter-probes".into(), json!(limits));
    out.insert("models".into(), Value::Object(models));
    Ok(Value::Object(out))
}

/// Formats the catalogue: sorted keys, one model (or one table) a line.
pub fn format(v: &Value) -> String {
    let v = &crate::sorted(v);
    let mut s = String::from("{\n");
    let Some(top) = v.as_object() else {
        return v.to_string();
    };
    let n = top.len();
    for (i, (k, val)) in top.iter().enumerate() {
        s.push_str(&format!("{}: ", Value::String(k.clone())));
        match val {
            Value::Object(m)
                if k == "models"
                    || k == "dependents"
                    || k == "level-raise"
                    || k == "setter-probes" =>
            {
                s.push_str("{\n");
                let mn = m.len();
                for (j, (mk, mv)) in m.iter().enumerate() {
                    s.push_str(&format!("  {}: {}", Value::String(mk.clone()), mv));
                    s.push_str(if j + 1 < mn { ",\n" } else { "\n" });
                }
                s.push('}');
            }
            Value::Array(a) if k == "definitions" => {
                s.push_str("[\n");
                for (j, d) in a.iter().enumerate() {
                    s.push_str(&format!("  {d}"));
                    s.push_str(if j + 1 < a.len() { ",\n" } else { "\n" });
                }
                s.push(']');
            }
            other => s.push_str(&other.to_string()),
        }
        s.push_str(if i + 1 < n { ",\n" } else { "\n" });
    }
    s.push_str("}\n");
    s
}
