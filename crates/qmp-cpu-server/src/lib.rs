//! The QMP service behind `qmp-cpu-server`: the generated bindings of our
//! schema (`qapi-types`) wired to the CPU-model engine (`cpu-models`).
//!
//! The protocol (greeting, negotiation, framing, errors, events) is
//! `qmp-runtime`'s; argument checking with QEMU's texts is the generated
//! `dispatch`'s; this crate only answers commands, as the QEMU binary of
//! the chosen target would:
//!
//! * `query-cpu-model-expansion`, `query-cpu-definitions` and, on s390x,
//!   `query-cpu-model-comparison` / `query-cpu-model-baseline` from the
//!   engine (with our `static` / `migration-safe` booleans);
//! * `query-version`, `query-target`, `query-commands`,
//!   `query-qmp-schema` describing exactly the commands this target has
//!   (x86 has no comparison or baseline, as in QEMU).

use std::collections::HashMap;
use std::sync::Arc;

use cpu_models::{CpuModels, Target};
use qapi_support::{CommandMeta, QmpError};
use qapi_types as q;
use qmp_runtime::Service;
use serde_json::{Map, Value};

/// The QEMU version whose behaviour (and catalogue) we serve.
pub const QEMU_VERSION: (i64, i64, i64) = (10, 0, 2);

/// What `query-version` reports as the package.
pub const PACKAGE: &str = concat!("qmp-cpu-server ", env!("CARGO_PKG_VERSION"));

/// Commands QEMU builds only for s390x.
const S390X_ONLY: &[&str] = &["query-cpu-model-comparison", "query-cpu-model-baseline"];

/// Whether `target`'s QEMU has `command`.
pub fn has_command(target: Target, command: &str) -> bool {
    target == Target::S390x || !S390X_ONLY.contains(&command)
}

/// Answers our schema's commands for one target.
pub struct CpuHandler {
    models: Box<dyn CpuModels>,
    target: Target,
    commands: Vec<q::CommandInfo>,
    schema: Vec<q::SchemaInfo>,
    encoded: Encoded,
}

/// Replies that do not depend on the request, encoded as the server
/// writes them: computed by the engine from the catalogue when the
/// handler is made, so the commands that need them cost a copy.
#[derive(Default)]
struct Encoded {
    /// `query-cpu-definitions`.
    definitions: Option<Box<[u8]>>,
    /// `query-cpu-model-expansion` of each model without `props`, by
    /// model name: `[static, full]`.
    expansions: HashMap<String, [Option<Box<[u8]>>; 2]>,
    /// Each property name of the engine, encoded as a member, by index.
    keys: Vec<EncodedKey>,
}

/// One property name of the engine, encoded at load as a member of the
/// props object, separator first, with either boolean value: most props
/// are booleans, and each is then written with one copy.
struct EncodedKey {
    /// `, "name": true`.
    with_true: Box<[u8]>,
    /// `, "name": false`.
    with_false: Box<[u8]>,
}

impl EncodedKey {
    fn new(name: &str) -> Self {
        let mut k = b", ".to_vec();
        qmp_runtime::json::write_str(&mut k, name);
        k.extend_from_slice(b": ");
        let with = |v: &[u8]| [&k[..], v].concat().into_boxed_slice();
        EncodedKey {
            with_true: with(b"true"),
            with_false: with(b"false"),
        }
    }

    /// The member without its value: `, "name": `.
    fn key(&self) -> &[u8] {
        &self.with_true[..self.with_true.len() - b"true".len()]
    }
}

fn type_index(ty: q::CpuModelExpansionType) -> usize {
    match ty {
        q::CpuModelExpansionType::Static => 0,
        q::CpuModelExpansionType::Full => 1,
    }
}

/// `r` encoded as the generated `dispatch` and the server encode a reply.
fn encode<T: serde::Serialize>(r: Result<T, QmpError>) -> Option<Box<[u8]>> {
    let v = qapi_support::de::reply(r).ok()?;
    let mut out = Vec::new();
    qmp_runtime::json::write_value(&mut out, &v);
    Some(out.into_boxed_slice())
}

impl Encoded {
    fn new(models: &dyn CpuModels) -> Self {
        let keys = models
            .prop_names()
            .into_iter()
            .map(EncodedKey::new)
            .collect();
        let mut e = Encoded {
            definitions: encode(models.definitions()),
            keys,
            ..Encoded::default()
        };
        for d in models.definitions().unwrap_or_default() {
            let model = q::CpuModelInfo::new(d.name.clone());
            let each = [
                q::CpuModelExpansionType::Static,
                q::CpuModelExpansionType::Full,
            ]
            .map(|ty| encode(models.expand(ty, &model)));
            e.expansions.insert(d.name, each);
        }
        e
    }
}

