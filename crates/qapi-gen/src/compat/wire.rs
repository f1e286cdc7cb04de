//! What a schema looks like on the wire: the commands and events, and the
//! shapes of the values they take and give — no type names (QEMU masks
//! them in `query-qmp-schema`), no conditions, no docs.  Built from a
//! checked [`Schema`] or from a `query-qmp-schema` reply, so that the diff
//! can compare any two of them.

use rustc_hash::FxHashMap;

use crate::model::{EntityId, EntityKind, Schema};

/// Where something is written: `FILE:LINE`, when known.
pub type Loc = Option<String>;

/// A type, by index into [`Wire::types`].
pub type TypeId = usize;

/// A member of an object.
#[derive(Debug, Clone)]
pub struct WireMember {
    /// Wire name.
    pub name: String,
    /// Whether it may be absent.
    pub optional: bool,
    /// Its type.
    pub ty: TypeId,
    /// Feature names.
    pub features: Vec<String>,
    /// Where it is declared.
    pub loc: Loc,
}

/// A type's wire shape.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A built-in, by JSON type (`int`, `number`, `str`, `bool`, `null`,
    /// `any`).
    Builtin(String),
    /// An enum: values with their features.
    Enum(Vec<(String, Vec<String>)>),
    /// An array of a type.
    Array(TypeId),
    /// An object: members (base first), and for a union the tag and its
    /// branches (`case`, object type).
    Object {
        /// Members, base first.
        members: Vec<WireMember>,
        /// The discriminator, for unions.
        tag: Option<String>,
        /// Union branches.
        variants: Vec<(String, TypeId)>,
    },
    /// An alternate: its alternatives.
    Alternate(Vec<TypeId>),
}

/// A type: its name where known (the schema's, or the masked name of an
/// introspection reply), shape, features and location.
#[derive(Debug, Clone)]
pub struct WireType {
    /// The name (for messages).
    pub name: String,
    /// Whether the name is real (a schema) or masked (introspection).
    pub named: bool,
    /// Its shape.
    pub shape: Shape,
    /// Feature names.
    pub features: Vec<String>,
    /// Where it is defined.
    pub loc: Loc,
}

/// A command or event.
#[derive(Debug, Clone)]
pub struct WireEntry {
    /// Its arguments (`arg-type`); none is the empty object, as
    /// introspection shows it.
    pub arg: TypeId,
    /// Its return type (`ret-type`; commands only, the empty object when
    /// it returns nothing).
    pub ret: Option<TypeId>,
    /// Feature names.
    pub features: Vec<String>,
    /// Where it is defined.
    pub loc: Loc,
}

/// A schema as the wire sees it.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    /// Every type reachable from a command or event.
    pub types: Vec<WireType>,
    /// Commands by name, in schema order.
    pub commands: Vec<(String, WireEntry)>,
    /// Events by name, in schema order.
    pub events: Vec<(String, WireEntry)>,
    /// The QEMU release a schema was read as, for reports.
    pub release: Option<String>,
    /// The empty object type, once made (see [`Wire::empty`]).
    empty: Option<TypeId>,
}

impl Wire {
    /// The empty object type (made on first use): what introspection shows
    /// for no arguments and no return value.
    fn empty(&mut self) -> TypeId {
        if let Some(i) = self.empty {
            return i;
        }
        self.types.push(WireType {
            name: "q_empty".into(),
            named: false,
            shape: Shape::Object {
                members: Vec::new(),
                tag: None,
                variants: Vec::new(),
            },
            features: Vec::new(),
            loc: None,
        });
        self.empty = Some(self.types.len() - 1);
        self.types.len() - 1
    }

    /// The wire view of a checked schema.
    pub fn from_schema(schema: &Schema) -> Wire {
        let mut b = FromSchema {
            s: schema,
            ids: FxHashMap::default(),
            wire: Wire {
                release: Some(schema.rules.release.to_string()),
                ..Wire::default()
            },
        };
        for (id, e) in schema.definitions() {
            let (arg, ret, is_cmd) = match &e.kind {
                EntityKind::Command(c) => (c.arg_type, c.ret_type, true),
                EntityKind::Event(ev) => (ev.arg_type, None, false),
                _ => continue,
            };
            let arg = match arg {
                Some(t) => b.ty(t),
                None => b.wire.empty(),
            };
            let ret = match (ret, is_cmd) {
                (Some(t), _) => Some(b.ty(t)),
                (None, true) => Some(b.wire.empty()),
                (None, false) => None,
            };
            let entry = WireEntry {
                arg,
                ret,
                features: e.features.iter().map(|f| f.name.to_string()).collect(),
                loc: b.loc_of(id),
            };
            let list = if is_cmd {
                &mut b.wire.commands
            } else {
                &mut b.wire.events
            };
            list.push((e.name.to_string(), entry));
        }
        b.wire
    }

