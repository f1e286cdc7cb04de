//! The Rust backend: the checked [`Schema`] → Rust items (token streams),
//! one module per schema file plus root items (the event enum, the command
//! handler trait and its dispatcher).
//!
//! Data flow: [`generate`] names every entity first (so that a name that
//! clashes after mangling is reported before anything is emitted), finds
//! the types that contain themselves (those members are boxed), then
//! emits each module's definitions in schema order.  [`super::package`]
//! formats the result and lays it out as files.
//!
//! Shape of the output, per QAPI kind:
//! * enum → `enum` with serde renames, `as_str`, `FromStr`, `Display`, `ALL`;
//! * struct → `struct` (base members first), optional members `Option`
//!   left out when `None`, a `new` taking the required members;
//! * union → an internally tagged `enum` (`#[serde(tag = ...)]`) when the
//!   base has only the discriminator, else a `struct` holding the base
//!   members and the branch `enum` flattened into it as `u`;
//! * alternate → `enum` whose `Deserialize` picks the branch by JSON type,
//!   as QEMU does;
//! * command → a struct of its arguments implementing
//!   `qapi_support::Command`, a method of the `QmpHandler` trait, an arm of
//!   `dispatch`;
//! * event → a variant of the one `Event` enum (adjacently tagged
//!   `event`/`data`) and a struct of its data.

mod commands;
pub(crate) mod syntax;
mod types;

use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::{Ident, Span};
use quote::{format_ident, quote};

use super::cond::{Cond, Conditions};
use super::docs::to_markdown;
use super::naming;
use crate::error::Error;
use crate::model::{DocRef, Entity, EntityId, EntityKind, Feature, Schema};

/// What to generate, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// How `if` conditions become Rust.
    pub conditions: Conditions,
    /// Put each module behind a cargo feature of its name.
    pub module_features: bool,
    /// Give every enum an `Unknown(String)` variant that catches values a
    /// newer QEMU may send (the enum is then not `Copy`).
    pub unknown_enum_values: bool,
    /// Required members (`"Type.member"`) that decode as their default when
    /// absent: for members a schema adds that real QEMU does not send.
    pub absent_as_default: Vec<String>,
    /// Emit introspection data, the argument checker, the handler trait
    /// and the dispatcher (the server side).
    pub server: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            conditions: Conditions::default(),
            module_features: false,
            unknown_enum_values: false,
            absent_as_default: Vec::new(),
            server: true,
        }
    }
}

impl Options {
    /// Checks the options against the schema: every `absent_as_default`
    /// entry must name a required member of an object type (a name that
    /// matches nothing would otherwise be ignored without a word).
    pub fn check(&self, schema: &Schema) -> Result<(), Error> {
        for entry in &self.absent_as_default {
            let Some((ty, member)) = entry.split_once('.') else {
                return Err(Error::bare(format!(
                    "absent-as-default '{entry}': expected TYPE.MEMBER, e.g. \
                     CpuModelExpansionInfo.static"
                )));
            };
            let found = schema
                .lookup(ty)
                .filter(|id| schema.entity(*id).as_object().is_some())
                .map(|id| schema.members(id).into_iter().find(|m| &*m.name == member));
            match found {
                None => {
                    return Err(Error::bare(format!(
                        "absent-as-default '{entry}': the schema has no struct or union '{ty}'"
                    )))
                }
                Some(None) => {
                    return Err(Error::bare(format!(
                        "absent-as-default '{entry}': '{ty}' has no member '{member}'"
                    )))
                }
                Some(Some(m)) if m.optional => {
                    return Err(Error::bare(format!(
                        "absent-as-default '{entry}': the member is optional already"
                    )))
                }
                Some(Some(_)) => {}
            }
        }
        Ok(())
    }
}

/// One generated module.
#[derive(Clone)]
pub struct Module {
    /// Its Rust name (`machine_target`).
    pub ident: String,
    /// The schema file it comes from (QEMU's module name).
    pub file: String,
    /// The cargo feature that switches it on (its name in kebab case).
    pub feature: String,
    /// Modules whose types it uses (by `ident`), transitively closed.
    pub deps: Vec<String>,
    /// Its items.
    pub items: Vec<syn::Item>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("ident", &self.ident)
            .field("file", &self.file)
            .field("feature", &self.feature)
            .field("deps", &self.deps)
            .field("items", &self.items.len())
            .finish()
    }
}

