//! Stages 3–6: the checked schema model.
//!
//! [`Schema`] holds every entity in QEMU's definition order — built-in
//! types, the implicit types QEMU creates (`q_empty`, `QType`, `XList`
//! arrays, `q_obj_CMD-arg`, `q_obj_UNION-base`) and the user's definitions —
//! with every type reference resolved, object members flattened (base
//! members first, each knowing which type defined it), union branches
//! completed with the implicit `q_empty` ones, doc blocks connected, and
//! each entity placed in its module.  A backend walks it and re-derives
//! nothing.

mod build;
mod check;
pub mod merge;

use crate::check::ast::IfCond;
use crate::parse::{Doc, Name, Pragma};
use crate::source::{Info, SourceMap, Span};

pub use build::build_schema;

/// Index of an entity in [`Schema::entities`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(pub u32);

/// Index of a module in [`Schema::modules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(pub u32);

/// The checked schema.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Every entity, in definition order (includes too).
    pub entities: Vec<Entity>,
    /// Modules in QEMU's order: `./builtin`, the root file, then included
    /// files in order of their first include.
    pub modules: Vec<Module>,
    /// Every doc block, in source order.
    pub docs: Vec<Doc>,
    /// The pragmas in force.
    pub pragma: Pragma,
    /// Every distinct feature name, in order of first use (`deprecated` and
    /// `unstable` first).
    pub feature_names: Vec<String>,
    /// The files read.
    pub sources: SourceMap,
    /// The root file as given.
    pub root: String,
    /// The rules of the QEMU release the schema was read as.
    pub rules: crate::release::Rules,
    /// How that release was chosen.
    pub release_source: crate::release::ReleaseSource,
    /// The release whose rules it was read with.
    pub release: crate::release::Release,
    /// For a schema merged from several releases ([`merge::merge`]): which
    /// release has which entity, member, value and branch.
    pub range: Option<Box<merge::Range>>,
    index: rustc_hash::FxHashMap<Name, EntityId>,
}

/// A module: one schema file, or `./builtin`.
#[derive(Debug, Clone)]
pub struct Module {
    /// Path relative to the root file's directory (QEMU's module name).
    pub name: String,
    /// The file's path as read (None for `./builtin`).
    pub path: Option<String>,
    /// Its entities, in definition order.
    pub entities: Vec<EntityId>,
}

/// One entity of the schema.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Its name (empty for include directives).
    pub name: Name,
    /// Where it is defined; for implicit types, where first used; `None`
    /// for built-ins.
    pub info: Option<Info>,
    /// Where its name is written (`None` for built-ins, implicit types
    /// and includes).
    pub span: Option<Span>,
    /// Its doc block (index into [`Schema::docs`]).
    pub doc: Option<usize>,
    /// Its condition (arrays: their element's; implicit types: their user's).
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// The module it belongs to.
    pub module: ModuleId,
    /// What it is.
    pub kind: EntityKind,
}

/// Where a description lives: a section of a doc block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocRef {
    /// Index into [`Schema::docs`].
    pub doc: u32,
    /// Section index within that doc ([`Doc::section`]).
    pub section: u32,
}

/// A feature of a definition, member or enum value.
#[derive(Debug, Clone)]
pub struct Feature {
    /// Its name.
    pub name: Name,
    /// Where it is declared.
    pub info: Option<Info>,
    /// Where its name is written.
    pub span: Option<Span>,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its description in the doc block ([`Schema::doc_text`]).
    pub doc: Option<DocRef>,
}

impl Feature {
    /// `deprecated` and `unstable` are special (QEMU acts on them).
    pub fn is_special(&self) -> bool {
        &*self.name == "deprecated" || &*self.name == "unstable"
    }
}

/// What role a member plays, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An object member.
    Member,
    /// An enum value.
    Value,
    /// A union branch or alternate alternative.
    Branch,
    /// A feature.
    Feature,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Value => "value",
            Role::Branch => "branch",
            Role::Feature => "feature",
        }
    }
}

/// An object member, union branch or alternate alternative.
#[derive(Debug, Clone)]
pub struct Member {
    /// Wire name.
    pub name: Name,
    /// Where declared.
    pub info: Option<Info>,
    /// Where its name is written (`None` for implicit branches and an
    /// alternate's tag).
    pub span: Option<Span>,
    /// Type name as written (arrays already named `XList`).
    pub type_name: Name,
    /// The resolved type.
    pub ty: Option<EntityId>,
    /// Whether it is optional (`*name`).
    pub optional: bool,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Name of the type that declares it.
    pub defined_in: Name,
    /// Member or branch.
    pub role: Role,
    /// Its description in the doc block ([`Schema::doc_text`]).
    pub doc: Option<DocRef>,
}