    /// The wire view of a `query-qmp-schema` reply: `{"return": [...]}` or
    /// the bare list.
    pub fn from_introspection(reply: &serde_json::Value) -> Result<Wire, String> {
        let list = match reply {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Object(o) => match o.get("return") {
                Some(serde_json::Value::Array(a)) => a,
                _ => return Err("expected {\"return\": [...]} or a list of SchemaInfo".into()),
            },
            _ => return Err("expected {\"return\": [...]} or a list of SchemaInfo".into()),
        };
        let mut index: FxHashMap<&str, &serde_json::Map<String, serde_json::Value>> =
            FxHashMap::default();
        for item in list {
            let Some(o) = item.as_object() else {
                return Err("a SchemaInfo entry is not an object".into());
            };
            let Some(name) = o.get("name").and_then(|n| n.as_str()) else {
                return Err("a SchemaInfo entry has no name".into());
            };
            index.insert(name, o);
        }
        let mut b = FromIntro {
            index,
            ids: FxHashMap::default(),
            wire: Wire::default(),
        };
        for item in list {
            let o = item.as_object().expect("checked above");
            let name = o["name"].as_str().expect("checked above");
            let meta = o.get("meta-type").and_then(|m| m.as_str()).unwrap_or("");
            if meta != "command" && meta != "event" {
                continue;
            }
            let arg = match o.get("arg-type").and_then(|t| t.as_str()) {
                Some(t) => b.ty(t)?,
                None => b.wire.empty(),
            };
            let ret = match o.get("ret-type").and_then(|t| t.as_str()) {
                Some(t) => Some(b.ty(t)?),
                None if meta == "command" => Some(b.wire.empty()),
                None => None,
            };
            let entry = WireEntry {
                arg,
                ret,
                features: features_of(o),
                loc: None,
            };
            if meta == "command" {
                b.wire.commands.push((name.to_string(), entry));
            } else {
                b.wire.events.push((name.to_string(), entry));
            }
        }
        Ok(b.wire)
    }
}

/// A built-in's JSON type as the diff names it (`str`, `int`, `number`,
/// `bool`, `null`, `any`).
fn json_kind(json_type: &str) -> String {
    match json_type {
        "string" => "str",
        "boolean" => "bool",
        "value" => "any",
        other => other,
    }
    .to_string()
}

fn features_of(o: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    o.get("features")
        .and_then(|f| f.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

struct FromSchema<'a> {
    s: &'a Schema,
    ids: FxHashMap<EntityId, TypeId>,
    wire: Wire,
}

impl FromSchema<'_> {
    fn loc(&self, span_line: Option<(crate::source::FileId, u32)>) -> Loc {
        let (file, line) = span_line?;
        Some(format!("{}:{line}", self.s.sources.file(file).name))
    }

    fn loc_of(&self, id: EntityId) -> Loc {
        let e = self.s.entity(id);
        let at = e
            .span
            .map(|sp| sp.info)
            .or(e.info)
            .map(|i| (i.file, i.line));
        self.loc(at)
    }

    fn ty(&mut self, id: EntityId) -> TypeId {
        if let Some(t) = self.ids.get(&id) {
            return *t;
        }
        let e = self.s.entity(id);
        let slot = self.wire.types.len();
        self.ids.insert(id, slot);
        self.wire.types.push(WireType {
            name: e.name.to_string(),
            named: true,
            shape: Shape::Builtin(String::new()),
            features: e.features.iter().map(|f| f.name.to_string()).collect(),
            loc: self.loc_of(id),
        });
        let shape = match &e.kind {
            EntityKind::Builtin { json_type } => Shape::Builtin(json_kind(json_type)),
            EntityKind::Enum { members, .. } => Shape::Enum(
                members
                    .iter()
                    .map(|m| {
                        (
                            m.name.to_string(),
                            m.features.iter().map(|f| f.name.to_string()).collect(),
                        )
                    })
                    .collect(),
            ),
            EntityKind::Array { element, .. } => {
                let el = element.expect("checked schemas resolve array elements");
                Shape::Array(self.ty(el))
            }
            EntityKind::Object(o) => {
                let members = self
                    .s
                    .members(id)
                    .into_iter()
                    .map(|m| (m.clone(), m.type_id()))
                    .collect::<Vec<_>>();
                let members = members
                    .into_iter()
                    .map(|(m, t)| WireMember {
                        name: m.name.to_string(),
                        optional: m.optional,
                        ty: self.ty(t),
                        features: m.features.iter().map(|f| f.name.to_string()).collect(),
                        loc: self.loc(
                            m.span
                                .map(|sp| sp.info)
                                .or(m.info)
                                .map(|i| (i.file, i.line)),
                        ),
                    })
                    .collect();
                let (tag, variants) = match &o.branches {
                    Some(b) => (
                        Some(b.tag_name.to_string()),
                        b.variants
                            .iter()
                            .map(|v| (v.name.to_string(), v.type_id()))
                            .collect::<Vec<_>>(),
                    ),
                    None => (None, Vec::new()),
                };
                let variants = variants.into_iter().map(|(n, t)| (n, self.ty(t))).collect();
                Shape::Object {
                    members,
                    tag,
                    variants,
                }
            }
            EntityKind::Alternate { variants, .. } => {
                let ts: Vec<EntityId> = variants.iter().map(|v| v.type_id()).collect();
                Shape::Alternate(ts.into_iter().map(|t| self.ty(t)).collect())
            }
            _ => Shape::Builtin("any".into()),
        };
        self.wire.types[slot].shape = shape;
        slot
    }
}