/// The backend's result.
#[derive(Clone)]
pub struct Output {
    /// Modules in schema order (empty ones left out).
    pub modules: Vec<Module>,
    /// Items of the root module: the event enum, handler, dispatcher,
    /// introspection.
    pub root: Vec<syn::Item>,
    /// Cargo features that `if` conditions refer to (`Cfg` mode).
    pub cond_features: BTreeSet<String>,
    /// The doc blocks the items' doc placeholders stand for (see
    /// [`syntax::doc_placeholder`]); pass them to
    /// [`super::package::format_items`].
    pub docs: Vec<String>,
}

/// The Rust name of every named definition: `(meta, QAPI name, Rust
/// name)` in definition order (an event's is its `Event` variant).  A name
/// depends only on the definition's own name and kind, so an entity
/// present in two releases has the same Rust name in both.
pub fn rust_names(
    schema: &Schema,
    opts: &Options,
) -> Result<Vec<(&'static str, String, String)>, Error> {
    let g = Gen::new(schema, opts)?;
    Ok(schema
        .definitions()
        .filter_map(|(id, e)| match &g.names[id.0 as usize] {
            RustName::Item(n) => Some((e.meta(), e.name.to_string(), n.clone())),
            RustName::None => None,
        })
        .collect())
}

/// Generates Rust for `schema`.
pub fn generate(schema: &Schema, opts: &Options) -> Result<Output, Error> {
    let mut g = Gen::new(schema, opts)?;
    g.run()
}

/// A piece of the output that can be generated on its own, on any thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The items of one schema module (index into `Schema::modules`).
    Module(usize),
    /// The root items: `Event`, `QmpHandler`, `dispatch`, `COMMANDS`.
    Root,
    /// Introspection data, `SCHEMA_INFO` (server side only).
    SchemaInfo,
    /// The argument checker and its tables (server side only).
    Arguments,
}

impl Part {
    /// Where the part goes in the output: the modules in schema order,
    /// then the root items, `SCHEMA_INFO` and the argument tables.
    pub fn output_rank(self) -> (u8, usize) {
        match self {
            Part::Module(mi) => (0, mi),
            Part::Root => (1, 0),
            Part::SchemaInfo => (2, 0),
            Part::Arguments => (3, 0),
        }
    }
}

/// The backend after naming, ready to generate any [`Part`]: shared by
/// worker threads, each generating and formatting parts of its own.
pub struct Prepared<'a> {
    gen: Gen<'a>,
}

impl<'a> Prepared<'a> {
    /// Names everything and reports clashes.
    pub fn new(schema: &'a Schema, opts: &'a Options) -> Result<Self, Error> {
        Ok(Prepared {
            gen: Gen::new(schema, opts)?,
        })
    }

    /// The parts, biggest first (so that parallel workers finish together).
    pub fn parts(&self) -> Vec<Part> {
        let s = self.gen.schema;
        let mut parts: Vec<(usize, Part)> = (0..s.modules.len())
            .filter(|mi| self.gen.module_index[*mi].is_some())
            .map(|mi| (s.modules[mi].entities.len(), Part::Module(mi)))
            .collect();
        let commands = s
            .entities
            .iter()
            .filter(|e| matches!(e.kind, EntityKind::Command(_) | EntityKind::Event(_)))
            .count();
        parts.push((commands * 2, Part::Root));
        if self.gen.server {
            parts.push((s.entities.len() / 2, Part::SchemaInfo));
            parts.push((s.entities.len() / 2, Part::Arguments));
        }
        parts.sort_by_key(|p| std::cmp::Reverse(p.0));
        parts.into_iter().map(|(_, p)| p).collect()
    }

    /// Generates one part: its items, the doc blocks their placeholders
    /// stand for, and for a module its description (whose `deps` are
    /// direct; see [`close_module_deps`]).
    pub fn part(&self, part: Part) -> Result<PartOutput, Error> {
        let mut g = self.gen.clone();
        let (items, module) = match part {
            Part::Module(mi) => match g.module(mi)? {
                Some(mut m) => (std::mem::take(&mut m.items), Some(m)),
                None => (Vec::new(), None),
            },
            Part::Root => {
                g.cur_module = usize::MAX;
                (commands::root_items(&mut g)?, None)
            }
            Part::SchemaInfo => (
                crate::backend::introspect::schema_info_items(g.schema, &g.opts.conditions)?,
                None,
            ),
            Part::Arguments => (
                crate::backend::introspect::argument_items(g.schema, &g.opts.conditions)?,
                None,
            ),
        };
        Ok(PartOutput {
            items,
            docs: g.docs,
            module,
        })
    }

    /// Cargo features that `if` conditions refer to.
    pub fn cond_features(&self) -> BTreeSet<String> {
        self.gen.cond_features()
    }
}