impl CpuHandler {
    /// The handler for `target`, with the catalogue compiled in.
    pub fn new(target: Target) -> Result<Self, String> {
        let models = cpu_models::models(target)?;
        let commands = q::COMMANDS
            .iter()
            .filter(|c| has_command(target, c.name))
            .map(|c| q::CommandInfo {
                name: c.name.to_string(),
            })
            .collect();
        // The introspection data, minus the commands this target lacks.
        let mut schema = Vec::new();
        for info in q::SCHEMA_INFO {
            if matches!(
                info.meta,
                qapi_support::introspect::SchemaMeta::Command { .. }
            ) && !has_command(target, info.name)
            {
                continue;
            }
            let v = serde_json::to_value(info).map_err(|e| e.to_string())?;
            schema.push(serde_json::from_value(v).map_err(|e| e.to_string())?);
        }
        let encoded = Encoded::new(&*models);
        Ok(CpuHandler {
            models,
            target,
            commands,
            schema,
            encoded,
        })
    }

    /// The target served.
    pub fn target(&self) -> Target {
        self.target
    }
}

impl q::QmpHandler for CpuHandler {
    fn qmp_capabilities(&self, _args: q::QmpCapabilities) -> Result<qapi_support::Empty, QmpError> {
        // Negotiation is the protocol layer's; after it, QEMU refuses a
        // second negotiation (also the protocol layer's).  Never reached.
        Ok(qapi_support::Empty {})
    }

    fn query_version(&self) -> Result<q::VersionInfo, QmpError> {
        let (major, minor, micro) = QEMU_VERSION;
        Ok(q::VersionInfo {
            qemu: q::VersionTriple {
                major,
                minor,
                micro,
            },
            package: PACKAGE.to_string(),
        })
    }

    fn query_commands(&self) -> Result<Vec<q::CommandInfo>, QmpError> {
        Ok(self.commands.clone())
    }

    fn query_qmp_schema(&self) -> Result<Vec<q::SchemaInfo>, QmpError> {
        Ok(self.schema.clone())
    }

    fn query_target(&self) -> Result<q::TargetInfo, QmpError> {
        Ok(q::TargetInfo {
            arch: match self.target {
                Target::X86_64 => q::SysEmuTarget::X86_64,
                Target::S390x => q::SysEmuTarget::S390x,
            },
        })
    }

    fn query_cpu_model_expansion(
        &self,
        args: q::QueryCpuModelExpansion,
    ) -> Result<q::CpuModelExpansionInfo, QmpError> {
        self.models.expand(args.q_type, &args.model)
    }

    fn query_cpu_definitions(&self) -> Result<Vec<q::CpuDefinitionInfo>, QmpError> {
        self.models.definitions()
    }

    fn query_cpu_model_comparison(
        &self,
        args: q::QueryCpuModelComparison,
    ) -> Result<q::CpuModelCompareInfo, QmpError> {
        self.models.compare(&args.modela, &args.modelb)
    }

    fn query_cpu_model_baseline(
        &self,
        args: q::QueryCpuModelBaseline,
    ) -> Result<q::CpuModelBaselineInfo, QmpError> {
        self.models.baseline(&args.modela, &args.modelb)
    }
}

/// The handler as a `qmp-runtime` service: commands the target lacks are
/// not found (whatever their arguments), the rest go through the generated
/// `dispatch`.
pub struct CpuService {
    handler: Arc<CpuHandler>,
}

impl CpuService {
    /// The service for `target`.
    pub fn new(target: Target) -> Result<Self, String> {
        Ok(CpuService {
            handler: Arc::new(CpuHandler::new(target)?),
        })
    }

    /// The handler.
    pub fn handler(&self) -> &CpuHandler {
        &self.handler
    }
}

impl Service for CpuService {
    fn execute(&self, command: &str, arguments: Map<String, Value>) -> Result<Value, QmpError> {
        q::dispatch(&*self.handler, command, arguments)
    }