struct FromIntro<'a> {
    index: FxHashMap<&'a str, &'a serde_json::Map<String, serde_json::Value>>,
    ids: FxHashMap<String, TypeId>,
    wire: Wire,
}

impl FromIntro<'_> {
    fn ty(&mut self, name: &str) -> Result<TypeId, String> {
        if let Some(t) = self.ids.get(name) {
            return Ok(*t);
        }
        let Some(o) = self.index.get(name).copied() else {
            return Err(format!("type '{name}' is used but not in the reply"));
        };
        let slot = self.wire.types.len();
        self.ids.insert(name.to_string(), slot);
        self.wire.types.push(WireType {
            name: name.to_string(),
            named: false,
            shape: Shape::Builtin(String::new()),
            features: features_of(o),
            loc: None,
        });
        let s = |k: &str| o.get(k).and_then(|v| v.as_str());
        let shape = match s("meta-type").unwrap_or("") {
            "builtin" => Shape::Builtin(json_kind(s("json-type").unwrap_or("value"))),
            "enum" => {
                let mut values = Vec::new();
                if let Some(ms) = o.get("members").and_then(|m| m.as_array()) {
                    for m in ms {
                        let mo = m.as_object();
                        let n = mo.and_then(|m| m.get("name")).and_then(|n| n.as_str());
                        if let Some(n) = n {
                            values.push((n.to_string(), mo.map(features_of).unwrap_or_default()));
                        }
                    }
                } else if let Some(vs) = o.get("values").and_then(|m| m.as_array()) {
                    for v in vs.iter().filter_map(|v| v.as_str()) {
                        values.push((v.to_string(), Vec::new()));
                    }
                }
                Shape::Enum(values)
            }
            "array" => Shape::Array(self.ty(s("element-type").unwrap_or(""))?),
            "object" => {
                let mut members = Vec::new();
                for m in o
                    .get("members")
                    .and_then(|m| m.as_array())
                    .into_iter()
                    .flatten()
                {
                    let Some(mo) = m.as_object() else { continue };
                    let (Some(n), Some(t)) = (
                        mo.get("name").and_then(|n| n.as_str()),
                        mo.get("type").and_then(|n| n.as_str()),
                    ) else {
                        continue;
                    };
                    members.push(WireMember {
                        name: n.to_string(),
                        optional: mo.contains_key("default"),
                        ty: self.ty(t)?,
                        features: features_of(mo),
                        loc: None,
                    });
                }
                let mut variants = Vec::new();
                for v in o
                    .get("variants")
                    .and_then(|m| m.as_array())
                    .into_iter()
                    .flatten()
                {
                    let Some(vo) = v.as_object() else { continue };
                    if let (Some(c), Some(t)) = (
                        vo.get("case").and_then(|n| n.as_str()),
                        vo.get("type").and_then(|n| n.as_str()),
                    ) {
                        variants.push((c.to_string(), self.ty(t)?));
                    }
                }
                Shape::Object {
                    members,
                    tag: s("tag").map(str::to_string),
                    variants,
                }
            }
            "alternate" => {
                let mut ts = Vec::new();
                for m in o
                    .get("members")
                    .and_then(|m| m.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(t) = m.get("type").and_then(|t| t.as_str()) {
                        ts.push(self.ty(t)?);
                    }
                }
                Shape::Alternate(ts)
            }
            other => return Err(format!("type '{name}' has meta-type '{other}'")),
        };
        self.wire.types[slot].shape = shape;
        Ok(slot)
    }
}
