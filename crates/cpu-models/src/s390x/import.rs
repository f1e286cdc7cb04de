//! Collects the s390x catalogue from a real QEMU.
//!
//! Everything here is observed.  The binary's `-cpu help` lists the
//! definitions in QEMU's (chronological) table order, the features in
//! feature order and the groups in group order.  Over QMP:
//!
//! * `query-cpu-definitions`: the classes, in QEMU's listing order;
//! * `qom-list-properties` and single-property probes: the CPU object's
//!   other properties, their types and whether they can be written;
//! * full expansions of every class: base and default feature sets, and
//!   those of `qemu` and `max`;
//! * single-feature probes: each definition's full feature set (a feature
//!   outside it cannot be switched on);
//! * comparisons: group members (a feature belongs to a group iff,
//!   against the same base, switching the group on covers switching the
//!   feature on and switching the group off covers switching the feature
//!   off) and the generation/GA order of the definitions (two
//!   definitions stripped of every feature compare by generation alone);
//! * baselines: which base features the definition search ignores, and
//!   where a generation ends (the baseline of two definitions of one
//!   generation but different machines searches without a machine type).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Map, Value};

use super::{find_def, Bits, Catalogue, CpuDef, DefKey, GroupDef, ModelClass, PropDef};
use crate::qmp_io::{Conn, Qemu};

/// What `-cpu help` says.
struct Help {
    /// Definition names (without `-base`), in table order.
    defs: Vec<String>,
    features: Vec<String>,
    groups: Vec<String>,
}

fn cpu_help(qemu: &Path) -> Result<Help, String> {
    let out = Command::new(qemu)
        .args(["-machine", "none", "-cpu", "help"])
        .output()
        .map_err(|e| format!("{} -cpu help: {e}", qemu.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut help = Help {
        defs: Vec::new(),
        features: Vec::new(),
        groups: Vec::new(),
    };
    let mut section = 0;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Available CPUs") {
            section = 1;
        } else if t.starts_with("Recognized feature flags") {
            section = 2;
        } else if t.starts_with("Recognized feature groups") {
            section = 3;
        } else if let Some(name) = t.split_whitespace().next() {
            match section {
                1 => {
                    if let Some(d) = name.strip_suffix("-base") {
                        help.defs.push(d.to_string());
                    }
                }
                2 => help.features.push(name.to_string()),
                3 => help.groups.push(name.to_string()),
                _ => {}
            }
        }
    }
    if help.defs.is_empty() || help.features.is_empty() {
        return Err(format!(
            "{} -cpu help: no models or features",
            qemu.display()
        ));
    }
    Ok(help)
}

struct Session<'a> {
    conn: &'a mut Conn,
    features: Vec<String>,
    index: HashMap<String, usize>,
    /// Group name -> members, once known.
    groups: Vec<(String, Bits)>,
}

