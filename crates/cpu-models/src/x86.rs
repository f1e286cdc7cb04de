//! x86_64: `query-cpu-definitions` and `query-cpu-model-expansion` as
//! QEMU 10.0.2 computes them under TCG with `-machine none`, as an
//! algorithm over the catalogue in `data/x86_64.json`.
//!
//! An expansion creates the model's state from the catalogue (its
//! features and property values as its class sets them), applies the
//! request's `props` one by one in QDict order with QEMU's validation
//! and error texts, then runs the feature expansion: the accelerator's
//! features for `max`/`host`, the dependency pass, the accelerator's
//! clearing of paravirt features, and the automatic CPUID levels.
//! `static` reports the fixed static property set under `base`; `full`
//! reports every writable property under the requested name.

mod import;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use qapi_support::{ErrorClass, QmpError};
use qapi_types::{CpuDefinitionInfo, CpuModelExpansionInfo, CpuModelExpansionType, CpuModelInfo};
use serde_json::{Map, Value};

use crate::bits::Bits;
use crate::{qdict_order, CpuModels, OrderedExpansion, OrderedProps, PropKey, Target};

/// The catalogue compiled into the crate.
const CATALOGUE: &str = include_str!("../data/x86_64.json");

/// Starts the QEMU binary `qemu`, collects the x86 catalogue and returns
/// the text of `data/x86_64.json`.
pub fn import(qemu: &Path) -> Result<String, String> {
    let v = import::collect(qemu)?;
    // Check that what we collected loads before handing it out.
    X86Models::from_value(&v)?;
    Ok(import::format(&v))
}

/// How a property's setter treats a value.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A feature bit (also under an alias spelling).
    Feature(usize),
    /// A plain boolean.
    Bool,
    /// An unsigned qdev integer of at most `max` (`uint32_t` etc.).
    Unsigned { max: u64, ctype: &'static str },
    /// A `uint64` whose set bits must stay within `mask`.
    Masked { mask: u64 },
    /// A signed qdev integer (`int32`).
    Signed {
        min: i64,
        max: i64,
        ctype: &'static str,
    },
    /// An unsigned custom setter with an upper bound (`family`, ...).
    Bounded { max: u64 },
    /// A signed custom setter that rejects negatives with an upper
    /// bound message, storing multiples of `quantum` (`tsc-frequency`).
    NonNegative { max: i64, quantum: i64 },
    /// A string of exactly `len` bytes (`vendor`).
    Exact { len: usize },
    /// A string truncated to `max` bytes at most (`model-id`).
    Text { max: Option<usize> },
    /// An enumeration.
    Enum(&'static [&'static str]),
    /// A link to the system memory region.
    Link,
    /// `realized`.
    Realized,
}

#[derive(Clone, Debug)]
struct Prop {
    name: String,
    kind: Kind,
    /// Where a non-feature value lives in the state.
    slot: usize,
    /// The name the setter sees: an alias forwards to its target, whose
    /// name then appears in the setter's own messages.
    setter_name: String,
}

/// Level-like values: level, xlevel, xlevel2, level-func7.
const NLEVELS: usize = 4;

#[derive(Clone, Debug)]
struct Model {
    typename: String,
    migration_safe: bool,
    is_static: bool,
    features: Bits,
    accel: Option<Bits>,
    values: Vec<Value>,
    mins: [u64; NLEVELS],
    fixed: [Option<u64>; NLEVELS],
    /// Property ids reported by a full expansion.
    full_keys: Vec<usize>,
    /// The same, in the order QEMU writes them.
    full_order: Vec<usize>,
    /// Which property ids this model has at all (writable ones).
    has: Vec<bool>,
    read_only: Vec<String>,
}

/// The x86 CPU models.
pub struct X86Models {
    definitions: Vec<CpuDefinitionInfo>,
    props: Vec<Prop>,
    by_name: HashMap<String, usize>,
    nfeatures: usize,
    /// (feature, what goes when it is off).
    dependents: Vec<(usize, Bits)>,
    accel_cleared: Bits,
    raise_auto: Vec<[u64; NLEVELS]>,
    raise_always: Vec<[u64; NLEVELS]>,
    /// Property ids of the static set, in catalogue order.
    static_keys: Vec<usize>,
    /// The same, in the order QEMU writes them.
    static_order: Vec<usize>,
    models: HashMap<String, Model>,
    slots: Slots,
    nslots: usize,
}