impl Member {
    /// The resolved type (always set once the schema is checked).
    pub fn type_id(&self) -> EntityId {
        self.ty.expect("member types are resolved by the checks")
    }
}

/// An enum value.
#[derive(Debug, Clone)]
pub struct EnumMember {
    /// The value.
    pub name: Name,
    /// Where declared.
    pub info: Option<Info>,
    /// Where it is written (`None` for built-in enums).
    pub span: Option<Span>,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<Feature>,
    /// Its description in the doc block ([`Schema::doc_text`]).
    pub doc: Option<DocRef>,
}

/// A union's branches.
#[derive(Debug, Clone)]
pub struct Branches {
    /// The discriminator's name.
    pub tag_name: Name,
    /// The discriminator member (set by the checks).
    pub tag_member: Option<Member>,
    /// Branches: explicit ones, then implicit `q_empty` ones in enum order.
    pub variants: Vec<Member>,
}

/// An object type (struct, union, or implicit `q_obj_*`/`q_empty`).
#[derive(Debug, Clone)]
pub struct ObjectType {
    /// Base type name.
    pub base_name: Option<Name>,
    /// Resolved base.
    pub base: Option<EntityId>,
    /// Members declared here.  All members, base first, are
    /// [`Schema::members`].
    pub local_members: Vec<Member>,
    /// Union branches.
    pub branches: Option<Branches>,
    state: CheckState,
}

/// Where an object is in its check (QEMU detects `contains itself` by
/// meeting an object that is being checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum CheckState {
    #[default]
    Unchecked,
    Checking,
    Checked,
}

/// A command.
#[derive(Debug, Clone)]
pub struct Command {
    /// Argument type name.
    pub arg_type_name: Option<Name>,
    /// Resolved argument type.
    pub arg_type: Option<EntityId>,
    /// Return type name.
    pub ret_type_name: Option<Name>,
    /// Resolved return type.
    pub ret_type: Option<EntityId>,
    /// `gen`.
    pub gen: bool,
    /// `success-response`.
    pub success_response: bool,
    /// `boxed`.
    pub boxed: bool,
    /// `allow-oob`.
    pub allow_oob: bool,
    /// `allow-preconfig`.
    pub allow_preconfig: bool,
    /// `coroutine`.
    pub coroutine: bool,
}

/// An event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Data type name.
    pub arg_type_name: Option<Name>,
    /// Resolved data type.
    pub arg_type: Option<EntityId>,
    /// `boxed`.
    pub boxed: bool,
}

/// What an entity is.
#[derive(Debug, Clone)]
pub enum EntityKind {
    /// An `include` directive, kept for the module structure.
    Include {
        /// The included module.
        module: ModuleId,
    },
    /// A built-in type.
    Builtin {
        /// Its JSON type: `string`, `number`, `int`, `boolean`, `null`, `value`.
        json_type: &'static str,
    },
    /// An enum.
    Enum {
        /// Values in order.
        members: Vec<EnumMember>,
        /// C constant prefix.
        prefix: Option<Name>,
    },
    /// An array type `XList`.
    Array {
        /// Element type name.
        element_name: Name,
        /// Resolved element type.
        element: Option<EntityId>,
    },
    /// A struct or union.
    Object(ObjectType),
    /// An alternate.
    Alternate {
        /// The implicit tag member `type: QType`.
        tag_member: Member,
        /// Alternatives.
        variants: Vec<Member>,
        /// Not a schema's alternate but the forms one member took across
        /// the releases of range bindings ([`merge`]): the alternatives
        /// may share a JSON type, and a value takes the first that
        /// decodes it, newest first.
        forms: bool,
    },
    /// A command.
    Command(Command),
    /// An event.
    Event(Event),
}

