//! QEMU's introspection (`query-qmp-schema`) and the tables that let a
//! generated server check command arguments exactly as QEMU does.
//!
//! [`compute`] builds the `SchemaInfo` list the way QEMU 10.0.2's
//! `scripts/qapi/introspect.py` does:
//!
//! * commands and events first, module by module in QEMU's module order;
//! * then every type they use, directly or through other types, in the
//!   order of first use (a work list that grows while it is walked);
//! * all integer types are reported as `int` (arrays of them as `[int]`);
//! * type names are masked as numbers in order of first use, except
//!   built-ins, arrays (`[T]`, from their element's name) and, of course,
//!   commands and events;
//! * optional members carry `default: null`; commands and events without
//!   arguments (commands without a reply) use the empty object `q_empty`.
//!
//! [`to_json`] gives that list in the test corpus' format (conditional
//! values as `{"if": COND, "value": V}`), and [`tokens`] emits it as static
//! data for a generated crate together with the argument-checking tables of
//! `qapi_support::input`.

use std::collections::HashMap;

use proc_macro2::Ident;
use quote::format_ident;
use serde_json::{json, Map, Value};
use syn::{Attribute, Expr, Item};

use super::cond::{Cond, Conditions};
use super::rust::syntax::{
    self, call, lit_bool, lit_str, path_expr, reference, slice, static_item, with_attrs, Fill,
    Template,
};
use crate::check::ast::IfCond;
use crate::error::Error;
use crate::model::{EntityId, EntityKind, Feature, Schema};

/// The `SchemaInfo` list of a schema.
#[derive(Debug, Clone)]
pub struct Introspection {
    /// The entries, in QEMU's order.
    pub entries: Vec<SchemaInfo>,
    /// Masked name → real name, in numbering order (empty when unmasked).
    pub name_map: Vec<(String, String)>,
}

/// A value that may carry an `if` condition.
#[derive(Debug, Clone)]
pub struct Conditional<T> {
    /// The value.
    pub value: T,
    /// Its condition.
    pub ifcond: Option<IfCond>,
}

/// One `SchemaInfo`.
#[derive(Debug, Clone)]
pub struct SchemaInfo {
    /// The entity described.
    pub entity: EntityId,
    /// Its name as reported (masked or not).
    pub name: String,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Conditional<String>>,
    /// The data for its meta-type.
    pub meta: Meta,
}

/// The part of a `SchemaInfo` that depends on the meta-type.
#[derive(Debug, Clone)]
pub enum Meta {
    /// `builtin`.
    Builtin {
        /// `json-type`.
        json_type: &'static str,
    },
    /// `enum` (its `values` are the members' names).
    Enum {
        /// `members`.
        members: Vec<Conditional<EnumValue>>,
    },
    /// `array`.
    Array {
        /// `element-type`.
        element_type: String,
    },
    /// `object`.
    Object {
        /// `members`.
        members: Vec<Conditional<ObjectMember>>,
        /// `tag`, for unions.
        tag: Option<String>,
        /// `variants`, for unions.
        variants: Vec<Conditional<Variant>>,
    },
    /// `alternate`: the alternatives' type names.
    Alternate {
        /// `members`.
        members: Vec<Conditional<String>>,
    },
    /// `command`.
    Command {
        /// `arg-type`.
        arg_type: String,
        /// `ret-type`.
        ret_type: String,
        /// `allow-oob`.
        allow_oob: bool,
    },
    /// `event`.
    Event {
        /// `arg-type`.
        arg_type: String,
    },
}

impl Meta {
    /// The `meta-type` string.
    pub fn meta_type(&self) -> &'static str {
        match self {
            Meta::Builtin { .. } => "builtin",
            Meta::Enum { .. } => "enum",
            Meta::Array { .. } => "array",
            Meta::Object { .. } => "object",
            Meta::Alternate { .. } => "alternate",
            Meta::Command { .. } => "command",
            Meta::Event { .. } => "event",
        }
    }
}

/// An enum value.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// The value.
    pub name: String,
    /// Its features.
    pub features: Vec<Conditional<String>>,
}

