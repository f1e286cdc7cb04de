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
//! values as `{"if": COND, "value": V}`).  Nothing here is Rust: the
//! Rust backend (`backend/rust/introspect.rs`) emits the list as static
//! data for a generated crate, with the argument-checking tables of
//! `qapi_support::input`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::check::ast::IfCond;
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