impl Session<'_> {
    fn exec(&mut self, cmd: &str, args: Value) -> Result<Value, String> {
        self.conn
            .execute(cmd, Some(args))
            .map_err(|e| format!("{cmd}: {e}"))
    }

    fn model(name: &str, props: Option<Value>) -> Value {
        match props {
            Some(p) => json!({"name": name, "props": p}),
            None => json!({"name": name}),
        }
    }

    /// A full expansion's reply.
    fn full(&mut self, name: &str, props: Option<Value>) -> Result<Value, String> {
        let m = Self::model(name, props);
        self.exec(
            "query-cpu-model-expansion",
            json!({"type": "full", "model": m}),
        )
    }

    /// Whether setting `props` on `name` is accepted, and the error text if not.
    fn probe(&mut self, name: &str, props: Value) -> Result<Option<String>, String> {
        let r = self.full(name, Some(props))?;
        Ok(r["error"]["desc"].as_str().map(str::to_string))
    }

    fn compare(&mut self, a: Value, b: Value) -> Result<Result<String, String>, String> {
        let r = self.exec(
            "query-cpu-model-comparison",
            json!({"modela": a, "modelb": b}),
        )?;
        Ok(match r["return"]["result"].as_str() {
            Some(s) => Ok(s.to_string()),
            None => Err(r["error"]["desc"].as_str().unwrap_or("?").to_string()),
        })
    }

    fn baseline(&mut self, a: Value, b: Value) -> Result<Result<String, String>, String> {
        let r = self.exec(
            "query-cpu-model-baseline",
            json!({"modela": a, "modelb": b}),
        )?;
        Ok(match r["return"]["model"]["name"].as_str() {
            Some(s) => Ok(s.to_string()),
            None => Err(r["error"]["desc"].as_str().unwrap_or("?").to_string()),
        })
    }

    /// The feature set an expansion reply's `props` describe.
    fn enabled(&self, reply: &Value) -> Result<Bits, String> {
        let props = reply["return"]["model"]["props"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut b = Bits::default();
        for (k, v) in props {
            if v != Value::Bool(true) {
                continue;
            }
            b = b.or(&self.named(&k)?);
        }
        Ok(b)
    }

    /// The features a feature or group name stands for.
    fn named(&self, k: &str) -> Result<Bits, String> {
        let mut b = Bits::default();
        if let Some(&i) = self.index.get(k) {
            b.set(i, true);
        } else if let Some((_, m)) = self.groups.iter().find(|(g, _)| g == k) {
            b = *m;
        } else {
            return Err(format!("QEMU named an unknown feature {k}"));
        }
        Ok(b)
    }

    /// Every feature off.
    fn all_off(&self) -> Value {
        Value::Object(
            self.features
                .iter()
                .map(|f| (f.clone(), Value::Bool(false)))
                .collect(),
        )
    }
}

/// Folded names of `bits` (groups first, in group order, then features).
fn fold(features: &[String], groups: &[(String, Bits)], bits: &Bits) -> Vec<String> {
    let mut left = *bits;
    let mut out = Vec::new();
    for (name, m) in groups {
        if m.is_subset(&left) {
            left = left.and_not(m);
            out.push(name.clone());
        }
    }
    out.extend(left.ones().map(|i| features[i].clone()));
    out
}

fn delta(features: &[String], groups: &[(String, Bits)], from: &Bits, to: &Bits) -> Vec<String> {
    let mut out: Vec<String> = fold(features, groups, &to.and_not(from))
        .into_iter()
        .map(|n| format!("+{n}"))
        .collect();
    out.extend(
        fold(features, groups, &from.and_not(to))
            .into_iter()
            .map(|n| format!("-{n}")),
    );
    out
}