/// An object member.
#[derive(Debug, Clone)]
pub struct ObjectMember {
    /// Wire name.
    pub name: String,
    /// Type name as reported.
    pub ty: String,
    /// Whether it is optional (`default: null`).
    pub optional: bool,
    /// Its features.
    pub features: Vec<Conditional<String>>,
}

/// A union branch.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The discriminator value.
    pub case: String,
    /// The branch type's name as reported.
    pub ty: String,
}

/// Computes the `SchemaInfo` list; `unmask` reports real type names (QEMU's
/// `qapi-gen -u`).
pub fn compute(schema: &Schema, unmask: bool) -> Introspection {
    let mut walk = Walk {
        schema,
        unmask,
        used: Vec::new(),
        seen: HashMap::new(),
        names: HashMap::new(),
        name_map: Vec::new(),
        entries: Vec::new(),
    };
    for module in &schema.modules {
        for &id in &module.entities {
            let e = schema.entity(id);
            if matches!(e.kind, EntityKind::Command(_) | EntityKind::Event(_)) {
                walk.visit(id);
            }
        }
    }
    // The work list grows while types are visited.
    let mut next = 0;
    while let Some(&id) = walk.used.get(next) {
        walk.visit(id);
        next += 1;
    }
    Introspection {
        entries: walk.entries,
        name_map: walk.name_map,
    }
}

struct Walk<'s> {
    schema: &'s Schema,
    unmask: bool,
    used: Vec<EntityId>,
    seen: HashMap<EntityId, ()>,
    names: HashMap<String, String>,
    name_map: Vec<(String, String)>,
    entries: Vec<SchemaInfo>,
}

impl Walk<'_> {
    /// The reported name of a named type: its number, given on first use.
    fn name(&mut self, real: &str) -> String {
        if self.unmask {
            return real.to_string();
        }
        if let Some(n) = self.names.get(real) {
            return n.clone();
        }
        let n = self.name_map.len().to_string();
        self.names.insert(real.to_string(), n.clone());
        self.name_map.push((n.clone(), real.to_string()));
        n
    }

    fn lookup(&self, name: &str) -> EntityId {
        self.schema
            .lookup(name)
            .expect("every schema defines the built-in types and q_empty")
    }

    /// Notes a use of type `id` and returns the name to report for it.
    fn use_type(&mut self, id: EntityId) -> String {
        let schema = self.schema;
        let mut id = id;
        let e = schema.entity(id);
        if e.json_type() == Some("int") {
            id = self.lookup("int");
        } else if let EntityKind::Array {
            element: Some(el), ..
        } = e.kind
        {
            if schema.entity(el).json_type() == Some("int") {
                id = self.lookup("intList");
            }
        }
        if self.seen.insert(id, ()).is_none() {
            self.used.push(id);
        }
        let e = schema.entity(id);
        match &e.kind {
            EntityKind::Builtin { .. } => e.name.to_string(),
            EntityKind::Array { element, .. } => {
                let el = element.expect("array elements are resolved by the checks");
                format!("[{}]", self.use_type(el))
            }
            _ => self.name(&e.name),
        }
    }

    fn visit(&mut self, id: EntityId) {
        let schema = self.schema;
        let e = schema.entity(id);
        let (name, meta) = match &e.kind {
            EntityKind::Builtin { json_type } => (e.name.to_string(), Meta::Builtin { json_type }),
            EntityKind::Enum { members, .. } => {
                let members = members
                    .iter()
                    .map(|m| Conditional {
                        value: EnumValue {
                            name: m.name.to_string(),
                            features: features(&m.features),
                        },
                        ifcond: m.ifcond.clone(),
                    })
                    .collect();
                (self.name(&e.name), Meta::Enum { members })
            }
            EntityKind::Array { element, .. } => {
                let el = element.expect("array elements are resolved by the checks");
                let element_type = self.use_type(el);
                (format!("[{element_type}]"), Meta::Array { element_type })
            }
            EntityKind::Object(o) => {
                let members = schema
                    .members(id)
                    .into_iter()
                    .map(|m| Conditional {
                        value: ObjectMember {
                            name: m.name.to_string(),
                            ty: self.use_type(m.type_id()),
                            optional: m.optional,
                            features: features(&m.features),
                        },
                        ifcond: m.ifcond.clone(),
                    })
                    .collect();
                let (tag, variants) = match &o.branches {
                    Some(b) => {
                        let variants = b
                            .variants
                            .iter()
                            .map(|v| Conditional {
                                value: Variant {
                                    case: v.name.to_string(),
                                    ty: self.use_type(v.type_id()),
                                },
                                ifcond: v.ifcond.clone(),
                            })
                            .collect();
                        (Some(b.tag_name.to_string()), variants)
                    }
                    None => (None, Vec::new()),
                };
                let meta = Meta::Object {
                    members,
                    tag,
                    variants,
                };
                (self.name(&e.name), meta)
            }
            EntityKind::Alternate { variants, .. } => {
                let members = variants
                    .iter()
                    .map(|v| Conditional {
                        value: self.use_type(v.type_id()),
                        ifcond: v.ifcond.clone(),
                    })
                    .collect();
                (self.name(&e.name), Meta::Alternate { members })
            }
            EntityKind::Command(c) => {
                let empty = self.lookup("q_empty");
                let arg_type = self.use_type(c.arg_type.unwrap_or(empty));
                let ret_type = self.use_type(c.ret_type.unwrap_or(empty));
                let meta = Meta::Command {
                    arg_type,
                    ret_type,
                    allow_oob: c.allow_oob,
                };
                (e.name.to_string(), meta)
            }
            EntityKind::Event(ev) => {
                let empty = self.lookup("q_empty");
                let arg_type = self.use_type(ev.arg_type.unwrap_or(empty));
                (e.name.to_string(), Meta::Event { arg_type })
            }
            EntityKind::Include { .. } => return,
        };
        // An array is as conditional as its element (QEMU derives it).
        let ifcond = match e.kind {
            EntityKind::Array {
                element: Some(el), ..
            } => schema.entity(el).ifcond.clone(),
            _ => e.ifcond.clone(),
        };
        self.entries.push(SchemaInfo {
            entity: id,
            name,
            ifcond,
            features: features(&e.features),
            meta,
        });
    }
}