    fn execute_into(
        &self,
        command: &str,
        arguments: Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), QmpError> {
        // The generated `dispatch`'s steps (check, decode, run, encode),
        // with the replies computed at load time taken as they are.
        let encoded = &self.handler.encoded;
        match command {
            "query-cpu-definitions" => {
                if let Some(b) = &encoded.definitions {
                    q::check_arguments(command, &Value::Object(arguments))?;
                    out.extend_from_slice(b);
                    return Ok(());
                }
            }
            "query-cpu-model-expansion" => {
                let arguments = Value::Object(arguments);
                q::check_arguments(command, &arguments)?;
                let args: q::QueryCpuModelExpansion = qapi_support::de::arguments(arguments)?;
                if args.model.props.is_none() {
                    let hit = encoded
                        .expansions
                        .get(&args.model.name)
                        .and_then(|e| e[type_index(args.q_type)].as_deref());
                    if let Some(b) = hit {
                        out.extend_from_slice(b);
                        return Ok(());
                    }
                }
                // As `dispatch` would, but written straight from the
                // engine's props, in the order it computed once per key
                // set: no map of hundreds of members, no sort per reply.
                let e = self
                    .handler
                    .models
                    .expand_ordered(args.q_type, &args.model)?;
                write_expansion(out, e, &self.handler.encoded.keys);
                return Ok(());
            }
            _ => {}
        }
        let v = self.execute(command, arguments)?;
        qmp_runtime::json::write_value(out, &v);
        Ok(())
    }

    fn command(&self, name: &str) -> Option<CommandMeta> {
        if !has_command(self.handler.target, name) {
            return None;
        }
        q::COMMANDS.iter().find(|c| c.name == name).copied()
    }
}

/// A `CpuModelExpansionInfo` as the server writes it: the bytes
/// `json::write_value` gives for the generated type's value (members in
/// schema order, as its `Serialize` adds them).  `keys` holds each engine
/// property encoded as a member, by [`cpu_models::PropKey::id`].
fn write_expansion(out: &mut Vec<u8>, e: cpu_models::OrderedExpansion<'_>, keys: &[EncodedKey]) {
    use qmp_runtime::json;
    let cpu_models::OrderedExpansion {
        name,
        mut props,
        mut deprecated_props,
        is_static,
        migration_safe,
    } = e;
    let model: &[&str] = if props.is_some() {
        &["name", "props"]
    } else {
        &["name"]
    };
    let mut top = vec!["model"];
    if deprecated_props.is_some() {
        top.push("deprecated-props");
    }
    top.extend(["static", "migration-safe"]);
    let boolean =
        |o: &mut Vec<u8>, b: bool| o.extend_from_slice(if b { b"true" } else { b"false" });
    json::write_object(
        out,
        &top,
        |k| k,
        |k, o| match *k {
            "model" => json::write_object(
                o,
                model,
                |k| k,
                |k, o| match *k {
                    "name" => json::write_str(o, &name),
                    _ => write_props(o, props.take().into_iter().flatten(), keys),
                },
            ),
            "deprecated-props" => {
                json::write_value(o, &Value::from(deprecated_props.take().unwrap_or_default()))
            }
            "static" => boolean(o, is_static),
            _ => boolean(o, migration_safe),
        },
    );
}

/// The props object, members in the order given (the engine's writing
/// order), each name from `keys` when the engine gave its id.
fn write_props<'a>(
    o: &mut Vec<u8>,
    props: impl Iterator<Item = (cpu_models::PropKey<'a>, Value)>,
    keys: &[EncodedKey],
) {
    use qmp_runtime::json;
    o.push(b'{');
    for (n, (key, v)) in props.enumerate() {
        // The encoded members start with their separator: the first
        // member goes without.
        let from = if n == 0 { b", ".len() } else { 0 };
        match (key.id.and_then(|id| keys.get(id)), &v) {
            (Some(k), Value::Bool(true)) => o.extend_from_slice(&k.with_true[from..]),
            (Some(k), Value::Bool(false)) => o.extend_from_slice(&k.with_false[from..]),
            (Some(k), v) => {
                o.extend_from_slice(&k.key()[from..]);
                json::write_value(o, v);
            }
            (None, v) => {
                if n > 0 {
                    o.extend_from_slice(b", ");
                }
                json::write_str(o, &key.name);
                o.extend_from_slice(b": ");
                json::write_value(o, v);
            }
        }
    }
    o.push(b'}');
}

/// The greeting's version for our server.
pub fn greeting_version() -> Value {
    let (major, minor, micro) = QEMU_VERSION;
    qmp_runtime::version_info(major, minor, micro, PACKAGE)
}
