//! The name table: every entity's Rust name, its output module, the
//! types that contain themselves, and the options' derived facts, built
//! once per generation and read by every part's emitter.
//!
//! Naming happens before anything is emitted, so that two schema names
//! that meet after mangling are reported (with the schema location) before
//! a line of Rust exists.  The table is immutable afterwards: emitters on
//! several threads share it.

use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::Ident;
use quote::quote;

use super::syntax;
use super::{ident, types, Options};
use crate::backend::cond::Cond;
use crate::backend::naming;
use crate::error::Error;
use crate::model::{Entity, EntityId, EntityKind, Feature, Schema};

/// How an entity appears in Rust.
#[derive(Debug, Clone)]
pub(crate) enum RustName {
    /// Not a Rust item of its own (built-ins, arrays, includes, `q_empty`,
    /// union bases).
    None,
    /// A named item.
    Item(String),
}

/// What every emitter reads: names, modules, boxing, options.
pub(crate) struct Names<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) opts: &'a Options,
    /// Rust name per entity.
    pub(crate) names: Vec<RustName>,
    /// Output module index per schema module (None: not emitted).
    pub(crate) module_index: Vec<Option<usize>>,
    /// Idents of output modules.
    pub(crate) module_idents: Vec<String>,
    /// Strongly connected component per entity, for boxing.
    pub(crate) scc: Vec<u32>,
    /// `"Type.member"` set from the options.
    absent_as_default: HashSet<String>,
    /// Name of the event data struct per event entity.
    pub(crate) event_data: HashMap<EntityId, String>,
    /// Prelude types a schema type shadows (spelled with full paths).
    shadowed: Vec<&'static str>,
    /// Whether to emit the server side: asked for, and not range
    /// bindings (a union of releases is no QEMU's schema to serve).
    pub(crate) server: bool,
}

impl<'a> Names<'a> {
    /// Checks the options, names every entity and module, reports names
    /// that meet after mangling, and finds the self-containing types.
    pub(crate) fn new(schema: &'a Schema, opts: &'a Options) -> Result<Self, Error> {
        opts.check(schema)?;
        let mut n = Names {
            schema,
            opts,
            names: vec![RustName::None; schema.entities.len()],
            module_index: vec![None; schema.modules.len()],
            module_idents: Vec::new(),
            scc: Vec::new(),
            absent_as_default: opts.absent_as_default.iter().cloned().collect(),
            event_data: HashMap::new(),
            shadowed: Vec::new(),
            server: opts.server && schema.range.is_none(),
        };
        n.assign_modules();
        n.assign_names()?;
        n.check_part_names()?;
        n.scc = types::components(schema);
        Ok(n)
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
        let mut methods: HashMap<String, EntityId> = HashMap::new();
        for (i, e) in s.entities.iter().enumerate() {
            let id = EntityId(i as u32);
            match &e.kind {
                EntityKind::Command(_) => {
                    let mut name = naming::type_name(&e.name);
                    if taken.contains_key(&name) {
                        name.push_str("Command");
                    }
                    self.claim(&mut taken, id, name)?;
                    // The handler trait has one method per command.
                    let method = naming::field_name(&e.name);
                    let other = methods.insert(method.clone(), id);
                    if let Some(other) = other.filter(|_| self.server) {
                        let msg = format!(
                            "{} becomes handler method '{method}', and so does {}; rename one \
                             of them",
                            e.describe(),
                            s.entity(other).describe()
                        );
                        return Err(self.part_error(id, None, &msg));
                    }
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
    pub(crate) fn union_is_enum(&self, id: EntityId) -> bool {
        let members = self.schema.members(id);
        members.len() == 1
    }

    pub(crate) fn cond_features(&self) -> BTreeSet<String> {
        let conds = self
            .schema
            .entities
            .iter()
            .flat_map(|e| self.conds_of(e))
            .collect::<Vec<_>>();
        self.opts.conditions.features(conds)
    }

    /// Every condition of an entity and its parts.
    pub(crate) fn conds_of<'e>(&self, e: &'e Entity) -> Vec<&'e crate::check::ast::IfCond> {
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

    /// `#[deprecated]` when the features say so.
    pub(crate) fn deprecated_attr(&self, features: &[Feature]) -> Option<syn::Attribute> {
        let f = features.iter().find(|f| &*f.name == "deprecated")?;
        let note = self.schema.describe_doc(f.doc).map(|t| {
            crate::backend::docs::inline(&t.split_whitespace().collect::<Vec<_>>().join(" "))
        });
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
pub(crate) const ROOT_NAMES: &[&str] = &[
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

pub(crate) fn is_reserved_root_name(ident: &str) -> bool {
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