fn features(fs: &[Feature]) -> Vec<Conditional<String>> {
    fs.iter()
        .map(|f| Conditional {
            value: f.name.to_string(),
            ifcond: f.ifcond.clone(),
        })
        .collect()
}

/// A condition as the test corpus writes it: a symbol, or
/// `{"all": [..]}`, `{"any": [..]}`, `{"not": ..}`.
pub fn cond_json(c: &IfCond) -> Value {
    match c {
        IfCond::Name(n) => Value::String(n.to_string()),
        IfCond::All(ops) => json!({ "all": ops.iter().map(cond_json).collect::<Vec<_>>() }),
        IfCond::Any(ops) => json!({ "any": ops.iter().map(cond_json).collect::<Vec<_>>() }),
        IfCond::Not(op) => json!({ "not": cond_json(op) }),
    }
}

fn wrap(value: Value, ifcond: Option<&IfCond>) -> Value {
    match ifcond {
        Some(c) => json!({ "if": cond_json(c), "value": value }),
        None => value,
    }
}

fn features_json(fs: &[Conditional<String>], obj: &mut Map<String, Value>) {
    if !fs.is_empty() {
        let list = fs
            .iter()
            .map(|f| wrap(Value::String(f.value.clone()), f.ifcond.as_ref()))
            .collect();
        obj.insert("features".into(), Value::Array(list));
    }
}

