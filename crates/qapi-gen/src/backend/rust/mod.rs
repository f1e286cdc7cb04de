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
//! Shape of the output, per QAPI kind (no serde derive anywhere: object
//! types implement `qapi_support::Members`, a walk over their members,
//! and `qapi_support::object_impls!` builds their serde, `Debug` and
//! `PartialEq` impls on it):
//! * enum → `enum` encoded through `as_str`, with `FromStr`, `Display`,
//!   `ALL`;
//! * struct → `struct` (base members first), optional members `Option`
//!   left out when `None`, a `new` taking the required members;
//! * union → its branch `enum` (`qapi_support::Branches`) when the base has
//!   only the discriminator, else a `struct` holding the base members and
//!   the branch `enum` as `u`, encoded flat with the discriminator in
//!   place;
//! * alternate → `enum` whose `Deserialize` picks the branch by JSON type,
//!   as QEMU does;
//! * command → a struct of its arguments implementing
//!   `qapi_support::Command`, a method of the `QmpHandler` trait, an arm of
//!   `dispatch`;
//! * event → a variant of the one `Event` enum (`event`/`data` on the
//!   wire) and a struct of its data.

mod commands;
pub mod cond;
pub mod introspect;
mod names;
pub mod package;
pub(crate) mod syntax;
mod types;

use names::{Names, RustName};

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Ident, Span};
use quote::format_ident;

use super::docs::to_markdown;
use super::naming;
use crate::error::Error;
use crate::model::{DocRef, EntityId, EntityKind, Feature, Schema};
use cond::Conditions;

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
    /// Put the server side behind cargo feature `server`, so that clients
    /// do not compile it: for packages (`qapi-gen generate --package` sets
    /// it; a [`package::package`] caller chooses), whose `Cargo.toml` then
    /// declares the feature.
    pub server_feature: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            conditions: Conditions::default(),
            module_features: false,
            unknown_enum_values: false,
            absent_as_default: Vec::new(),
            server: true,
            server_feature: false,
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
    /// `syntax::doc_placeholder`); pass them to
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
    let n = Names::new(schema, opts)?;
    Ok(schema
        .definitions()
        .filter_map(|(id, e)| match &n.names[id.0 as usize] {
            RustName::Item(n) => Some((e.meta(), e.name.to_string(), n.clone())),
            RustName::None => None,
        })
        .collect())
}

/// Generates Rust for `schema`: every part in output order, with one doc
/// table (see [`Prepared`] for generating parts on their own).
pub fn generate(schema: &Schema, opts: &Options) -> Result<Output, Error> {
    let p = Prepared::new(schema, opts)?;
    let mut g = Gen::new(&p.names);
    let mut parts = p.parts();
    parts.sort_by_key(|part| part.output_rank());
    let mut modules = Vec::new();
    let mut root = Vec::new();
    for part in parts {
        let (items, module) = p.emit(&mut g, part)?;
        match module {
            Some(mut m) => {
                m.items = items;
                modules.push(m);
            }
            None => root.extend(items),
        }
    }
    close_module_deps(&mut modules);
    Ok(Output {
        modules,
        root,
        cond_features: p.cond_features(),
        docs: g.docs,
    })
}

/// Server-side items, behind feature `server` when the options say so.
pub(super) fn server_items(opts: &Options, mut items: Vec<syn::Item>) -> Vec<syn::Item> {
    if opts.server_feature {
        for item in &mut items {
            syntax::add_attrs(
                item,
                vec![syntax::list_attr("cfg", quote::quote!(feature = "server"))],
            );
        }
    }
    items
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

/// The backend after naming, ready to generate any [`Part`]: the one
/// driver of generation, shared by worker threads, each generating and
/// formatting parts of its own.
pub struct Prepared<'a> {
    names: Names<'a>,
}

impl<'a> Prepared<'a> {
    /// Names everything and reports clashes.
    pub fn new(schema: &'a Schema, opts: &'a Options) -> Result<Self, Error> {
        Ok(Prepared {
            names: Names::new(schema, opts)?,
        })
    }

    /// The parts, biggest first (so that parallel workers finish together).
    pub fn parts(&self) -> Vec<Part> {
        let s = self.names.schema;
        let mut parts: Vec<(usize, Part)> = (0..s.modules.len())
            .filter(|mi| self.names.module_index[*mi].is_some())
            .map(|mi| (s.modules[mi].entities.len(), Part::Module(mi)))
            .collect();
        let commands = s
            .entities
            .iter()
            .filter(|e| matches!(e.kind, EntityKind::Command(_) | EntityKind::Event(_)))
            .count();
        parts.push((commands * 2, Part::Root));
        if self.names.server {
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
        let mut g = Gen::new(&self.names);
        let (items, module) = self.emit(&mut g, part)?;
        Ok(PartOutput {
            items,
            docs: g.docs,
            module,
        })
    }

    /// Emits `part` with emitter `g` (whose doc table it extends).
    fn emit(&self, g: &mut Gen, part: Part) -> Result<(Vec<syn::Item>, Option<Module>), Error> {
        let schema = self.names.schema;
        let conds = &self.names.opts.conditions;
        Ok(match part {
            Part::Module(mi) => match g.module(mi)? {
                Some(mut m) => (std::mem::take(&mut m.items), Some(m)),
                None => (Vec::new(), None),
            },
            Part::Root => {
                g.cur_module = usize::MAX;
                (commands::root_items(g)?, None)
            }
            Part::SchemaInfo => (
                server_items(
                    self.names.opts,
                    introspect::schema_info_items(schema, conds)?,
                ),
                None,
            ),
            Part::Arguments => (
                server_items(self.names.opts, introspect::argument_items(schema, conds)?),
                None,
            ),
        })
    }

    /// Cargo features that `if` conditions refer to.
    pub fn cond_features(&self) -> BTreeSet<String> {
        self.names.cond_features()
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

/// The emitter of one part: the shared name table, the module being
/// emitted and what it refers to, and the doc blocks emitted so far.  It
/// reads the table through `Deref` (`g.schema`, `g.name_of(id)`).
pub(crate) struct Gen<'a> {
    names: &'a Names<'a>,
    /// The module being emitted.
    cur_module: usize,
    /// Modules referenced from the current one.
    cur_deps: BTreeSet<usize>,
    /// Doc blocks emitted so far, by placeholder index.
    docs: Vec<String>,
}

impl<'a> std::ops::Deref for Gen<'a> {
    type Target = Names<'a>;
    fn deref(&self) -> &Names<'a> {
        self.names
    }
}

impl<'a> Gen<'a> {
    fn new(names: &'a Names<'a>) -> Self {
        Gen {
            names,
            cur_module: 0,
            cur_deps: BTreeSet::new(),
            docs: Vec::new(),
        }
    }

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

    /// Doc attributes for a member, value or branch.
    /// `range` is what [`Gen::range_note`] says of it; `wire_name` is
    /// given when the Rust name differs from it.
    pub(crate) fn member_docs(
        &mut self,
        doc: Option<DocRef>,
        features: &[Feature],
        fallback: &str,
        range: Option<String>,
        wire_name: Option<&str>,
    ) -> Vec<syn::Attribute> {
        let s = self.schema;
        let mut text = String::new();
        let described = s.describe_doc(doc);
        match described {
            Some(d) => push_para(&mut text, &to_markdown(d)),
            None => push_para(&mut text, fallback),
        }
        push_features(&mut text, s, features);
        // rustdoc shows the Rust name only: say what the wire calls it.
        if let Some(w) = wire_name {
            push_para(&mut text, &format!("Wire name: `{w}`."));
        }
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
