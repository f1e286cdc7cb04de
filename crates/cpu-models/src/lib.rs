//! QEMU's CPU-model QMP commands, computed: `query-cpu-model-expansion`,
//! `query-cpu-definitions` and, for s390x, `query-cpu-model-comparison`
//! and `query-cpu-model-baseline`.
//!
//! Each target is an algorithm over a catalogue of facts about its models
//! (`data/<target>.json`: definitions, feature sets, property types and
//! defaults, aliases), imported from a real QEMU with
//! `cargo xtask import-cpu-models --qemu PATH` (see [`import`]).  Nothing
//! here replays recorded answers.
//!
//! Beyond QEMU, every expansion says whether its model is `static` and
//! `migration-safe` (the two booleans of `CpuModelExpansionInfo` that
//! QEMU never merged; see `schema/cpu-model.json`).

mod bits;
pub mod qmp_io;
pub mod s390x;
pub mod x86;

use qapi_support::QmpError;
use qapi_types::{
    CpuDefinitionInfo, CpuModelBaselineInfo, CpuModelCompareInfo, CpuModelExpansionInfo,
    CpuModelExpansionType, CpuModelInfo,
};
use std::borrow::Cow;

use serde_json::{Map, Value};

/// The targets we model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `qemu-system-x86_64`.
    X86_64,
    /// `qemu-system-s390x`.
    S390x,
}

impl Target {
    /// The name `query-target` reports (`x86_64`, `s390x`).
    pub fn arch(self) -> &'static str {
        match self {
            Target::X86_64 => "x86_64",
            Target::S390x => "s390x",
        }
    }

    /// Parses `x86_64` / `s390x`.
    pub fn from_arch(s: &str) -> Option<Target> {
        match s {
            "x86_64" => Some(Target::X86_64),
            "s390x" => Some(Target::S390x),
            _ => None,
        }
    }
}

/// A property name in an [`OrderedExpansion`].
#[derive(Debug, Clone, PartialEq)]
pub struct PropKey<'a> {
    /// The name.
    pub name: Cow<'a, str>,
    /// Its index in [`CpuModels::prop_names`], when the engine has one: a
    /// writer may keep what it makes of each name.
    pub id: Option<usize>,
}

/// The props of an [`OrderedExpansion`], in writing order, made as they
/// are consumed.
pub type OrderedProps<'a> = Box<dyn Iterator<Item = (PropKey<'a>, Value)> + 'a>;

/// An expansion whose props come in the order QEMU's monitor writes them
/// (its `QDict`'s iteration order), for a server that writes the reply
/// itself: no map is built, no order computed and no name copied per
/// reply.
pub struct OrderedExpansion<'a> {
    /// `model.name`.
    pub name: String,
    /// `model.props` in writing order (`None`: no `props` member).
    pub props: Option<OrderedProps<'a>>,
    /// `deprecated-props`.
    pub deprecated_props: Option<Vec<String>>,
    /// `static`.
    pub is_static: bool,
    /// `migration-safe`.
    pub migration_safe: bool,
}

impl<'a> OrderedExpansion<'a> {
    /// From an expansion as the generated type holds it.
    pub fn of(info: CpuModelExpansionInfo) -> OrderedExpansion<'a> {
        let props = match info.model.props {
            Some(Value::Object(m)) => {
                let mut entries: Vec<Option<(String, Value)>> = m.into_iter().map(Some).collect();
                let order: Vec<usize> =
                    qapi_support::qdict::order(entries.iter().flatten().map(|(k, _)| k.as_str()))
                        .collect();
                let ordered: Vec<(String, Value)> = order
                    .into_iter()
                    .filter_map(|i| entries[i].take())
                    .collect();
                let props: OrderedProps<'a> = Box::new(ordered.into_iter().map(|(k, v)| {
                    (
                        PropKey {
                            name: Cow::Owned(k),
                            id: None,
                        },
                        v,
                    )
                }));
                Some(props)
            }
            Some(_) | None => None,
        };
        OrderedExpansion {
            name: info.model.name,
            props,
            deprecated_props: info.deprecated_props,
            is_static: info.q_static,
            migration_safe: info.migration_safe,
        }
    }
}

/// One target's CPU-model commands.  Errors are QEMU's (class and text).
pub trait CpuModels: Send + Sync {
    /// The target.
    fn target(&self) -> Target;

    /// `query-cpu-definitions`.
    fn definitions(&self) -> Result<Vec<CpuDefinitionInfo>, QmpError>;

    /// `query-cpu-model-expansion`.
    fn expand(
        &self,
        ty: CpuModelExpansionType,
        model: &CpuModelInfo,
    ) -> Result<CpuModelExpansionInfo, QmpError>;

    /// Every property name the engine reports, indexed by
    /// [`PropKey::id`] (empty when it gives no ids).
    fn prop_names(&self) -> Vec<&str> {
        Vec::new()
    }

    /// `query-cpu-model-expansion` with the props in writing order (by
    /// default from [`CpuModels::expand`]; an engine that knows its key
    /// sets orders them once, at load).
    fn expand_ordered(
        &self,
        ty: CpuModelExpansionType,
        model: &CpuModelInfo,
    ) -> Result<OrderedExpansion<'_>, QmpError> {
        self.expand(ty, model).map(OrderedExpansion::of)
    }

    /// `query-cpu-model-comparison` (QEMU has it on s390x only).
    fn compare(&self, a: &CpuModelInfo, b: &CpuModelInfo) -> Result<CpuModelCompareInfo, QmpError> {
        let _ = (a, b);
        Err(QmpError::command_not_found("query-cpu-model-comparison"))
    }

    /// `query-cpu-model-baseline` (QEMU has it on s390x only).
    fn baseline(
        &self,
        a: &CpuModelInfo,
        b: &CpuModelInfo,
    ) -> Result<CpuModelBaselineInfo, QmpError> {
        let _ = (a, b);
        Err(QmpError::command_not_found("query-cpu-model-baseline"))
    }
}

/// The models of `target`, from the catalogue compiled into this crate.
pub fn models(target: Target) -> Result<Box<dyn CpuModels>, String> {
    Ok(match target {
        Target::X86_64 => Box::new(x86::X86Models::builtin()?),
        Target::S390x => Box::new(s390x::S390xModels::builtin()?),
    })
}

/// `v` with every object's keys in name order: the canonical form of the
/// catalogue files (a `Map` keeps insertion order).
pub(crate) fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The entries of `obj` in the order QEMU's QDict iterates them (QEMU
/// visits properties, and reports the first bad one, in that order).
fn qdict_order(obj: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let entries: Vec<(&String, &Value)> = obj.iter().collect();
    qapi_support::qdict::order(entries.iter().map(|(k, _)| k.as_str()))
        .map(|i| (entries[i].0.as_str(), entries[i].1))
        .collect()
}