/// One entry as JSON, with its `if` wrapper when conditional.
pub fn entry_json(info: &SchemaInfo) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(info.name));
    obj.insert("meta-type".into(), json!(info.meta.meta_type()));
    match &info.meta {
        Meta::Builtin { json_type } => {
            obj.insert("json-type".into(), json!(json_type));
        }
        Meta::Enum { members } => {
            let ms = members
                .iter()
                .map(|m| {
                    let mut o = Map::new();
                    o.insert("name".into(), json!(m.value.name));
                    features_json(&m.value.features, &mut o);
                    wrap(Value::Object(o), m.ifcond.as_ref())
                })
                .collect();
            let values = members
                .iter()
                .map(|m| wrap(json!(m.value.name), m.ifcond.as_ref()))
                .collect();
            obj.insert("members".into(), Value::Array(ms));
            obj.insert("values".into(), Value::Array(values));
        }
        Meta::Array { element_type } => {
            obj.insert("element-type".into(), json!(element_type));
        }
        Meta::Object {
            members,
            tag,
            variants,
        } => {
            let ms = members
                .iter()
                .map(|m| {
                    let mut o = Map::new();
                    o.insert("name".into(), json!(m.value.name));
                    o.insert("type".into(), json!(m.value.ty));
                    if m.value.optional {
                        o.insert("default".into(), Value::Null);
                    }
                    features_json(&m.value.features, &mut o);
                    wrap(Value::Object(o), m.ifcond.as_ref())
                })
                .collect();
            obj.insert("members".into(), Value::Array(ms));
            if let Some(tag) = tag {
                obj.insert("tag".into(), json!(tag));
                let vs = variants
                    .iter()
                    .map(|v| {
                        let o = json!({ "case": v.value.case, "type": v.value.ty });
                        wrap(o, v.ifcond.as_ref())
                    })
                    .collect();
                obj.insert("variants".into(), Value::Array(vs));
            }
        }
        Meta::Alternate { members } => {
            let ms = members
                .iter()
                .map(|m| wrap(json!({ "type": m.value }), m.ifcond.as_ref()))
                .collect();
            obj.insert("members".into(), Value::Array(ms));
        }
        Meta::Command {
            arg_type,
            ret_type,
            allow_oob,
        } => {
            obj.insert("arg-type".into(), json!(arg_type));
            obj.insert("ret-type".into(), json!(ret_type));
            if *allow_oob {
                obj.insert("allow-oob".into(), json!(true));
            }
        }
        Meta::Event { arg_type } => {
            obj.insert("arg-type".into(), json!(arg_type));
        }
    }
    features_json(&info.features, &mut obj);
    wrap(Value::Object(obj), info.ifcond.as_ref())
}

/// The whole list in the corpus' format: `{"schema_info": [...]}`, plus
/// `"name_map": {masked: real}` when names are masked.
pub fn to_json(intro: &Introspection) -> Value {
    let mut top = Map::new();
    top.insert(
        "schema_info".into(),
        Value::Array(intro.entries.iter().map(entry_json).collect()),
    );
    if !intro.name_map.is_empty() {
        let map = intro
            .name_map
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        top.insert("name_map".into(), Value::Object(map));
    }
    Value::Object(top)
}

/// Name of the hidden module holding the checking tables.
/// Rust items for a generated crate's root module:
///
/// * `pub static SCHEMA_INFO: &[::qapi_support::introspect::SchemaInfo]` —
///   what `query-qmp-schema` returns (masked names, numbered over the whole
///   schema as QEMU numbers them);
/// * `pub mod __qapi_input` (hidden) — the `qapi_support::input` tables:
///   one static per enum, array, object and alternate reachable from a
///   command's arguments, and `COMMANDS`, sorted by name;
/// * `pub fn check_arguments(command: &str, args: &::serde_json::Value)
///   -> Result<(), ::qapi_support::QmpError>` — QEMU's first error for a
///   call's `arguments` (pass an empty object when there are none).
///
/// Conditional entries, members, branches, enum values and features get
/// `#[cfg]` attributes, or are left out when `conds` decides them false.
/// Type tables themselves are unconditional, so every reference resolves
/// whatever the configuration.
///
/// The tables are thousands of entries: they are built as `syn` trees
/// directly (see [`syntax`]).
pub fn items(schema: &Schema, conds: &Conditions) -> Result<Vec<Item>, Error> {
    let mut items = schema_info_items(schema, conds)?;
    items.extend(argument_items(schema, conds)?);
    Ok(items)
}

/// The first half of [`items`]: `SCHEMA_INFO` and the data behind it.
pub fn schema_info_items(schema: &Schema, conds: &Conditions) -> Result<Vec<Item>, Error> {
    let intro = compute(schema, false);
    let entries: Vec<Expr> = intro
        .entries
        .iter()
        .filter_map(|info| info_expr(info, conds))
        .collect();
    SCHEMA_INFO.fill(&mut Fill::new().expr("__ENTRIES", slice(entries)))
}

