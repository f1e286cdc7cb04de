//! s390x: `query-cpu-definitions`, `query-cpu-model-expansion`,
//! `query-cpu-model-comparison` and `query-cpu-model-baseline` as QEMU
//! 10.0.2 computes them under TCG with `-machine none`, as algorithms over
//! the catalogue in `data/s390x.json`.
//!
//! A model is a CPU definition (generation, GA level, machine type and
//! its base, default and full feature sets) plus a feature bitmap.  A
//! request's model starts from its class's bitmap (`*-base` from the
//! base set, the others from their default set, `qemu`/`max` from what
//! the catalogue recorded for them); `props` are applied one by one in
//! QDict order with QEMU's validation and error texts.  Results name the
//! static `<definition>-base` model; feature lists fold whole groups into
//! the group's name exactly as QEMU does (groups first, in group order,
//! then single features in feature order; lists QEMU builds by prepending
//! come out reversed).

mod import;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;

use qapi_support::{ErrorClass, QmpError};
use qapi_types::{
    CpuDefinitionInfo, CpuModelBaselineInfo, CpuModelCompareInfo, CpuModelCompareResult,
    CpuModelExpansionInfo, CpuModelExpansionType, CpuModelInfo,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bits::Bits;
use crate::{qdict_order, CpuModels, Target};

/// The catalogue compiled into the crate.
const CATALOGUE: &str = include_str!("../data/s390x.json");

/// Starts the QEMU binary `qemu` (a `qemu-system-s390x`), collects the
/// s390x catalogue and returns the text of `data/s390x.json`.
pub fn import(qemu: &Path) -> Result<String, String> {
    let cat = import::collect(qemu)?;
    // What we hand out must load.
    S390xModels::from_catalogue(&cat)?;
    import::format(&cat)
}

// ---------------------------------------------------------------------------
// The catalogue file.

/// `data/s390x.json`.  Feature sets are written as QEMU writes them:
/// group names stand for all their members.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Catalogue {
    /// What the catalogue was imported from.
    pub qemu: String,
    /// Every feature, in QEMU's feature order (`-cpu help`).
    pub features: Vec<String>,
    /// Every feature group, in QEMU's group order, with its members.
    pub groups: Vec<GroupDef>,
    /// Features QEMU marks deprecated.
    pub deprecated: Vec<String>,
    /// Base features the baseline search does not insist on.
    pub ignored_base: Vec<String>,
    /// The CPU definitions, in QEMU's (chronological) table order.
    pub cpu_defs: Vec<CpuDef>,
    /// The model classes, in the order `query-cpu-definitions` lists them.
    pub models: Vec<ModelClass>,
    /// The model whose features bound `unavailable-features` (the
    /// accelerator's max model).
    pub max_model: String,
    /// The CPU object's properties that are not features or groups.
    pub props: Vec<PropDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupDef {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CpuDef {
    pub name: String,
    /// Generation, as an ordinal (the oldest generation is 1).
    pub gen: u8,
    /// GA level within the generation (1, 2, ...).
    pub ec_ga: u8,
    /// The machine type (definitions of one machine share it).
    pub machine: String,
    /// The base feature set.
    pub base: Vec<String>,
    /// The default feature set, as `+feature`/`-feature` against `base`.
    pub default: Vec<String>,
    /// The full feature set, as `+feature`/`-feature` against the default.
    pub full: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ModelClass {
    pub name: String,
    pub typename: String,
    #[serde(rename = "static")]
    pub is_static: bool,
    #[serde(rename = "migration-safe")]
    pub migration_safe: bool,
    pub deprecated: bool,
    /// The CPU definition behind the class.
    pub def: String,
    /// Where its features start: `base`, `default`, or `explicit`
    /// (`features` then lists them).
    pub start: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PropDef {
    pub name: String,
    /// `bool`, `int32`, `uint32`, `enum`, `link`, `realized`, `readonly`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------
// The compiled catalogue.

/// A property of the CPU object that `props` can name.
#[derive(Debug, Clone)]
enum Prop {
    Feature(usize),
    Group(usize),
    Bool,
    Int32,
    Uint32,
    Enum(Vec<String>),
    Link,
    Realized,
    ReadOnly,
}

#[derive(Debug, Clone)]
struct Def {
    name: String,
    gen: u8,
    ec_ga: u8,
    /// Machine type, 1-based; 0 stands for "no particular type".
    machine: u16,
    base: Bits,
    default: Bits,
    full: Bits,
}

#[derive(Debug, Clone)]
struct Class {
    typename: String,
    def: usize,
    start: Bits,
}

/// The s390x CPU models of QEMU 10.0.2, computed from the catalogue.
pub struct S390xModels {
    features: Vec<String>,
    groups: Vec<(String, Bits)>,
    /// Every valid feature bit.
    all: Bits,
    deprecated: Bits,
    ignored_base: Bits,
    defs: Vec<Def>,
    classes: Vec<Class>,
    by_name: HashMap<String, usize>,
    props: HashMap<String, Prop>,
    /// The accelerator's max model (a class).
    max: usize,
    definitions: Vec<CpuDefinitionInfo>,
}

impl S390xModels {
    /// The models from the catalogue compiled into the crate.
    pub fn builtin() -> Result<Self, String> {
        let cat: Catalogue =
            serde_json::from_str(CATALOGUE).map_err(|e| format!("data/s390x.json: {e}"))?;
        Self::from_catalogue(&cat)
    }

    pub(crate) fn from_catalogue(cat: &Catalogue) -> Result<Self, String> {
        if cat.features.len() > Bits::CAPACITY {
            return Err(format!("{} features do not fit", cat.features.len()));
        }
        let mut props: HashMap<String, Prop> = HashMap::new();
        let mut all = Bits::default();
        for (i, f) in cat.features.iter().enumerate() {
            all.set(i, true);
            props.insert(f.clone(), Prop::Feature(i));
        }
        let feature = |n: &str| match props.get(n) {
            Some(Prop::Feature(i)) => Ok(*i),
            _ => Err(format!("unknown feature {n}")),
        };
        let mut groups = Vec::new();
        for g in &cat.groups {
            let mut b = Bits::default();
            for m in &g.members {
                b.set(feature(m)?, true);
            }
            groups.push((g.name.clone(), b));
        }
        for (i, g) in cat.groups.iter().enumerate() {
            props.insert(g.name.clone(), Prop::Group(i));
        }
        let set_of = |names: &[String]| -> Result<Bits, String> {
            let mut b = Bits::default();
            for n in names {
                match props.get(n.as_str()) {
                    Some(Prop::Feature(i)) => b.set(*i, true),
                    Some(Prop::Group(g)) => b = b.or(&groups[*g].1),
                    _ => return Err(format!("unknown feature or group {n}")),
                }
            }
            Ok(b)
        };
        let delta = |from: Bits, changes: &[String]| -> Result<Bits, String> {
            let mut b = from;
            for c in changes {
                let (on, n) = match c.split_at_checked(1) {
                    Some(("+", n)) => (true, n),
                    Some(("-", n)) => (false, n),
                    _ => return Err(format!("bad feature change {c}")),
                };
                let s = set_of(&[n.to_string()])?;
                b = if on { b.or(&s) } else { b.and_not(&s) };
            }
            Ok(b)
        };
        let mut machines: Vec<&str> = Vec::new();
        let mut defs = Vec::new();
        for d in &cat.cpu_defs {
            let machine = match machines.iter().position(|m| *m == d.machine) {
                Some(i) => i + 1,
                None => {
                    machines.push(&d.machine);
                    machines.len()
                }
            };
            let base = set_of(&d.base)?;
            let default = delta(base, &d.default)?;
            let full = delta(default, &d.full)?;
            defs.push(Def {
                name: d.name.clone(),
                gen: d.gen,
                ec_ga: d.ec_ga,
                machine: machine as u16,
                base,
                default,
                full,
            });
        }
        let def_index = |n: &str| {
            defs.iter()
                .position(|d| d.name == n)
                .ok_or_else(|| format!("unknown CPU definition {n}"))
        };
        let mut classes = Vec::new();
        let mut by_name = HashMap::new();
        for m in &cat.models {
            let def = def_index(&m.def)?;
            let start = match (m.start.as_str(), &m.features) {
                ("base", _) => defs[def].base,
                ("default", _) => defs[def].default,
                ("explicit", Some(f)) => set_of(f)?,
                _ => return Err(format!("{}: bad start {}", m.name, m.start)),
            };
            by_name.insert(m.name.clone(), classes.len());
            classes.push(Class {
                typename: m.typename.clone(),
                def,
                start,
            });
        }
        let deprecated = set_of(&cat.deprecated)?;
        let ignored_base = set_of(&cat.ignored_base)?;
        for p in &cat.props {
            let kind = match p.kind.as_str() {
                "bool" => Prop::Bool,
                "int32" => Prop::Int32,
                "uint32" => Prop::Uint32,
                "enum" => Prop::Enum(p.values.clone().unwrap_or_default()),
                "link" => Prop::Link,
                "realized" => Prop::Realized,
                "readonly" => Prop::ReadOnly,
                k => return Err(format!("property {}: unknown kind {k}", p.name)),
            };
            props.insert(p.name.clone(), kind);
        }
        let max = *by_name
            .get(&cat.max_model)
            .ok_or_else(|| format!("unknown max model {}", cat.max_model))?;
        let mut me = S390xModels {
            features: cat.features.clone(),
            groups,
            all,
            deprecated,
            ignored_base,
            defs,
            classes,
            by_name,
            props,
            max,
            definitions: Vec::new(),
        };
        me.definitions = cat
            .models
            .iter()
            .zip(&me.classes)
            .map(|(m, c)| {
                let mut info = CpuDefinitionInfo::new(
                    m.name.clone(),
                    m.is_static,
                    m.typename.clone(),
                    m.deprecated,
                );
                info.migration_safe = Some(m.migration_safe);
                info.unavailable_features = Some(me.unavailable(&me.classes[max], c));
                info
            })
            .collect();
        Ok(me)
    }

    /// Folds `bits` into names as QEMU's `s390_feat_bitmap_to_ascii` does:
    /// whole groups first (in group order), then the remaining features.
    fn fold<'a>(&'a self, bits: &Bits, mut f: impl FnMut(&'a str)) {
        let mut left = *bits;
        for (name, members) in &self.groups {
            if members.is_subset(&left) {
                left = left.and_not(members);
                f(name);
            }
        }
        for i in left.ones() {
            f(&self.features[i]);
        }
    }

    /// The folded names of `bits`, in the reverse of QEMU's order (the
    /// order of a list QEMU builds by prepending).
    fn prepended(&self, bits: &Bits, out: &mut Vec<String>) {
        let start = out.len();
        self.fold(bits, |n| out.push(n.to_string()));
        out[start..].reverse();
    }

    /// `unavailable-features` of class `c` against the max model.
    fn unavailable(&self, max: &Class, c: &Class) -> Vec<String> {
        let (md, d) = (&self.defs[max.def], &self.defs[c.def]);
        let mut out = Vec::new();
        self.prepended(&c.start.and_not(&max.start), &mut out);
        if (md.gen, md.ec_ga) < (d.gen, d.ec_ga) {
            out.push("type".to_string());
        }
        out
    }

    /// QEMU's `cpu_model_from_info`: the class's definition and feature
    /// set with `props` applied.  `arg` names the argument in errors.
    fn model(&self, info: &CpuModelInfo, arg: &str) -> Result<(usize, Bits), QmpError> {
        let Some(&ci) = self.by_name.get(&info.name) else {
            return Err(QmpError::generic(format!(
                "The CPU definition '{}' is unknown.",
                info.name
            )));
        };
        let class = &self.classes[ci];
        let mut feats = class.start;
        if let Some(props) = &info.props {
            let Some(obj) = props.as_object() else {
                return Err(QmpError::generic(format!(
                    "Invalid parameter type for '{arg}.props', expected: object"
                )));
            };
            for (key, v) in qdict_order(obj) {
                self.set_prop(class, &mut feats, key, v, arg)?;
            }
        }
        Ok((class.def, feats))
    }

    /// `object_property_set` of one property, with QEMU's errors.
    fn set_prop(
        &self,
        class: &Class,
        feats: &mut Bits,
        key: &str,
        v: &Value,
        arg: &str,
    ) -> Result<(), QmpError> {
        let err = |s: String| Err(QmpError::generic(s));
        let full = || format!("{arg}.props.{key}");
        let Some(prop) = self.props.get(key) else {
            return err(format!("Property '{}.{key}' not found", class.typename));
        };
        let boolean = || {
            v.as_bool().ok_or_else(|| {
                QmpError::generic(format!(
                    "Invalid parameter type for '{}', expected: boolean",
                    full()
                ))
            })
        };
        let def = &self.defs[class.def];
        match prop {
            Prop::Feature(i) => {
                let on = boolean()?;
                if on && !def.full.get(*i) {
                    return err(format!(
                        "Feature '{key}' is not available for CPU model '{}', it was introduced with later models.",
                        def.name
                    ));
                }
                feats.set(*i, on);
            }
            Prop::Group(g) => {
                let on = boolean()?;
                let members = &self.groups[*g].1;
                if on {
                    if !members.is_subset(&def.full) {
                        return err(format!(
                            "Group '{key}' is not available for CPU model '{}', it was introduced with later models.",
                            def.name
                        ));
                    }
                    *feats = feats.or(members);
                } else {
                    *feats = feats.and_not(members);
                }
            }
            Prop::Bool => {
                boolean()?;
            }
            Prop::Realized => {
                if boolean()? {
                    return self.realize(class.def, feats);
                }
            }
            Prop::Int32 => {
                let Some(n) = v.as_i64() else {
                    return err(format!(
                        "Invalid parameter type for '{}', expected: integer",
                        full()
                    ));
                };
                if i32::try_from(n).is_err() {
                    return err(format!("Parameter '{key}' expects int32_t"));
                }
            }
            Prop::Uint32 => {
                // QEMU's unsigned visitor takes negative numbers modulo 2^64.
                let Some(n) = v.as_u64().or_else(|| v.as_i64().map(|n| n as u64)) else {
                    return err(format!("Parameter '{}' expects uint64", full()));
                };
                if u32::try_from(n).is_err() {
                    return err(format!("Parameter '{key}' expects uint32_t"));
                }
            }
            Prop::Enum(values) => {
                let Some(s) = v.as_str() else {
                    return err(format!(
                        "Invalid parameter type for '{}', expected: string",
                        full()
                    ));
                };
                if !values.iter().any(|x| x == s) {
                    return err(format!("Parameter '{key}' does not accept value '{s}'"));
                }
            }
            Prop::Link => {
                let Some(s) = v.as_str() else {
                    return err(format!(
                        "Invalid parameter type for '{}', expected: string",
                        full()
                    ));
                };
                if !s.is_empty() {
                    // QEMU resolves the path as a link and fails with
                    // its own error class.
                    return Err(QmpError {
                        class: ErrorClass::DeviceNotFound,
                        desc: format!("Device '{s}' not found"),
                    });
                }
            }
            Prop::ReadOnly => {
                return err(format!(
                    "Property '{}.{key}' is not writable",
                    class.typename
                ));
            }
        }
        Ok(())
    }

    /// Setting `realized` realizes the CPU, which first checks the model
    /// against the accelerator's max model.  (A CPU that passes would be
    /// realized for real on a machine without CPU slots; QEMU 10.0.2 does
    /// not answer then, so neither text can be matched.)
    fn realize(&self, def: usize, feats: &Bits) -> Result<(), QmpError> {
        let max = &self.classes[self.max];
        let (md, d) = (&self.defs[max.def], &self.defs[def]);
        let too_new = |what: &str| {
            Err(QmpError::generic(format!(
                "Selected CPU {what} is too new. Maximum supported model in the current configuration: '{}'",
                md.name
            )))
        };
        if d.gen > md.gen {
            return too_new("generation");
        }
        if d.gen == md.gen && d.ec_ga > md.ec_ga {
            return too_new("GA level");
        }
        let missing = feats.and_not(&max.start);
        if missing.is_empty() {
            return Err(QmpError::generic("The CPU cannot be realized here"));
        }
        let mut names = Vec::new();
        self.prepended(&missing, &mut names);
        let mut text = String::new();
        for n in names {
            text.push_str(&n);
            text.push(' ');
        }
        Err(QmpError::generic(format!(
            "Some features requested in the CPU model are not available in the current configuration: {text} "
        )))
    }

    /// QEMU's `cpu_info_from_model`: `<definition>-base` plus either the
    /// changes against the base set (`delta`) or every feature.
    fn info(&self, def: usize, feats: &Bits, delta: bool) -> CpuModelInfo {
        let d = &self.defs[def];
        let mut props = Map::new();
        if delta {
            self.fold(&d.base.and_not(feats), |n| {
                props.insert(n.to_string(), Value::Bool(false));
            });
            self.fold(&feats.and_not(&d.base), |n| {
                props.insert(n.to_string(), Value::Bool(true));
            });
        } else {
            self.fold(feats, |n| {
                props.insert(n.to_string(), Value::Bool(true));
            });
            self.fold(&self.all.and_not(feats), |n| {
                props.insert(n.to_string(), Value::Bool(false));
            });
        }
        let mut info = CpuModelInfo::new(format!("{}-base", d.name));
        if !props.is_empty() {
            info.props = Some(Value::Object(props));
        }
        info
    }

    /// QEMU's `s390_find_cpu_def`: the newest definition not newer than
    /// (`gen`, `ec_ga`) whose base features `features` has, preferring
    /// machine type `machine`.
    fn find_def(&self, machine: u16, gen: u8, ec_ga: u8, features: &Bits) -> Option<usize> {
        find_def(
            &self.defs_view(),
            &self.ignored_base,
            machine,
            gen,
            ec_ga,
            features,
        )
    }

    fn defs_view(&self) -> Vec<DefKey<'_>> {
        self.defs
            .iter()
            .map(|d| DefKey {
                gen: d.gen,
                ec_ga: d.ec_ga,
                machine: d.machine,
                base: &d.base,
            })
            .collect()
    }
}

/// What the definition search looks at.
struct DefKey<'a> {
    gen: u8,
    ec_ga: u8,
    machine: u16,
    base: &'a Bits,
}

fn find_def(
    defs: &[DefKey<'_>],
    ignored: &Bits,
    machine: u16,
    gen: u8,
    ec_ga: u8,
    features: &Bits,
) -> Option<usize> {
    let mut last = None;
    let mut same_machine = None;
    for (i, d) in defs.iter().enumerate() {
        if d.gen > gen || (d.gen == gen && ec_ga != 0 && d.ec_ga > ec_ga) {
            break;
        }
        if !d.base.and_not(features).and_not(ignored).is_empty() {
            break;
        }
        if d.machine == machine && d.ec_ga == ec_ga {
            return Some(i);
        }
        if d.machine == machine {
            same_machine = Some(i);
        }
        last = Some(i);
    }
    same_machine.or(last)
}

impl CpuModels for S390xModels {
    fn target(&self) -> Target {
        Target::S390x
    }

    fn definitions(&self) -> Result<Vec<CpuDefinitionInfo>, QmpError> {
        Ok(self.definitions.clone())
    }

    fn expand(
        &self,
        ty: CpuModelExpansionType,
        model: &CpuModelInfo,
    ) -> Result<CpuModelExpansionInfo, QmpError> {
        let (def, feats) = self.model(model, "model")?;
        let delta = ty == CpuModelExpansionType::Static;
        let info = self.info(def, &feats, delta);
        let deprecated = if delta {
            self.deprecated.and(&feats)
        } else {
            self.deprecated
        };
        let mut list = Vec::new();
        self.prepended(&deprecated, &mut list);
        // Always `<definition>-base` plus explicit features: static and
        // migration-safe whatever the expansion type (§4.3).
        let mut r = CpuModelExpansionInfo::new(info, true, true);
        r.deprecated_props = Some(list);
        Ok(r)
    }

    fn compare(&self, a: &CpuModelInfo, b: &CpuModelInfo) -> Result<CpuModelCompareInfo, QmpError> {
        use CpuModelCompareResult::*;
        let (da, fa) = self.model(a, "modela")?;
        let (db, fb) = self.model(b, "modelb")?;
        let (ka, kb) = (
            (self.defs[da].gen, self.defs[da].ec_ga),
            (self.defs[db].gen, self.defs[db].ec_ga),
        );
        let gen_result = match ka.cmp(&kb) {
            std::cmp::Ordering::Equal => Identical,
            std::cmp::Ordering::Less => Subset,
            std::cmp::Ordering::Greater => Superset,
        };
        // Built by prepending: collect in QEMU's order, reverse at the end.
        let mut names: Vec<String> = Vec::new();
        if gen_result != Identical {
            names.push("type".to_string());
        }
        let feat_result = if fa == fb {
            Identical
        } else {
            let missing = fa.and_not(&fb);
            let added = fb.and_not(&fa);
            self.fold(&missing, |n| names.push(n.to_string()));
            self.fold(&added, |n| names.push(n.to_string()));
            if missing.is_empty() {
                Subset
            } else if added.is_empty() {
                Superset
            } else {
                Incompatible
            }
        };
        names.reverse();
        let result = if gen_result == feat_result || feat_result == Identical {
            gen_result
        } else if gen_result == Identical {
            feat_result
        } else {
            Incompatible
        };
        Ok(CpuModelCompareInfo {
            result,
            responsible_properties: names,
        })
    }

    fn baseline(
        &self,
        a: &CpuModelInfo,
        b: &CpuModelInfo,
    ) -> Result<CpuModelBaselineInfo, QmpError> {
        let (da, fa) = self.model(a, "modela")?;
        let (db, fb) = self.model(b, "modelb")?;
        let feats = fa.and(&fb);
        let (a, b) = (&self.defs[da], &self.defs[db]);
        let (machine, gen, ec_ga) = if a.gen == b.gen {
            let m = if a.machine == b.machine { a.machine } else { 0 };
            (m, a.gen, a.ec_ga.min(b.ec_ga))
        } else if a.gen > b.gen {
            (b.machine, b.gen, b.ec_ga)
        } else {
            (a.machine, a.gen, a.ec_ga)
        };
        let Some(def) = self.find_def(machine, gen, ec_ga, &feats) else {
            return Err(QmpError::generic(
                "No compatible CPU model could be created as important base features are disabled",
            ));
        };
        let feats = feats.and(&self.defs[def].full);
        Ok(CpuModelBaselineInfo {
            model: self.info(def, &feats, true),
        })
    }
}