/// The slots of the properties the algorithm itself reads or writes.
#[derive(Default, Clone, Copy, Debug)]
struct Slots {
    min_level: usize,
    min_xlevel: usize,
    min_xlevel2: usize,
    level: usize,
    xlevel: usize,
    xlevel2: usize,
    level_func7: usize,
    full_auto: usize,
    pt_auto: usize,
    apic_id: usize,
    pmu: Option<usize>,
    host_cache_info: Option<usize>,
    migratable: Option<usize>,
}

const ON_OFF_AUTO: &[&str] = &["on", "off", "auto"];
const SYSTEM_MEMORY: &str = "/machine/unattached/system[0]";

fn err(s: impl Into<String>) -> String {
    s.into()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn levels(v: &Value) -> [u64; NLEVELS] {
    let mut out = [0; NLEVELS];
    if let Some(a) = v.as_array() {
        for (o, x) in out.iter_mut().zip(a) {
            *o = x.as_u64().unwrap_or(0);
        }
    }
    out
}

/// The number after `can be at most ` in a setter's error text.
fn at_most(e: &str) -> Option<u64> {
    e.rsplit("can be at most ").next()?.trim().parse().ok()
}

impl X86Models {
    /// Loads the catalogue compiled into the crate.
    pub fn builtin() -> Result<Self, String> {
        let v: Value =
            serde_json::from_str(CATALOGUE).map_err(|e| format!("data/x86_64.json: {e}"))?;
        Self::from_value(&v)
    }

    /// Builds the engine from a parsed catalogue.
    fn from_value(v: &Value) -> Result<Self, String> {
        let types = v["property-types"]
            .as_object()
            .ok_or("catalogue: no property-types")?;
        let static_names = strs(&v["static-keys"]);
        let feature_names: Vec<String> = static_names
            .iter()
            .filter(|k| !import::STATIC_SCALARS.contains(&k.as_str()))
            .cloned()
            .collect();
        if feature_names.len() > Bits::CAPACITY {
            return Err(err("catalogue: too many features"));
        }
        let fidx: HashMap<&str, usize> = feature_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let aliases = v["aliases"].as_object().cloned().unwrap_or_default();
        let probes = v["setter-probes"].as_object().cloned().unwrap_or_default();

        // Properties: every writable name any model reports in a full expansion.
        let models_v = v["models"].as_object().ok_or("catalogue: no models")?;
        let mut all_names: Vec<String> = Vec::new();
        for m in models_v.values() {
            for k in m["values"].as_object().into_iter().flat_map(|o| o.keys()) {
                all_names.push(k.clone());
            }
        }
        all_names.extend(feature_names.iter().cloned());
        all_names.extend(aliases.keys().cloned());
        all_names.sort();
        all_names.dedup();

        let mut props = Vec::new();
        let mut by_name = HashMap::new();
        let mut nslots = 0;
        // Aliases of non-features share their target's slot.
        let mut pending_alias: Vec<(usize, String)> = Vec::new();
        for name in &all_names {
            let ty = types.get(name).and_then(Value::as_str).unwrap_or("");
            let id = props.len();
            let mut slot = usize::MAX;
            let kind =
                if let Some(&f) = fidx.get(name.as_str()) {
                    Kind::Feature(f)
                } else if let Some(t) = aliases.get(name).and_then(Value::as_str) {
                    if let Some(&f) = fidx.get(t) {
                        Kind::Feature(f)
                    } else {
                        pending_alias.push((id, t.to_string()));
                        Kind::Bool
                    }
                } else {
                    slot = nslots;
                    nslots += 1;
                    let probe = |i: usize| {
                        probes
                            .get(name)
                            .and_then(|p| p.get(i))
                            .cloned()
                            .unwrap_or(Value::Null)
                    };
                    match ty {
                        "bool" if name == "realized" => Kind::Realized,
                        "bool" => Kind::Bool,
                        "uint8" => Kind::Unsigned {
                            max: u8::MAX.into(),
                            ctype: "uint8_t",
                        },
                        "uint16" => Kind::Unsigned {
                            max: u16::MAX.into(),
                            ctype: "uint16_t",
                        },
                        "uint32" => Kind::Unsigned {
                            max: u32::MAX.into(),
                            ctype: "uint32_t",
                        },
                        "uint64" => {
                            let e = probe(0)["error"].as_str().unwrap_or("").to_string();
                            match e.rsplit("mask '0x").next().and_then(|m| {
                                u64::from_str_radix(m.trim_end_matches('\''), 16).ok()
                            }) {
                                Some(mask) if !e.is_empty() => Kind::Masked { mask },
                                _ => Kind::Unsigned {
                                    max: u64::MAX,
                                    ctype: "uint64_t",
                                },
                            }
                        }
                        "int32" => Kind::Signed {
                            min: i32::MIN.into(),
                            max: i32::MAX.into(),
                            ctype: "int32_t",
                        },
                        "int" => {
                            let big = probe(0)["error"].as_str().unwrap_or("").to_string();
                            let neg = probe(1)["error"].as_str().unwrap_or("").to_string();
                            if let Some(max) = at_most(&big) {
                                Kind::Bounded { max }
                            } else {
                                let max = at_most(&neg)
                                    .map_or(i64::MAX, |m| i64::try_from(m).unwrap_or(i64::MAX));
                                let got = probe(2)["value"].as_i64().unwrap_or(1500);
                                let quantum = if got > 0 && got != 1500 { got } else { 1 };
                                Kind::NonNegative { max, quantum }
                            }
                        }
                        "string" | "str" => {
                            let short = probe(0);
                            let long = probe(1);
                            if let Some(e) = short["error"].as_str() {
                                let len = e
                                    .split("exactly ")
                                    .nth(1)
                                    .and_then(|r| r.split(' ').next())
                                    .and_then(|n| n.parse().ok())
                                    .unwrap_or(12);
                                Kind::Exact { len }
                            } else {
                                let n = long["value"].as_str().map(str::len);
                                Kind::Text {
                                    max: n.filter(|n| *n < 100),
                                }
                            }
                        }
                        "OnOffAuto" => Kind::Enum(ON_OFF_AUTO),
                        t if t.starts_with("link<") => Kind::Link,
                        _ => Kind::Bool,
                    }
                };
            by_name.insert(name.clone(), id);
            props.push(Prop {
                name: name.clone(),
                kind,
                slot,
                setter_name: name.clone(),
            });
        }
        for (id, target) in pending_alias {
            let t = *by_name
                .get(&target)
                .ok_or_else(|| format!("catalogue: alias of unknown {target}"))?;
            props[id].kind = props[t].kind.clone();
            props[id].slot = props[t].slot;
            props[id].setter_name = props[t].name.clone();
        }

        let bits_of = |names: &[String]| -> Bits {
            let mut b = Bits::default();
            for n in names {
                if let Some(&i) = fidx.get(n.as_str()) {
                    b.set(i, true);
                }
            }
            b
        };
        let mut dependents = Vec::new();
        if let Some(d) = v["dependents"].as_object() {
            for (g, lost) in d {
                if let Some(&i) = fidx.get(g.as_str()) {
                    dependents.push((i, bits_of(&strs(lost))));
                }
            }
        }
        dependents.sort_by_key(|d| d.0);
        let accel_cleared = bits_of(&strs(&v["accel-cleared"]));
        let mut raise_auto = vec![[0; NLEVELS]; feature_names.len()];
        let mut raise_always = vec![[0; NLEVELS]; feature_names.len()];
        if let Some(r) = v["level-raise"].as_object() {
            for (f, x) in r {
                if let Some(&i) = fidx.get(f.as_str()) {
                    raise_auto[i] = levels(&x["auto"]);
                    raise_always[i] = levels(&x["always"]);
                }
            }
        }
        let static_keys = static_names
            .iter()
            .map(|n| {
                by_name
                    .get(n)
                    .copied()
                    .ok_or_else(|| format!("catalogue: static key {n} unknown"))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let slot_of = |n: &str| {
            by_name
                .get(n)
                .map(|&i| props[i].slot)
                .filter(|s| *s != usize::MAX)
        };
        let need = |n: &str| slot_of(n).ok_or_else(|| format!("catalogue: no property {n}"));
        let slots = Slots {
            min_level: need("min-level")?,
            min_xlevel: need("min-xlevel")?,
            min_xlevel2: need("min-xlevel2")?,
            level: need("level")?,
            xlevel: need("xlevel")?,
            xlevel2: need("xlevel2")?,
            level_func7: need("level-func7")?,
            full_auto: need("full-cpuid-auto-level")?,
            pt_auto: need("x-intel-pt-auto-level")?,
            apic_id: need("apic-id")?,
            pmu: slot_of("pmu"),
            host_cache_info: slot_of("host-cache-info"),
            migratable: slot_of("migratable"),
        };

        // Definitions, in QEMU's order.
        let mut definitions = Vec::new();
        let mut safe: HashMap<String, bool> = HashMap::new();
        let mut statics: HashMap<String, bool> = HashMap::new();
        for d in v["definitions"]
            .as_array()
            .ok_or("catalogue: no definitions")?
        {
            let name = d["name"].as_str().unwrap_or("").to_string();
            let mut info = CpuDefinitionInfo::new(
                name.clone(),
                d["static"].as_bool().unwrap_or(false),
                d["typename"].as_str().unwrap_or("").to_string(),
                d["deprecated"].as_bool().unwrap_or(false),
            );
            info.migration_safe = d["migration-safe"].as_bool();
            info.alias_of = d["alias-of"].as_str().map(str::to_string);
            info.unavailable_features = d.get("unavailable-features").map(strs);
            safe.insert(name.clone(), info.migration_safe.unwrap_or(false));
            statics.insert(name, info.q_static);
            definitions.push(info);
        }

        let mut models = HashMap::new();
        for (name, m) in models_v {
            let typename = format!("{name}-x86_64-cpu");
            let mut values = vec![Value::Null; nslots];
            let mut has = vec![false; props.len()];
            let mut full_keys = Vec::new();
            for (k, val) in m["values"].as_object().into_iter().flatten() {
                let id = by_name[k];
                values[props[id].slot] = val.clone();
            }
            for (id, p) in props.iter().enumerate() {
                let present = match p.kind {
                    Kind::Feature(_) => true,
                    _ => !values[p.slot].is_null(),
                };
                if present {
                    has[id] = true;
                    full_keys.push(id);
                }
            }
            let fixed_v = &m["fixed-levels"];
            let fixed = [
                fixed_v["level"].as_u64(),
                fixed_v["xlevel"].as_u64(),
                fixed_v["xlevel2"].as_u64(),
                None,
            ];
            models.insert(
                name.clone(),
                Model {
                    typename,
                    migration_safe: safe.get(name).copied().unwrap_or(false),
                    is_static: statics.get(name).copied().unwrap_or(false),
                    features: bits_of(&strs(&m["features"])),
                    accel: m.get("accel-features").map(|a| bits_of(&strs(a))),
                    values,
                    mins: levels(&m["min-levels"]),
                    fixed,
                    full_order: written_order(&props, &full_keys),
                    full_keys,
                    has,
                    read_only: strs(&m["read-only"]),
                },
            );
        }

        let static_order = written_order(&props, &static_keys);
        Ok(X86Models {
            static_order,
            definitions,
            props,
            by_name,
            nfeatures: feature_names.len(),
            dependents,
            accel_cleared,
            raise_auto,
            raise_always,
            static_keys,
            models,
            slots,
            nslots,
        })
    }

    /// The model state after `props` and the feature expansion.
    fn build(&self, model: &CpuModelInfo) -> Result<(&Model, State), QmpError> {
        let m = self
            .models
            .get(&model.name)
            .ok_or_else(|| QmpError::generic(format!("CPU model '{}' not found", model.name)))?;
        let mut st = State {
            features: m.features,
            user: Bits::default(),
            values: m.values.clone(),
            user_levels: [false; NLEVELS],
        };
        debug_assert_eq!(st.values.len(), self.nslots);
        let sl = &self.slots;
        st.values[sl.min_level] = Value::from(m.mins[0]);
        st.values[sl.min_xlevel] = Value::from(m.mins[1]);
        st.values[sl.min_xlevel2] = Value::from(m.mins[2]);
        match &model.props {
            None => {}
            Some(Value::Object(p)) => {
                for (k, v) in qdict_order(p) {
                    self.apply(m, &mut st, k, v)?;
                }
            }
            Some(_) => {
                return Err(QmpError::generic(
                    "Invalid parameter type for 'model.props', expected: object",
                ))
            }
        }
        self.expand_features(m, &mut st);
        Ok((m, st))
    }

    /// Sets one property, with QEMU's error: a link given a path that
    /// resolves to nothing is `DeviceNotFound`, everything else
    /// `GenericError`.
    fn apply(&self, m: &Model, st: &mut State, key: &str, v: &Value) -> Result<(), QmpError> {
        let full = |what: &str| {
            QmpError::generic(format!(
                "Invalid parameter type for 'model.props.{key}', expected: {what}"
            ))
        };
        let Some(&id) = self.by_name.get(key).filter(|&&id| m.has[id]) else {
            if m.read_only.iter().any(|r| r == key) {
                return Err(QmpError::generic(format!(
                    "Property '{}.{key}' is not writable",
                    m.typename
                )));
            }
            return Err(QmpError::generic(format!(
                "Property '{}.{key}' not found",
                m.typename
            )));
        };
        let p = &self.props[id];
        let sname = p.setter_name.as_str();
        let as_u64 = || -> Result<u64, QmpError> {
            match v {
                Value::Number(n) => n
                    .as_u64()
                    .or_else(|| n.as_i64().map(|i| i as u64))
                    .ok_or_else(|| {
                        QmpError::generic(format!("Parameter 'model.props.{key}' expects uint64"))
                    }),
                _ => Err(QmpError::generic(format!(
                    "Parameter 'model.props.{key}' expects uint64"
                ))),
            }
        };
        let as_i64 = || -> Result<i64, QmpError> { v.as_i64().ok_or_else(|| full("integer")) };
        let as_str = || -> Result<&str, QmpError> { v.as_str().ok_or_else(|| full("string")) };
        let as_bool = || -> Result<bool, QmpError> { v.as_bool().ok_or_else(|| full("boolean")) };
        let val = match &p.kind {
            Kind::Feature(f) => {
                let b = as_bool()?;
                st.features.set(*f, b);
                st.user.set(*f, true);
                return Ok(());
            }
            Kind::Bool => Value::Bool(as_bool()?),
            Kind::Realized => {
                let b = as_bool()?;
                if b && st.values[self.slots.apic_id].as_u64() == Some(u32::MAX.into()) {
                    return Err(QmpError::generic(
                        "apic-id property was not initialized properly",
                    ));
                }
                Value::Bool(b)
            }
            Kind::Unsigned { max, ctype } => {
                let n = as_u64()?;
                if n > *max {
                    return Err(QmpError::generic(format!(
                        "Parameter '{sname}' expects {ctype}"
                    )));
                }
                Value::from(n)
            }
            Kind::Masked { mask } => {
                let n = as_u64()?;
                if n & !mask != 0 {
                    return Err(QmpError::generic(format!(
                        "Property value for '{sname}' has bits outside mask '0x{mask:x}'"
                    )));
                }
                Value::from(n)
            }
            Kind::Signed { min, max, ctype } => {
                let n = as_i64()?;
                if n < *min || n > *max {
                    return Err(QmpError::generic(format!(
                        "Parameter '{sname}' expects {ctype}"
                    )));
                }
                Value::from(n)
            }
            Kind::Bounded { max } => {
                let n = as_u64()?;
                if n > *max {
                    return Err(QmpError::generic(format!(
                        "parameter '{sname}' can be at most {max}"
                    )));
                }
                Value::from(n)
            }
            Kind::NonNegative { max, quantum } => {
                let n = as_i64()?;
                if n < 0 {
                    return Err(QmpError::generic(format!(
                        "parameter '{sname}' can be at most {max}"
                    )));
                }
                Value::from(n / quantum * quantum)
            }
            Kind::Exact { len } => {
                let s = as_str()?;
                if s.len() != *len {
                    return Err(QmpError::generic(format!(
                        "value of property '{sname}' must consist of exactly {len} characters"
                    )));
                }
                Value::String(s.to_string())
            }
            Kind::Text { max } => {
                let s = as_str()?;
                let s = s.split('\0').next().unwrap_or("");
                match max {
                    Some(n) if s.len() > *n => {
                        Value::String(String::from_utf8_lossy(&s.as_bytes()[..*n]).into_owned())
                    }
                    _ => Value::String(s.to_string()),
                }
            }
            Kind::Enum(values) => {
                let s = as_str()?;
                if !values.contains(&s) {
                    return Err(QmpError::generic(format!(
                        "Parameter '{sname}' does not accept value '{s}'"
                    )));
                }
                Value::String(s.to_string())
            }
            Kind::Link => {
                let s = as_str()?;
                if !(s.is_empty() || s == SYSTEM_MEMORY || s == "system[0]") {
                    // QEMU resolves the path as a link and fails with
                    // its own error class.
                    return Err(QmpError {
                        class: ErrorClass::DeviceNotFound,
                        desc: format!("Device '{s}' not found"),
                    });
                }
                Value::String(if s.is_empty() {
                    String::new()
                } else {
                    SYSTEM_MEMORY.to_string()
                })
            }
        };
        let sl = &self.slots;
        if let Some(i) = [sl.level, sl.xlevel, sl.xlevel2, sl.level_func7]
            .iter()
            .position(|s| *s == p.slot)
        {
            st.user_levels[i] = true;
        }
        st.values[p.slot] = val;
        Ok(())
    }

    fn expand_features(&self, m: &Model, st: &mut State) {
        let sl = &self.slots;
        if let Some(accel) = &m.accel {
            st.features = st.features.or(&accel.and_not(&st.user));
        }
        // Dependencies: a feature that is off takes its dependents along.
        let mut gone = Bits::default();
        for (g, lost) in &self.dependents {
            if !st.features.get(*g) {
                gone = gone.or(lost);
            }
        }
        st.features = st.features.and_not(&gone).and_not(&self.accel_cleared);

        let flag = |s: usize| st.values[s].as_bool().unwrap_or(true);
        let auto = flag(sl.full_auto);
        let pt_auto = flag(sl.pt_auto);
        let num = |vals: &[Value], s: usize| vals[s].as_u64().unwrap_or(0);
        let mut mins = [
            num(&st.values, sl.min_level),
            num(&st.values, sl.min_xlevel),
            num(&st.values, sl.min_xlevel2),
            m.mins[3],
        ];
        let pt = self
            .by_name
            .get("intel-pt")
            .and_then(|&id| match self.props[id].kind {
                Kind::Feature(f) => Some(f),
                _ => None,
            });
        let mut pt_check = false;
        for f in st.features.ones() {
            if f >= self.nfeatures {
                break;
            }
            let r = if !auto || (Some(f) == pt && !pt_auto) {
                pt_check |= Some(f) == pt && auto;
                &self.raise_always[f]
            } else {
                &self.raise_auto[f]
            };
            for (a, b) in mins.iter_mut().zip(r) {
                *a = (*a).max(*b);
            }
        }
        if let (true, Some(f)) = (pt_check, pt) {
            // Processor trace needs leaf 0x14; without the automatic
            // level it is dropped when the level is too low.
            if mins[0] < 0x14 {
                st.features.set(f, false);
            }
        }
        st.values[sl.min_level] = Value::from(mins[0]);
        st.values[sl.min_xlevel] = Value::from(mins[1]);
        st.values[sl.min_xlevel2] = Value::from(mins[2]);
        for (i, s) in [sl.level, sl.xlevel, sl.xlevel2, sl.level_func7]
            .into_iter()
            .enumerate()
        {
            let fixed = if st.user_levels[i] {
                Some(num(&st.values, s))
            } else {
                m.fixed[i]
            };
            let v = match fixed {
                Some(x) if x != u64::from(u32::MAX) => x,
                _ => mins[i],
            };
            st.values[s] = Value::from(v);
        }
    }

    fn value(&self, st: &State, id: usize) -> Value {
        let p = &self.props[id];
        match p.kind {
            Kind::Feature(f) => Value::Bool(st.features.get(f)),
            _ => st.values[p.slot].clone(),
        }
    }

    fn migration_safe(&self, m: &Model, st: &State) -> bool {
        let is = |s: Option<usize>, v: bool| s.is_some_and(|s| st.values[s] == Value::Bool(v));
        m.migration_safe
            && !is(self.slots.pmu, true)
            && !is(self.slots.host_cache_info, true)
            && !is(self.slots.migratable, false)
    }
}

/// The mutable state of one CPU object.
struct State {
    features: Bits,
    /// Features the request set explicitly.
    user: Bits,
    values: Vec<Value>,
    /// Which of level, xlevel, xlevel2, level-func7 the request set.
    user_levels: [bool; NLEVELS],
}

impl CpuModels for X86Models {
    fn target(&self) -> Target {
        Target::X86_64
    }

    fn definitions(&self) -> Result<Vec<CpuDefinitionInfo>, QmpError> {
        Ok(self.definitions.clone())
    }

    fn expand(
        &self,
        ty: CpuModelExpansionType,
        model: &CpuModelInfo,
    ) -> Result<CpuModelExpansionInfo, QmpError> {
        let e = self.expansion(ty, model)?;
        // Keys in name order: the order QEMU's QDict was given them.
        let props: Map<String, Value> = e
            .keys
            .iter()
            .map(|&id| (self.props[id].name.clone(), self.value(&e.state, id)))
            .collect();
        let mut info = CpuModelInfo::new(e.name);
        info.props = Some(Value::Object(props));
        Ok(CpuModelExpansionInfo::new(info, e.is_static, e.safe))
    }

    fn prop_names(&self) -> Vec<&str> {
        self.props.iter().map(|p| p.name.as_str()).collect()
    }

    fn expand_ordered(
        &self,
        ty: CpuModelExpansionType,
        model: &CpuModelInfo,
    ) -> Result<OrderedExpansion<'_>, QmpError> {
        let Expansion {
            name,
            order,
            state,
            is_static,
            safe,
            ..
        } = self.expansion(ty, model)?;
        let props: OrderedProps<'_> = Box::new(order.iter().map(move |&id| {
            let key = PropKey {
                name: Cow::Borrowed(self.props[id].name.as_str()),
                id: Some(id),
            };
            (key, self.value(&state, id))
        }));
        Ok(OrderedExpansion {
            name,
            props: Some(props),
            deprecated_props: None,
            is_static,
            migration_safe: safe,
        })
    }
}