/// The second half of [`items`]: `check_arguments` and its tables.
pub fn argument_items(schema: &Schema, conds: &Conditions) -> Result<Vec<Item>, Error> {
    let tables = Tables::new(schema, conds).items();
    ARGUMENTS.fill(&mut Fill::new().items("__TABLES", tables))
}

const SCHEMA_INFO: Template = Template(
    r#"
    /// The reply to `query-qmp-schema`: this schema's `SchemaInfo` list
    /// as QEMU computes it (type names masked as numbers).
    pub static SCHEMA_INFO: &[::qapi_support::introspect::SchemaInfo] = __qapi_introspect::SCHEMA_INFO;

    /// The data behind [`SCHEMA_INFO`]; not an API.
    #[doc(hidden)]
    pub mod __qapi_introspect {
        use ::qapi_support::introspect::build::*;
        pub static SCHEMA_INFO: &[::qapi_support::introspect::SchemaInfo] = __ENTRIES;
    }
    "#,
);

const ARGUMENTS: Template = Template(
    r#"
    /// Tables for [`check_arguments`]; not an API.
    #[doc(hidden)]
    #[allow(missing_docs)]
    pub mod __qapi_input {
        struct __TABLES;
    }

    /// Checks a call's `arguments` (an empty object when the call has
    /// none) as QEMU does, returning QEMU's first error.
    pub fn check_arguments(
        command: &str,
        args: &::serde_json::Value,
    ) -> ::core::result::Result<(), ::qapi_support::QmpError> {
        ::qapi_support::input::check_command(__qapi_input::COMMANDS, command, args)
    }
    "#,
);

/// The `#[cfg]` attributes for a condition (none or one), or `None` to
/// leave the item out.
fn cfg(conds: &Conditions, ifcond: Option<&IfCond>) -> Option<Vec<Attribute>> {
    match conds.eval(ifcond) {
        Cond::Never => None,
        c => Some(c.cfg_attr().into_iter().collect()),
    }
}

/// `&["a", "b"]`, the features compiled in.
fn features_expr(fs: &[Conditional<String>], conds: &Conditions) -> Expr {
    slice(fs.iter().filter_map(|f| {
        let attrs = cfg(conds, f.ifcond.as_ref())?;
        Some(with_attrs(lit_str(&f.value), attrs))
    }))
}

fn info_expr(info: &SchemaInfo, conds: &Conditions) -> Option<Expr> {
    let attrs = cfg(conds, info.ifcond.as_ref())?;
    let name = lit_str(&info.name);
    let features = features_expr(&info.features, conds);
    let meta = match &info.meta {
        Meta::Builtin { json_type } => call("builtin", [name, lit_str(json_type)]),
        Meta::Enum { members } => {
            let ms = members.iter().filter_map(|m| {
                let attrs = cfg(conds, m.ifcond.as_ref())?;
                let value = call(
                    "value",
                    [
                        lit_str(&m.value.name),
                        features_expr(&m.value.features, conds),
                    ],
                );
                Some(with_attrs(value, attrs))
            });
            call("enumeration", [name, features, slice(ms)])
        }
        Meta::Array { element_type } => call("array", [name, lit_str(element_type)]),
        Meta::Object {
            members,
            tag,
            variants,
        } => {
            let ms = members.iter().filter_map(|m| {
                let attrs = cfg(conds, m.ifcond.as_ref())?;
                let member = call(
                    "member",
                    [
                        lit_str(&m.value.name),
                        lit_str(&m.value.ty),
                        lit_bool(m.value.optional),
                        features_expr(&m.value.features, conds),
                    ],
                );
                Some(with_attrs(member, attrs))
            });
            let tag = match tag {
                Some(t) => call("Some", [lit_str(t)]),
                None => path_expr("None"),
            };
            let vs = variants.iter().filter_map(|v| {
                let attrs = cfg(conds, v.ifcond.as_ref())?;
                let variant = call("variant", [lit_str(&v.value.case), lit_str(&v.value.ty)]);
                Some(with_attrs(variant, attrs))
            });
            call("object", [name, features, slice(ms), tag, slice(vs)])
        }
        Meta::Alternate { members } => {
            let ms = members.iter().filter_map(|m| {
                let attrs = cfg(conds, m.ifcond.as_ref())?;
                Some(with_attrs(call("alt", [lit_str(&m.value)]), attrs))
            });
            call("alternate", [name, features, slice(ms)])
        }
        Meta::Command {
            arg_type,
            ret_type,
            allow_oob,
        } => call(
            "command",
            [
                name,
                features,
                lit_str(arg_type),
                lit_str(ret_type),
                lit_bool(*allow_oob),
            ],
        ),
        Meta::Event { arg_type } => call("event", [name, features, lit_str(arg_type)]),
    };
    Some(with_attrs(meta, attrs))
}