/// One generated [`Part`].
pub struct PartOutput {
    /// Its items.
    pub items: Vec<syn::Item>,
    /// The doc blocks the items' doc placeholders stand for.
    pub docs: Vec<String>,
    /// For a module, its description.
    pub module: Option<Module>,
}

/// How an entity appears in Rust.
#[derive(Debug, Clone)]
enum RustName {
    /// Not a Rust item of its own (built-ins, arrays, includes, `q_empty`,
    /// union bases).
    None,
    /// A named item.
    Item(String),
}

#[derive(Clone)]
pub(crate) struct Gen<'a> {
    schema: &'a Schema,
    opts: &'a Options,
    /// Rust name per entity.
    names: Vec<RustName>,
    /// Output module index per schema module (None: not emitted).
    module_index: Vec<Option<usize>>,
    /// Idents of output modules.
    module_idents: Vec<String>,
    /// Strongly connected component per entity, for boxing.
    scc: Vec<u32>,
    /// The module being emitted.
    cur_module: usize,
    /// Modules referenced from the current one.
    cur_deps: BTreeSet<usize>,
    /// `"Type.member"` set from the options.
    absent_as_default: HashSet<String>,
    /// Name of the event data struct per event entity.
    event_data: HashMap<EntityId, String>,
    /// Prelude types a schema type shadows (spelled with full paths).
    shadowed: Vec<&'static str>,
    /// Doc blocks emitted so far, by placeholder index.
    docs: Vec<String>,
    /// Whether to emit the server side: asked for, and not range
    /// bindings (a union of releases is no QEMU's schema to serve).
    server: bool,
}

impl<'a> Gen<'a> {
    fn new(schema: &'a Schema, opts: &'a Options) -> Result<Self, Error> {
        let mut g = Gen {
            schema,
            opts,
            names: vec![RustName::None; schema.entities.len()],
            module_index: vec![None; schema.modules.len()],
            module_idents: Vec::new(),
            scc: Vec::new(),
            cur_module: 0,
            cur_deps: BTreeSet::new(),
            absent_as_default: opts.absent_as_default.iter().cloned().collect(),
            event_data: HashMap::new(),
            shadowed: Vec::new(),
            docs: Vec::new(),
            server: opts.server && schema.range.is_none(),
        };
        opts.check(schema)?;
        g.assign_modules();
        g.assign_names()?;
        g.check_part_names()?;
        g.scc = types::components(schema);
        Ok(g)
    }