/// What an expansion reports, before it is put in a reply.
struct Expansion<'a> {
    name: String,
    /// The property ids reported, in name order, and in writing order.
    keys: &'a [usize],
    order: &'a [usize],
    state: State,
    is_static: bool,
    safe: bool,
}

impl X86Models {
    /// Static: `base` plus the static set, static and migration-safe by
    /// construction.  Full: the model itself, static only if its class is
    /// (`base`), migration-safe if its class is and the props enabled
    /// nothing that cannot migrate.
    fn expansion(
        &self,
        ty: CpuModelExpansionType,
        model: &CpuModelInfo,
    ) -> Result<Expansion<'_>, QmpError> {
        let (m, state) = self.build(model)?;
        Ok(match ty {
            CpuModelExpansionType::Static => Expansion {
                name: "base".to_string(),
                keys: &self.static_keys,
                order: &self.static_order,
                state,
                is_static: true,
                safe: true,
            },
            CpuModelExpansionType::Full => Expansion {
                name: model.name.clone(),
                keys: &m.full_keys,
                order: &m.full_order,
                safe: self.migration_safe(m, &state),
                state,
                is_static: m.is_static,
            },
        })
    }
}

/// `keys` (property ids, inserted in this order) in the order a `QDict`
/// holding them iterates.
fn written_order(props: &[Prop], keys: &[usize]) -> Vec<usize> {
    qapi_support::qdict::order(keys.iter().map(|&id| props[id].name.as_str()))
        .map(|i| keys[i])
        .collect()
}

#[cfg(test)]
mod tests;