/// The machine a definition belongs to: its name without the `.N` that
/// numbers a machine's later GA levels (`z990.3` is the z990's GA3).
fn machine_of(def: &str) -> &str {
    match def.rsplit_once('.') {
        Some((m, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => m,
        _ => def,
    }
}

pub(crate) fn collect(qemu: &Path) -> Result<Catalogue, String> {
    let help = cpu_help(qemu)?;
    let mut q = Qemu::start(qemu).map_err(|e| format!("cannot start {}: {e}", qemu.display()))?;
    let index = help
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), i))
        .collect();
    let mut s = Session {
        conn: q.conn(),
        features: help.features.clone(),
        index,
        groups: Vec::new(),
    };
    let nf = help.features.len();
    let mut all = Bits::default();
    for i in 0..nf {
        all.set(i, true);
    }

    let v = s.exec("query-version", json!({}))?;
    let ver = &v["return"]["qemu"];
    let qemu_version = format!(
        "QEMU {}.{}.{} ({}), -machine none -accel tcg",
        ver["major"],
        ver["minor"],
        ver["micro"],
        v["return"]["package"].as_str().unwrap_or("")
    );

    // The classes as QEMU lists them.
    let listing = s.exec("query-cpu-definitions", json!({}))?;
    let listing = listing["return"]
        .as_array()
        .cloned()
        .ok_or("query-cpu-definitions failed")?;

    let oldest = help.defs[0].clone();
    let newest_first: Vec<String> = help.defs.iter().rev().cloned().collect();

    // Group members.
    for g in &help.groups {
        let mut host = None;
        for d in &newest_first {
            let base = format!("{d}-base");
            if s.probe(&base, json!({ g.as_str(): true }))?.is_none() {
                host = Some(base);
                break;
            }
        }
        let host = host.ok_or_else(|| format!("group {g} is available on no model"))?;
        let mut members = Bits::default();
        for (i, f) in help.features.iter().enumerate() {
            let on = s.compare(
                Session::model(&host, Some(json!({ g.as_str(): true }))),
                Session::model(&host, Some(json!({ f.as_str(): true }))),
            )?;
            if !matches!(on.as_deref(), Ok("superset" | "identical")) {
                continue;
            }
            let off = s.compare(
                Session::model(&host, Some(json!({ g.as_str(): false }))),
                Session::model(&host, Some(json!({ f.as_str(): false }))),
            )?;
            if matches!(off.as_deref(), Ok("subset" | "identical")) {
                members.set(i, true);
            }
        }
        if members.is_empty() {
            return Err(format!("group {g}: no members found"));
        }
        s.groups.push((g.clone(), members));
    }

    // Each definition's feature sets.
    struct Sets {
        base: Bits,
        default: Bits,
        full: Bits,
    }
    let mut sets = Vec::new();
    for d in &help.defs {
        let base_name = format!("{d}-base");
        let r = s.full(&base_name, None)?;
        let base = s.enabled(&r)?;
        let r = s.full(d, None)?;
        let default = s.enabled(&r)?;
        let mut full = base.or(&default);
        for (i, f) in help.features.iter().enumerate() {
            if full.get(i) {
                continue;
            }
            if s.probe(&base_name, json!({ f.as_str(): true }))?.is_none() {
                full.set(i, true);
            }
        }
        sets.push(Sets {
            base,
            default,
            full,
        });
    }

    let reply = s.full(&oldest, None)?;
    let mut deprecated = Bits::default();
    for n in reply["return"]["deprecated-props"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        deprecated = deprecated.or(&s.named(n.as_str().unwrap_or(""))?);
    }

    // Base features the definition search ignores.  Dropping a feature
    // the search insists on stops it at or before the first definition
    // whose base has the feature, so the baseline of a base model without
    // that feature never finds that base model again; dropping an ignored
    // one finds it wherever the search reaches it.
    let mut ignored = Bits::default();
    for i in 0..nf {
        let f = &help.features[i];
        for w in (0..help.defs.len()).rev().filter(|&d| sets[d].base.get(i)) {
            let base = format!("{}-base", help.defs[w]);
            let r = s.baseline(
                Session::model(&base, Some(json!({ f.as_str(): false }))),
                Session::model(&base, None),
            )?;
            if r.as_deref() == Ok(base.as_str()) {
                ignored.set(i, true);
                break;
            }
        }
    }

    // Generation/GA order: stripped of every feature, two definitions
    // compare by generation and GA alone.
    let n = help.defs.len();
    let mut order = vec![vec![Ordering::Equal; n]; n];
    let off = s.all_off();
    #[allow(clippy::needless_range_loop)] // a symmetric table, filled by pairs
    for i in 0..n {
        for j in i + 1..n {
            let r = s.compare(
                Session::model(&format!("{}-base", help.defs[i]), Some(off.clone())),
                Session::model(&format!("{}-base", help.defs[j]), Some(off.clone())),
            )?;
            let o = match r.as_deref() {
                Ok("identical") => Ordering::Equal,
                Ok("subset") => Ordering::Less,
                Ok("superset") => Ordering::Greater,
                other => return Err(format!("comparing generations: {other:?}")),
            };
            order[i][j] = o;
            order[j][i] = o.reverse();
        }
    }
    let mut sorted: Vec<usize> = (0..n).collect();
    sorted.sort_by(|&a, &b| order[a][b]);
    let mut classes: Vec<Vec<usize>> = Vec::new();
    for &d in &sorted {
        match classes.last_mut() {
            Some(c) if order[c[0]][d] == Ordering::Equal => c.push(d),
            _ => classes.push(vec![d]),
        }
    }
    for c in &mut classes {
        c.sort_unstable();
    }
    let machines: Vec<&str> = help.defs.iter().map(|d| machine_of(d)).collect();
    let machine_id: Vec<u16> = machines
        .iter()
        .map(|m| machines.iter().position(|x| x == m).unwrap_or(0) as u16 + 1)
        .collect();

    // Where does a generation end?  Consecutive classes of one machine
    // share a generation; otherwise ask a baseline whose answer differs.
    let mut gen = vec![0u8; n];
    let mut ga = vec![0u8; n];
    let (mut g, mut a) = (1u8, 1u8);
    for (k, c) in classes.iter().enumerate() {
        if k > 0 {
            let prev = &classes[k - 1];
            let same_machine = prev
                .iter()
                .any(|&x| c.iter().any(|&y| machines[x] == machines[y]));
            let same = if same_machine {
                true
            } else {
                let mut decided = None;
                'probe: for &x in prev {
                    for &y in c {
                        let predict = |same: bool| -> Option<usize> {
                            let keys: Vec<DefKey<'_>> = (0..n)
                                .map(|d| {
                                    let (dg, da) = if c.contains(&d) {
                                        if same {
                                            (g, a + 1)
                                        } else {
                                            (g + 1, 1)
                                        }
                                    } else if gen[d] == 0 {
                                        (u8::MAX, 1)
                                    } else {
                                        (gen[d], ga[d])
                                    };
                                    DefKey {
                                        gen: dg,
                                        ec_ga: da,
                                        machine: machine_id[d],
                                        base: &sets[d].base,
                                    }
                                })
                                .collect();
                            let feats = sets[x].base.and(&sets[y].base);
                            let m = if same && machine_id[x] != machine_id[y] {
                                0
                            } else {
                                machine_id[x]
                            };
                            find_def(&keys, &ignored, m, g, a, &feats)
                        };
                        let (ps, pn) = (predict(true), predict(false));
                        if ps == pn {
                            continue;
                        }
                        let r = s.baseline(
                            Session::model(&format!("{}-base", help.defs[x]), None),
                            Session::model(&format!("{}-base", help.defs[y]), None),
                        )?;
                        let got = r.ok().and_then(|name| {
                            help.defs.iter().position(|d| format!("{d}-base") == name)
                        });
                        if got == ps {
                            decided = Some(true);
                            break 'probe;
                        }
                        if got == pn {
                            decided = Some(false);
                            break 'probe;
                        }
                    }
                }
                decided.unwrap_or(false)
            };
            if same {
                a += 1;
            } else {
                g += 1;
                a = 1;
            }
        }
        for &d in c {
            gen[d] = g;
            ga[d] = a;
        }
    }

    // The classes.
    let mut models = Vec::new();
    let mut max_model = None;
    for e in &listing {
        let name = e["name"].as_str().ok_or("definition without a name")?;
        let typename = e["typename"].as_str().unwrap_or("").to_string();
        let (def, start, features) = if let Some(d) = name.strip_suffix("-base") {
            (d.to_string(), "base", None)
        } else if help.defs.iter().any(|d| d == name) {
            (name.to_string(), "default", None)
        } else {
            let r = s.full(name, None)?;
            let def = r["return"]["model"]["name"]
                .as_str()
                .and_then(|n| n.strip_suffix("-base"))
                .ok_or_else(|| format!("{name}: expansion failed: {r}"))?
                .to_string();
            let feats = s.enabled(&r)?;
            (def, "explicit", Some(fold(&s.features, &s.groups, &feats)))
        };
        if e["migration-safe"] == Value::Bool(false) && !e["static"].as_bool().unwrap_or(false) {
            max_model.get_or_insert_with(|| name.to_string());
        }
        models.push(ModelClass {
            name: name.to_string(),
            typename,
            is_static: e["static"].as_bool().unwrap_or(false),
            migration_safe: e["migration-safe"].as_bool().unwrap_or(false),
            deprecated: e["deprecated"].as_bool().unwrap_or(false),
            def,
            start: start.to_string(),
            features,
        });
    }
    let max_model = max_model.unwrap_or_else(|| "max".to_string());

    // The other properties of the CPU object.
    let probe_class = format!("{oldest}-base");
    let typename = format!("{oldest}-s390x-cpu");
    let plist = s.exec("qom-list-properties", json!({ "typename": typename }))?;
    let mut props = Vec::new();
    for p in plist["return"].as_array().cloned().unwrap_or_default() {
        let name = p["name"].as_str().unwrap_or("").to_string();
        if s.index.contains_key(&name) || s.groups.iter().any(|(g, _)| *g == name) {
            continue;
        }
        let ty = p["type"].as_str().unwrap_or("").to_string();
        let probe_value = match ty.as_str() {
            "bool" => json!(false),
            "int32" | "uint32" | "int64" | "uint64" | "uint16" | "uint8" => json!(0),
            _ => json!(""),
        };
        let err = s.probe(&probe_class, json!({ name.as_str(): probe_value }))?;
        let readonly = err
            .as_deref()
            .is_some_and(|e| e.ends_with("is not writable"));
        let (kind, values) = if readonly {
            ("readonly", None)
        } else if name == "realized" {
            ("realized", None)
        } else if ty == "bool" || ty == "int32" || ty == "uint32" {
            (ty.as_str(), None)
        } else if ty.starts_with("link<") {
            ("link", None)
        } else if err
            .as_deref()
            .is_some_and(|e| e.contains("does not accept value"))
        {
            // An enumeration: its description lists the values.
            let desc = p["description"].as_str().unwrap_or("");
            let list = desc.split(" (").next().unwrap_or("");
            let mut values = Vec::new();
            for v in list.split('/') {
                if s.probe(&probe_class, json!({ name.as_str(): v }))?
                    .is_none()
                {
                    values.push(v.to_string());
                }
            }
            ("enum", Some(values))
        } else {
            return Err(format!(
                "property {name} of type {ty}: cannot classify (probe said {err:?})"
            ));
        };
        props.push(PropDef {
            name,
            kind: kind.to_string(),
            values,
        });
    }
    props.sort_by(|a, b| a.name.cmp(&b.name));

    let fs = &s.features;
    let gs = &s.groups;
    let cpu_defs = help
        .defs
        .iter()
        .enumerate()
        .map(|(i, d)| CpuDef {
            name: d.clone(),
            gen: gen[i],
            ec_ga: ga[i],
            machine: machines[i].to_string(),
            base: fold(fs, gs, &sets[i].base),
            default: delta(fs, gs, &sets[i].base, &sets[i].default),
            full: delta(fs, gs, &sets[i].default, &sets[i].full),
        })
        .collect();
    let cat = Catalogue {
        qemu: qemu_version,
        features: help.features.clone(),
        groups: s
            .groups
            .iter()
            .map(|(g, m)| GroupDef {
                name: g.clone(),
                members: m.ones().map(|i| fs[i].clone()).collect(),
            })
            .collect(),
        deprecated: fold(fs, &[], &deprecated),
        ignored_base: fold(fs, &[], &ignored),
        cpu_defs,
        models,
        max_model,
        props,
    };
    drop(q);
    Ok(cat)
}

/// The file text: one line per entry of each list, deterministic.
pub(crate) fn format(cat: &Catalogue) -> Result<String, String> {
    let v = crate::sorted(&serde_json::to_value(cat).map_err(|e| e.to_string())?);
    let Value::Object(top) = v else {
        return Err("catalogue is not an object".into());
    };
    let mut out = String::from("{\n");
    let n = top.len();
    let order = [
        "qemu",
        "features",
        "groups",
        "deprecated",
        "ignored_base",
        "cpu_defs",
        "models",
        "max_model",
        "props",
    ];
    let top: Map<String, Value> = top;
    for (k, key) in order.iter().enumerate() {
        let val = top.get(*key).ok_or_else(|| format!("missing {key}"))?;
        let line = |x: &Value| serde_json::to_string(x).map_err(|e| e.to_string());
        out.push_str(&format!("  {}: ", line(&json!(key))?));
        match val {
            Value::Array(items) if items.iter().any(Value::is_object) => {
                out.push_str("[\n");
                for (i, it) in items.iter().enumerate() {
                    out.push_str("    ");
                    out.push_str(&line(it)?);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str("  ]");
            }
            other => out.push_str(&line(other)?),
        }
        out.push_str(if k + 1 < n { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    Ok(out)
}