    /// Reports two values, branches or alternatives of one type that
    /// become the same Rust variant (`x1` and `x-1` are both `X1`; QEMU
    /// only checks C names, where they differ), or a name the generated
    /// type needs for itself: the `ALL` constant of enums, the field `u`
    /// holding a union's branches.  Struct fields are checked
    /// as they are emitted ([`types::fields`]).
    fn check_part_names(&self) -> Result<(), Error> {
        let s = self.schema;
        for (i, e) in s.entities.iter().enumerate() {
            let id = EntityId(i as u32);
            type Parts<'s> = Vec<(&'s str, Option<crate::source::Info>)>;
            let (parts, what, reserved): (Parts, &str, &[(&str, &str)]) = match &e.kind {
                EntityKind::Enum { .. } if &*e.name == "QType" => continue,
                EntityKind::Enum { members, .. } => (
                    members.iter().map(|m| (&*m.name, m.info)).collect(),
                    "values",
                    // Open enums' catch-all avoids the values
                    // (`naming::catch_all_variant`).
                    if self.opts.unknown_enum_values {
                        &[]
                    } else {
                        &[("ALL", "the constant listing every value")]
                    },
                ),
                EntityKind::Object(o) if o.branches.is_some() && !e.is_implicit() => {
                    let b = o.branches.as_ref().expect("a union");
                    if let Some(m) = s
                        .members(id)
                        .into_iter()
                        .find(|m| m.name != b.tag_name && naming::field_name(&m.name) == "u")
                    {
                        if !self.union_is_enum(id) {
                            return Err(self.part_error(
                                id,
                                m.info,
                                &format!(
                                    "member '{}' of {} becomes Rust field 'u', the field that \
                                         holds its branches; rename it",
                                    m.name,
                                    e.describe()
                                ),
                            ));
                        }
                    }
                    (
                        b.variants.iter().map(|m| (&*m.name, m.info)).collect(),
                        "branches",
                        &[],
                    )
                }
                EntityKind::Alternate { variants, .. } => (
                    variants.iter().map(|m| (&*m.name, m.info)).collect(),
                    "alternatives",
                    &[],
                ),
                _ => continue,
            };
            let mut seen: HashMap<String, &str> = HashMap::new();
            for (name, info) in parts {
                let rust = naming::variant_name(name);
                let msg = if let Some((_, role)) = reserved.iter().find(|(r, _)| *r == rust) {
                    format!(
                        "value '{name}' of {} becomes Rust variant '{rust}', the name of {role}; \
                         rename it",
                        e.describe()
                    )
                } else if let Some(other) = seen.insert(rust.clone(), name) {
                    format!(
                        "{what} '{other}' and '{name}' of {} both become Rust variant \
                         '{rust}'; rename one of them",
                        e.describe()
                    )
                } else {
                    continue;
                };
                return Err(self.part_error(id, info, &msg));
            }
        }
        Ok(())
    }

    /// An error at `info`, else at the entity.
    fn part_error(&self, id: EntityId, info: Option<crate::source::Info>, msg: &str) -> Error {
        match info.or(self.schema.entity(id).info) {
            Some(info) => Error::at(&self.schema.sources, info, msg),
            None => Error::bare(msg),
        }
    }

    /// Gives each schema module with definitions an output module.
    fn assign_modules(&mut self) {
        let mut used: HashSet<String> = HashSet::new();
        for (mi, m) in self.schema.modules.iter().enumerate() {
            if m.path.is_none() {
                continue;
            }
            let has_items = m.entities.iter().any(|id| {
                let e = self.schema.entity(*id);
                !matches!(e.kind, EntityKind::Include { .. }) && !e.is_implicit()
            });
            if !has_items {
                continue;
            }
            let base = naming::module_name(&m.name);
            let mut ident = base.clone();
            let mut n = 2;
            while !used.insert(ident.clone()) || is_reserved_root_name(&ident) {
                ident = format!("{base}_{n}");
                n += 1;
            }
            self.module_index[mi] = Some(self.module_idents.len());
            self.module_idents.push(ident);
        }
    }

    /// Names every entity, and reports names that clash after mangling.
    fn assign_names(&mut self) -> Result<(), Error> {
        let s = self.schema;
        let mut taken: HashMap<String, EntityId> = HashMap::new();
        for fixed in ROOT_NAMES {
            taken.insert(fixed.to_string(), EntityId(u32::MAX));
        }
        // Types first: commands and events adapt to them, not the reverse.
        for (i, e) in s.entities.iter().enumerate() {
            let id = EntityId(i as u32);
            match &e.kind {
                EntityKind::Enum { .. } if &*e.name == "QType" => {}
                EntityKind::Enum { .. } | EntityKind::Alternate { .. } => {
                    self.claim(&mut taken, id, naming::type_name(&e.name))?;
                }
                EntityKind::Object(o) if !e.is_implicit() => {
                    self.claim(&mut taken, id, naming::type_name(&e.name))?;
                    if o.branches.is_some() && !self.union_is_enum(id) {
                        claim_extra(
                            &mut taken,
                            id,
                            format!("{}Branch", naming::type_name(&e.name)),
                        )
                        .map_err(|(name, other)| self.clash_error(id, other, &name))?;
                    }
                }
                _ => {}
            }
        }
        // Event variants live in the `Event` enum, a namespace of their
        // own: an event never renames a command or type (`STOP` is
        // `Event::Stop` and command `stop` is `Stop`), so a Rust name
        // depends only on the entity's own name and kind.
        let mut variants: HashMap<String, EntityId> = HashMap::new();
        for (i, e) in s.entities.iter().enumerate() {
            let id = EntityId(i as u32);
            match &e.kind {
                EntityKind::Command(_) => {
                    let mut name = naming::type_name(&e.name);
                    if taken.contains_key(&name) {
                        name.push_str("Command");
                    }
                    self.claim(&mut taken, id, name)?;
                }
                EntityKind::Event(ev) => {
                    let name = naming::event_name(&e.name);
                    if let Some(other) = variants.get(&name) {
                        return Err(self.clash_error(id, *other, &name));
                    }
                    variants.insert(name.clone(), id);
                    self.names[id.0 as usize] = RustName::Item(name.clone());
                    let implicit = ev
                        .arg_type
                        .is_some_and(|t| s.entity(t).is_implicit() && !ev.boxed);
                    if implicit {
                        let data = format!("{name}Event");
                        claim_extra(&mut taken, id, data.clone())
                            .map_err(|(name, other)| self.clash_error(id, other, &name))?;
                        self.event_data.insert(id, data);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn claim(
        &mut self,
        taken: &mut HashMap<String, EntityId>,
        id: EntityId,
        name: String,
    ) -> Result<(), Error> {
        if let Some((short, _)) = PRELUDE_TYPES.iter().find(|(n, _)| *n == name) {
            self.shadowed.push(short);
        }
        if let Some(other) = taken.get(&name) {
            return Err(self.clash_error(id, *other, &name));
        }
        taken.insert(name.clone(), id);
        self.names[id.0 as usize] = RustName::Item(name);
        Ok(())
    }

    fn clash_error(&self, id: EntityId, other: EntityId, name: &str) -> Error {
        let e = self.schema.entity(id);
        let msg = if other.0 == u32::MAX {
            format!(
                "{} becomes Rust item '{name}', a name the generated code needs for itself; rename it",
                e.describe()
            )
        } else {
            format!(
                "{} becomes Rust item '{name}', and so does {}; rename one of them",
                e.describe(),
                self.schema.entity(other).describe()
            )
        };
        match e.info {
            Some(info) => Error::at(&self.schema.sources, info, &msg),
            None => Error::bare(msg),
        }
    }

    /// Whether a union is emitted as a bare internally tagged enum (its
    /// base has no member besides the discriminator).
    fn union_is_enum(&self, id: EntityId) -> bool {
        let members = self.schema.members(id);
        members.len() == 1
    }

    /// The items of schema module `mi` (None when it has none).
    fn module(&mut self, mi: usize) -> Result<Option<Module>, Error> {
        let Some(out) = self.module_index[mi] else {
            return Ok(None);
        };
        let m = &self.schema.modules[mi];
        self.cur_module = out;
        self.cur_deps.clear();
        let mut items = Vec::new();
        for id in &m.entities {
            items.extend(self.entity_items(*id)?);
        }
        let deps = self
            .cur_deps
            .iter()
            .map(|d| self.module_idents[*d].clone())
            .collect();
        Ok(Some(Module {
            ident: self.module_idents[out].clone(),
            file: m.name.clone(),
            feature: self.module_idents[out].replace('_', "-"),
            deps,
            items,
        }))
    }

    fn cond_features(&self) -> BTreeSet<String> {
        let conds = self
            .schema
            .entities
            .iter()
            .flat_map(|e| self.conds_of(e))
            .collect::<Vec<_>>();
        self.opts.conditions.features(conds)
    }

    fn run(&mut self) -> Result<Output, Error> {
        let mut modules = Vec::new();
        for mi in 0..self.schema.modules.len() {
            modules.extend(self.module(mi)?);
        }
        close_module_deps(&mut modules);
        self.cur_module = usize::MAX;
        let mut root = commands::root_items(self)?;
        if self.server {
            root.extend(crate::backend::introspect::items(
                self.schema,
                &self.opts.conditions,
            )?);
        }
        Ok(Output {
            modules,
            root,
            cond_features: self.cond_features(),
            docs: std::mem::take(&mut self.docs),
        })
    }

    /// Every condition of an entity and its parts.
    fn conds_of<'e>(&self, e: &'e Entity) -> Vec<&'e crate::check::ast::IfCond> {
        let mut out: Vec<&crate::check::ast::IfCond> = Vec::new();
        out.extend(e.ifcond.as_ref());
        out.extend(e.features.iter().filter_map(|f| f.ifcond.as_ref()));
        match &e.kind {
            EntityKind::Enum { members, .. } => {
                out.extend(members.iter().filter_map(|m| m.ifcond.as_ref()))
            }
            EntityKind::Object(o) => {
                out.extend(o.local_members.iter().filter_map(|m| m.ifcond.as_ref()));
                if let Some(b) = &o.branches {
                    out.extend(b.variants.iter().filter_map(|m| m.ifcond.as_ref()));
                }
            }
            EntityKind::Alternate { variants, .. } => {
                out.extend(variants.iter().filter_map(|m| m.ifcond.as_ref()))
            }
            _ => {}
        }
        out
    }

    fn entity_items(&mut self, id: EntityId) -> Result<Vec<syn::Item>, Error> {
        let e = self.schema.entity(id);
        let cond = self.cond(e.ifcond.as_ref());
        if !cond.emitted() {
            return Ok(Vec::new());
        }
        match &e.kind {
            EntityKind::Enum { .. } if &*e.name == "QType" => Ok(Vec::new()),
            EntityKind::Enum { .. } => types::enum_items(self, id, &cond),
            EntityKind::Object(_) if e.is_implicit() => Ok(Vec::new()),
            EntityKind::Object(o) if o.branches.is_some() => types::union_items(self, id, &cond),
            EntityKind::Object(_) => types::struct_items(self, id, &cond),
            EntityKind::Alternate { .. } => types::alternate_items(self, id, &cond),
            EntityKind::Command(_) => commands::command_items(self, id, &cond),
            EntityKind::Event(_) => commands::event_data_items(self, id, &cond),
            _ => Ok(Vec::new()),
        }
    }

    /// Whether a schema type takes the name of prelude type `short`.
    pub(crate) fn is_shadowed(&self, short: &str) -> bool {
        self.shadowed.contains(&short)
    }

    /// A prelude type (`String`, `Vec`, `Box`, `Option`, `Result`): its
    /// short name, or its full path when a schema type shadows it.
    pub(crate) fn prelude_path(&self, short: &'static str) -> syn::Path {
        match PRELUDE_TYPES.iter().find(|(n, _)| *n == short) {
            Some((n, full)) if self.shadowed.contains(n) => syntax::path(full),
            _ => syntax::path(short),
        }
    }

    pub(crate) fn cond(&self, c: Option<&crate::check::ast::IfCond>) -> Cond {
        self.opts.conditions.eval(c)
    }

    /// The Rust name of a named entity.
    pub(crate) fn name_of(&self, id: EntityId) -> &str {
        match &self.names[id.0 as usize] {
            RustName::Item(n) => n,
            RustName::None => "",
        }
    }

    pub(crate) fn ident_of(&self, id: EntityId) -> Ident {
        ident(self.name_of(id))
    }

    /// A path to a named entity from the current module.
    fn path_to(&mut self, id: EntityId) -> syn::Path {
        let e = self.schema.entity(id);
        let name = self.ident_of(id);
        let target = self.module_index[e.module.0 as usize];
        let mut path = syn::Path {
            leading_colon: None,
            segments: Default::default(),
        };
        match target {
            Some(t) if t == self.cur_module => {}
            Some(t) if self.cur_module == usize::MAX => {
                path.segments.push(ident(&self.module_idents[t]).into());
            }
            Some(t) => {
                self.cur_deps.insert(t);
                path.segments
                    .push(Ident::new("super", Span::call_site()).into());
                path.segments.push(ident(&self.module_idents[t]).into());
            }
            None => {}
        }
        path.segments.push(name.into());
        path
    }

    /// The Rust type of values of entity `id`; `container` is the type
    /// that holds the value, for boxing recursive members.
    pub(crate) fn type_ref(&mut self, id: EntityId, container: Option<EntityId>) -> syn::Type {
        let e = self.schema.entity(id);
        let inner = match &e.kind {
            EntityKind::Builtin { .. } if &*e.name == "str" => {
                return syntax::path_ty(self.prelude_path("String"))
            }
            EntityKind::Builtin { .. } => return syntax::ty(builtin_type(&e.name)),
            EntityKind::Array { element, .. } => {
                let el = element.expect("array elements are resolved by the checks");
                let t = self.type_ref(el, None);
                return syntax::generic(self.prelude_path("Vec"), t);
            }
            EntityKind::Enum { .. } if &*e.name == "QType" => {
                return syntax::ty("::qapi_support::QType");
            }
            EntityKind::Object(_) if &*e.name == "q_empty" => {
                return syntax::ty("::qapi_support::Empty");
            }
            _ => syntax::path_ty(self.path_to(id)),
        };
        match container {
            Some(c) if self.scc[c.0 as usize] == self.scc[id.0 as usize] => {
                syntax::generic(self.prelude_path("Box"), inner)
            }
            _ => inner,
        }
    }

    /// Doc attributes for an entity: body, sections, features, Since.
    pub(crate) fn entity_docs(&mut self, id: EntityId) -> Vec<syn::Attribute> {
        let s = self.schema;
        let e = s.entity(id);
        let mut text = String::new();
        if let Some(doc) = s.doc_of(id) {
            let body = to_markdown(&doc.body().text);
            push_para(&mut text, &body);
            for sec in doc.sections() {
                use crate::parse::SectionKind as K;
                let label = match sec.kind {
                    K::Returns => Some("Returns"),
                    K::Errors => Some("Errors"),
                    K::Todo => Some("TODO"),
                    // `Note:`/`Notes:`, `Example:`/`Examples:` (before 9.1)
                    K::Note | K::Example => sec.tag,
                    K::Since => continue,
                    _ => None,
                };
                let md = match sec.kind {
                    K::Example => crate::backend::docs::example_to_markdown(&sec.text),
                    _ => to_markdown(&sec.text),
                };
                match label {
                    Some(l) if md.contains('\n') || sec.kind == K::Example => {
                        push_para(&mut text, &format!("**{l}:**\n\n{md}"))
                    }
                    Some(l) => push_para(&mut text, &format!("**{l}:** {md}")),
                    None => push_para(&mut text, &md),
                }
            }
            // 10.1 on: a command that returns something has a Returns
            // section even when its doc says nothing; name the type.
            if let (true, EntityKind::Command(c)) = (doc.has_returns_stub(), &e.kind) {
                if let Some(r) = c.ret_type {
                    let what = match &s.entity(r).kind {
                        EntityKind::Array { element_name, .. } => {
                            format!("a list of `{element_name}`")
                        }
                        _ => format!("`{}`", s.entity(r).name),
                    };
                    push_para(&mut text, &format!("**Returns:** {what}"));
                }
            }
        }
        if text.is_empty() {
            push_para(&mut text, &format!("The QAPI {} `{}`.", e.meta(), e.name));
        }
        push_features(&mut text, s, &e.features);
        if let Some(v) = s.since_of(id) {
            push_para(&mut text, &format!("Since: {v}"));
        }
        if let Some(r) = &s.range {
            let set = r.of_entity(id);
            let always = matches!(e.kind, EntityKind::Command(_) | EntityKind::Event(_));
            if always || set != r.all() {
                push_para(&mut text, &format!("Releases: {}.", r.describe(set)));
            }
        }
        self.doc_block(text)
    }

    /// Range bindings: what the releases say of member, value or branch
    /// `name` of `owner` (`Only in QEMU 8.0–10.2.`, where it was
    /// required, the other types it had); `None` for one release.
    pub(crate) fn range_note(&self, owner: EntityId, name: &str, optional: bool) -> Option<String> {
        let r = self.schema.range.as_ref()?;
        let p = r.of_part(owner, name)?;
        let whole = r.of_entity(owner);
        let mut out = Vec::new();
        let forms = matches!(
            self.schema.entity(owner).kind,
            EntityKind::Alternate { forms: true, .. }
        );
        if forms {
            out.push(format!("The form of {}.", r.describe(p.present)));
        } else if p.present != whole {
            out.push(match p.required {
                req if req.is_empty() => format!("Only in {}.", r.describe(p.present)),
                req if req == p.present => {
                    format!("Only in {}, where it is required.", r.describe(p.present))
                }
                req => format!(
                    "Only in {}; required in {}.",
                    r.describe(p.present),
                    r.describe(req)
                ),
            });
        } else if optional && !p.required.is_empty() {
            out.push(format!(
                "Required in {}; optional in the others.",
                r.describe(p.required)
            ));
        }
        for (ty, set) in &p.other_types {
            out.push(format!("Of type `{ty}` in {}.", r.describe(*set)));
        }
        (!out.is_empty()).then(|| out.join(" "))
    }

    /// Doc attributes for a member, value or branch.
    /// `range` is what [`Gen::range_note`] says of it.
    pub(crate) fn member_docs(
        &mut self,
        doc: Option<DocRef>,
        features: &[Feature],
        fallback: &str,
        range: Option<String>,
    ) -> Vec<syn::Attribute> {
        let s = self.schema;
        let mut text = String::new();
        let described = s.describe_doc(doc);
        match described {
            Some(d) => push_para(&mut text, &to_markdown(d)),
            None => push_para(&mut text, fallback),
        }
        push_features(&mut text, s, features);
        if let Some(v) = described.and_then(crate::model::since_in_text) {
            push_para(&mut text, &format!("Since: {v}"));
        }
        if let Some(r) = range {
            push_para(&mut text, &r);
        }
        self.doc_block(text)
    }

    /// The doc attributes of one doc block: a placeholder that the
    /// formatter replaces with the block's `///` lines (building and
    /// printing thousands of doc literals is a third of the work
    /// otherwise).  Text that contains the placeholder marker itself is
    /// emitted as it is.
    fn doc_block(&mut self, text: String) -> Vec<syn::Attribute> {
        if text.is_empty() {
            Vec::new()
        } else if text.contains(syntax::DOC_MARK) {
            syntax::doc_attrs(&text)
        } else {
            self.docs.push(text);
            vec![syntax::doc_placeholder(self.docs.len() - 1)]
        }
    }

    /// `#[deprecated]` when the features say so.
    pub(crate) fn deprecated_attr(&self, features: &[Feature]) -> Option<syn::Attribute> {
        let f = features.iter().find(|f| &*f.name == "deprecated")?;
        let note = self
            .schema
            .describe_doc(f.doc)
            .map(|t| super::docs::inline(&t.split_whitespace().collect::<Vec<_>>().join(" ")));
        let attr = match note {
            Some(n) => quote!(deprecated(note = #n)),
            None => quote!(deprecated),
        };
        match self.cond(f.ifcond.as_ref()) {
            Cond::Never => None,
            Cond::Always => syn::parse2::<syn::Meta>(attr).ok().map(syntax::outer_attr),
            Cond::Cfg(p) => Some(syntax::list_attr("cfg_attr", quote!(#p, #attr))),
        }
    }

    pub(crate) fn is_absent_as_default(&self, owner: &str, member: &str) -> bool {
        !self.absent_as_default.is_empty()
            && self
                .absent_as_default
                .contains(&format!("{owner}.{member}"))
    }
}

/// Names the generated code uses unqualified: its own root items, and
/// the prelude names it relies on (`String`, `Vec`, `Option`, `Ok`, ...),
/// which a schema type of the same name would shadow.
const ROOT_NAMES: &[&str] = &[
    "Event",
    "QmpHandler",
    "COMMANDS",
    "SCHEMA_INFO",
    "Some",
    "None",
    "Ok",
    "Err",
];

/// Prelude types the generated code names unqualified unless the schema
/// has a type of the same name (QEMU has a struct `String`): then every
/// use is spelled with its full path instead.
const PRELUDE_TYPES: &[(&str, &str)] = &[
    ("String", "::std::string::String"),
    ("Vec", "::std::vec::Vec"),
    ("Box", "::std::boxed::Box"),
    ("Option", "::core::option::Option"),
    ("Result", "::core::result::Result"),
];

fn is_reserved_root_name(ident: &str) -> bool {
    matches!(ident, "dispatch" | "check_arguments")
}

fn claim_extra(
    taken: &mut HashMap<String, EntityId>,
    id: EntityId,
    name: String,
) -> Result<(), (String, EntityId)> {
    if let Some(other) = taken.get(&name) {
        return Err((name, *other));
    }
    taken.insert(name, id);
    Ok(())
}

/// Makes every module's `deps` transitively closed (for cargo features)
/// and drops self-edges.
pub fn close_module_deps(modules: &mut [Module]) {
    let index: HashMap<&str, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (m.ident.as_str(), i))
        .collect();
    let direct: Vec<Vec<usize>> = modules
        .iter()
        .map(|m| {
            m.deps
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    let idents: Vec<String> = modules.iter().map(|m| m.ident.clone()).collect();
    for (i, m) in modules.iter_mut().enumerate() {
        let mut seen = BTreeSet::new();
        let mut stack = direct[i].clone();
        while let Some(d) = stack.pop() {
            if d != i && seen.insert(d) {
                stack.extend(direct[d].iter().copied());
            }
        }
        m.deps = seen.into_iter().map(|d| idents[d].clone()).collect();
    }
}

/// A Rust identifier (raw when it is a keyword; our naming rules avoid
/// those, this is a safety net).
pub(crate) fn ident(name: &str) -> Ident {
    if naming::is_rust_keyword(name) {
        format_ident!("r#{}", name)
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The Rust type of a built-in.
fn builtin_type(name: &str) -> &'static str {
    match name {
        "str" => "String",
        "int" => "i64",
        "int8" => "i8",
        "int16" => "i16",
        "int32" => "i32",
        "int64" => "i64",
        "uint8" => "u8",
        "uint16" => "u16",
        "uint32" => "u32",
        "uint64" | "size" => "u64",
        "number" => "f64",
        "bool" => "bool",
        "null" => "()",
        _ => "::serde_json::Value",
    }
}

fn push_para(text: &mut String, para: &str) {
    let para = para.trim_end();
    if para.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(para);
}

fn push_features(text: &mut String, s: &Schema, features: &[Feature]) {
    for f in features {
        let desc = s.describe_doc(f.doc).map(to_markdown).unwrap_or_default();
        let label = match &*f.name {
            "deprecated" => "**Deprecated.**".to_string(),
            "unstable" => "**Unstable:** this is experimental and may change.".to_string(),
            other => format!("Feature `{other}`."),
        };
        push_para(text, format!("{label} {desc}").trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_types() {
        let cases = [
            ("str", "String"),
            ("int", "i64"),
            ("uint8", "u8"),
            ("size", "u64"),
            ("number", "f64"),
            ("null", "()"),
            ("any", ":: serde_json :: Value"),
        ];
        for (q, want) in cases {
            let got = builtin_type(q).to_string().replace(' ', "");
            assert_eq!(got, want.replace(' ', ""), "{q}");
        }
    }
}