/// The argument-checking tables (`qapi_support::input`).
struct Tables<'s> {
    schema: &'s Schema,
    conds: &'s Conditions,
    /// Types needing a static, in order of discovery.
    order: Vec<EntityId>,
    seen: HashMap<EntityId, ()>,
}

impl<'s> Tables<'s> {
    fn new(schema: &'s Schema, conds: &'s Conditions) -> Self {
        Tables {
            schema,
            conds,
            order: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Queues a type for a static of its own (built-ins are inline).
    fn need(&mut self, id: EntityId) {
        if matches!(self.schema.entity(id).kind, EntityKind::Builtin { .. }) {
            return;
        }
        if self.seen.insert(id, ()).is_none() {
            self.order.push(id);
        }
    }

    /// A `&'static qi::Type` expression for a type.
    fn type_ref(&mut self, id: EntityId) -> Expr {
        let e = self.schema.entity(id);
        if let EntityKind::Builtin { .. } = e.kind {
            let int = |w: &str| call("qi::Type::Int", [path_expr(&format!("qi::Int::{w}"))]);
            let t = match &*e.name {
                "str" => path_expr("qi::Type::Str"),
                "number" => path_expr("qi::Type::Number"),
                "bool" => path_expr("qi::Type::Bool"),
                "null" => path_expr("qi::Type::Null"),
                "int" | "int64" => int("Int64"),
                "int8" => int("Int8"),
                "int16" => int("Int16"),
                "int32" => int("Int32"),
                "uint8" => int("Uint8"),
                "uint16" => int("Uint16"),
                "uint32" => int("Uint32"),
                "uint64" => int("Uint64"),
                "size" => int("Size"),
                // `any`, and any built-in QEMU may add later: accept all.
                _ => path_expr("qi::Type::Any"),
            };
            return reference(t);
        }
        self.need(id);
        reference(ident_expr(type_ident(id)))
    }

    /// A `&'static qi::Object` expression for an object type.
    fn object_ref(&mut self, id: EntityId) -> Expr {
        let e = self.schema.entity(id);
        match e.as_object() {
            Some(o) if o.local_members.is_empty() && o.base.is_none() && o.branches.is_none() => {
                reference(path_expr("qi::EMPTY"))
            }
            _ => {
                self.need(id);
                reference(ident_expr(object_ident(id)))
            }
        }
    }

    fn items(mut self) -> Vec<Item> {
        let schema = self.schema;
        let mut commands: Vec<(&str, Expr)> = Vec::new();
        for e in &schema.entities {
            let EntityKind::Command(c) = &e.kind else {
                continue;
            };
            let Some(attrs) = cfg(self.conds, e.ifcond.as_ref()) else {
                continue;
            };
            // Commands with `gen: false` have hand-written marshallers in
            // QEMU, which read their arguments their own way: not checked.
            let args = if !c.gen {
                path_expr("None")
            } else {
                let o = match c.arg_type {
                    Some(a) => self.object_ref(a),
                    None => reference(path_expr("qi::EMPTY")),
                };
                call("Some", [o])
            };
            let cmd = call("qi::cmd", [lit_str(&e.name), args]);
            commands.push((&e.name, with_attrs(cmd, attrs)));
        }
        commands.sort_by(|a, b| a.0.cmp(b.0));
        let commands = commands.into_iter().map(|(_, t)| t);

        let mut items = vec![use_qi()];
        let mut next = 0;
        while let Some(&id) = self.order.get(next) {
            next += 1;
            items.extend(self.type_items(id));
        }
        items.push(table(
            format_ident!("COMMANDS"),
            syntax::slice_ref(syntax::ty("qi::Command")),
            slice(commands),
        ));
        items
    }

    /// The statics for one type.
    fn type_items(&mut self, id: EntityId) -> Vec<Item> {
        let schema = self.schema;
        let conds = self.conds;
        let e = schema.entity(id);
        let t = type_ident(id);
        let ty_static = |kind: &str, inner: Ident| {
            table(
                t.clone(),
                syntax::ty("qi::Type"),
                call(&format!("qi::Type::{kind}"), [reference(ident_expr(inner))]),
            )
        };
        match &e.kind {
            EntityKind::Enum { members, .. } => {
                let values = members.iter().filter_map(|m| {
                    let attrs = cfg(conds, m.ifcond.as_ref())?;
                    Some(with_attrs(lit_str(&m.name), attrs))
                });
                let en = format_ident!("E{}", id.0);
                let value = syntax::struct_expr("qi::Enum", [("values", slice(values))]);
                vec![
                    table(en.clone(), syntax::ty("qi::Enum"), value),
                    ty_static("Enum", en),
                ]
            }
            EntityKind::Array { element, .. } => {
                let el = element.expect("array elements are resolved by the checks");
                let el = self.type_ref(el);
                vec![table(
                    t,
                    syntax::ty("qi::Type"),
                    call("qi::Type::List", [el]),
                )]
            }
            EntityKind::Object(o) => {
                let mut members = Vec::new();
                for m in schema.members(id) {
                    let Some(attrs) = cfg(conds, m.ifcond.as_ref()) else {
                        continue;
                    };
                    let ty = self.type_ref(m.type_id());
                    let member = call("qi::m", [lit_str(&m.name), ty, lit_bool(m.optional)]);
                    members.push(with_attrs(member, attrs));
                }
                let mut cases = Vec::new();
                let tag = match &o.branches {
                    Some(b) => {
                        for v in &b.variants {
                            let Some(attrs) = cfg(conds, v.ifcond.as_ref()) else {
                                continue;
                            };
                            let object = self.object_ref(v.type_id());
                            let case = call("qi::case", [lit_str(&v.name), object]);
                            cases.push(with_attrs(case, attrs));
                        }
                        call("Some", [lit_str(&b.tag_name)])
                    }
                    None => path_expr("None"),
                };
                let on = object_ident(id);
                let value = call("qi::obj", [slice(members), tag, slice(cases)]);
                vec![
                    table(on.clone(), syntax::ty("qi::Object"), value),
                    ty_static("Object", on),
                ]
            }
            EntityKind::Alternate { variants, .. } => {
                let mut branches = Vec::new();
                for v in variants {
                    let Some(attrs) = cfg(conds, v.ifcond.as_ref()) else {
                        continue;
                    };
                    branches.push(with_attrs(self.type_ref(v.type_id()), attrs));
                }
                let an = format_ident!("A{}", id.0);
                let value = syntax::struct_expr(
                    "qi::Alternate",
                    [("name", lit_str(&e.name)), ("branches", slice(branches))],
                );
                vec![
                    table(an.clone(), syntax::ty("qi::Alternate"), value),
                    ty_static("Alternate", an),
                ]
            }
            // Built-ins are inline; nothing else is a member type.
            _ => Vec::new(),
        }
    }
}

/// `pub static NAME: TY = VALUE;`
fn table(name: Ident, ty: syn::Type, value: Expr) -> Item {
    static_item(Vec::new(), name, ty, value)
}

/// `use ::qapi_support::input as qi;`
fn use_qi() -> Item {
    Item::Use(syn::ItemUse {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        use_token: Default::default(),
        leading_colon: Some(Default::default()),
        tree: syn::UseTree::Path(syn::UsePath {
            ident: format_ident!("qapi_support"),
            colon2_token: Default::default(),
            tree: Box::new(syn::UseTree::Rename(syn::UseRename {
                ident: format_ident!("input"),
                as_token: Default::default(),
                rename: format_ident!("qi"),
            })),
        }),
        semi_token: Default::default(),
    })
}

fn ident_expr(name: Ident) -> Expr {
    Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: name.into(),
    })
}

fn type_ident(id: EntityId) -> Ident {
    format_ident!("T{}", id.0)
}

fn object_ident(id: EntityId) -> Ident {
    format_ident!("O{}", id.0)
}