impl Entity {
    /// `built-in`, `enum`, `array`, `struct`, `union`, `alternate`,
    /// `command`, `event` (or `include`).
    pub fn meta(&self) -> &'static str {
        match &self.kind {
            EntityKind::Include { .. } => "include",
            EntityKind::Builtin { .. } => "built-in",
            EntityKind::Enum { .. } => "enum",
            EntityKind::Array { .. } => "array",
            EntityKind::Object(o) => {
                if o.branches.is_some() {
                    "union"
                } else {
                    "struct"
                }
            }
            EntityKind::Alternate { .. } => "alternate",
            EntityKind::Command(_) => "command",
            EntityKind::Event(_) => "event",
        }
    }

    /// Whether this is a type (something a member can have).
    pub fn is_type(&self) -> bool {
        !matches!(
            self.kind,
            EntityKind::Include { .. } | EntityKind::Command(_) | EntityKind::Event(_)
        )
    }

    /// Whether QEMU created this type itself (`q_empty`, `q_obj_*`, `QType`,
    /// arrays, built-ins).
    pub fn is_implicit(&self) -> bool {
        match &self.kind {
            EntityKind::Object(_) => self.name.starts_with("q_"),
            EntityKind::Enum { .. } => &*self.name == "QType",
            EntityKind::Array { .. } | EntityKind::Builtin { .. } => true,
            _ => self.info.is_none(),
        }
    }

    /// QEMU's `describe()`: `struct type 'Foo'`, `array type ['int']`,
    /// `command 'bar'`, ...
    pub fn describe(&self) -> String {
        match &self.kind {
            EntityKind::Array { element_name, .. } => format!("array type ['{element_name}']"),
            EntityKind::Command(_) | EntityKind::Event(_) | EntityKind::Include { .. } => {
                format!("{} '{}'", self.meta(), self.name)
            }
            _ => format!("{} type '{}'", self.meta(), self.name),
        }
    }

    /// The JSON type of values of this type, as QEMU's introspection names
    /// it (`string`, `int`, `object`, `array`, `value`, ...).
    pub fn json_type(&self) -> Option<&'static str> {
        Some(match &self.kind {
            EntityKind::Builtin { json_type } => json_type,
            EntityKind::Enum { .. } => "string",
            EntityKind::Array { .. } => "array",
            EntityKind::Object(_) => "object",
            EntityKind::Alternate { .. } => "value",
            _ => return None,
        })
    }

    /// The QType a value of this type has on the wire, as an alternate
    /// tells its branches apart (QEMU's `alternate_qtype`); `None` for
    /// `any` and alternates, which an alternate cannot use.
    pub fn alternate_qtype(&self) -> Option<&'static str> {
        Some(match self.json_type()? {
            "null" => "QTYPE_QNULL",
            "string" => "QTYPE_QSTRING",
            "number" | "int" => "QTYPE_QNUM",
            "boolean" => "QTYPE_QBOOL",
            "array" => "QTYPE_QLIST",
            "object" => "QTYPE_QDICT",
            _ => return None,
        })
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&ObjectType> {
        match &self.kind {
            EntityKind::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The C name QEMU uses for this entity.
    pub fn c_name(&self) -> String {
        match self.kind {
            EntityKind::Builtin { .. } => self.name.to_string(),
            _ => crate::check::names::c_name(&self.name, true),
        }
    }
}

impl Schema {
    /// The entity called `name`.
    pub fn lookup(&self, name: &str) -> Option<EntityId> {
        self.index.get(name).copied()
    }

    /// The entity behind an id.
    pub fn entity(&self, id: EntityId) -> &Entity {
        &self.entities[id.0 as usize]
    }

    /// User-visible definitions (no includes, built-ins or implicit types).
    pub fn definitions(&self) -> impl Iterator<Item = (EntityId, &Entity)> {
        self.entities
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.info.is_some()
                    && !e.is_implicit()
                    && !matches!(e.kind, EntityKind::Include { .. })
            })
            .map(|(i, e)| (EntityId(i as u32), e))
    }

    /// All members of an object, base members first (each knows the type
    /// that declares it in `defined_in`).  Empty for non-objects.
    pub fn members(&self, id: EntityId) -> Vec<&Member> {
        let mut chain = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            let Some(o) = self.entity(c).as_object() else {
                break;
            };
            chain.push(o);
            cur = o.base;
            if chain.len() > self.entities.len() {
                break;
            }
        }
        chain
            .iter()
            .rev()
            .flat_map(|o| o.local_members.iter())
            .collect()
    }

    /// The text of a description.
    pub fn doc_text(&self, r: DocRef) -> &str {
        &self.docs[r.doc as usize].section(r.section as usize).text
    }

    /// The description of a member, branch, value or feature, if it has a
    /// non-empty one.
    pub fn describe_doc(&self, r: Option<DocRef>) -> Option<&str> {
        r.map(|r| self.doc_text(r)).filter(|t| !t.is_empty())
    }

    /// The doc block of an entity.
    pub fn doc_of(&self, id: EntityId) -> Option<&Doc> {
        self.entity(id).doc.map(|d| &self.docs[d])
    }

    /// The version in an entity's `Since:` section, e.g. `2.9` (see
    /// [`crate::since::section_version`]).
    pub fn since_of(&self, id: EntityId) -> Option<String> {
        crate::since::section_version(&self.doc_of(id)?.since()?.text)
    }
}

/// The version a member description gives as `(since X.Y)`, read as
/// `doc-check` reads it ([`crate::since::description_version`]).
pub fn since_in_text(text: &str) -> Option<String> {
    crate::since::description_version(text)
}
