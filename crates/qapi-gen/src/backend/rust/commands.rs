//! Commands and events: argument structs and the `Command` trait, event
//! data structs, and the root items (`Event`, `QmpHandler`, `dispatch`,
//! `COMMANDS`, introspection).

use quote::quote;
use syn::{Attribute, Item};

use super::syntax::{self, add_attrs, arm, lit_str, path_pat, str_pat, Fill, Template};
use super::types::{
    add_item_attrs, definition_attrs, fields, struct_with_impls, tagged_impls, type_fill, StructDef,
};
use super::{ident, Gen};
use crate::backend::cond::Cond;
use crate::backend::naming;
use crate::error::Error;
use crate::model::{EntityId, EntityKind};

const COMMAND_IMPL: Template = Template(
    r#"
    impl ::qapi_support::Command for __Self {
        const META: ::qapi_support::CommandMeta = __META;
        type Returns = __Returns;
    }
    "#,
);

/// A command whose arguments are a named type.
const NEWTYPE_ARGS: Template = Template(
    r#"
    #[derive(Clone, Debug, PartialEq)]
    pub struct __Self(pub __Args);

    /// Encodes as the arguments type.
    impl ::serde::Serialize for __Self {
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> __Result<S::Ok, S::Error> {
            ::serde::Serialize::serialize(&self.0, s)
        }
    }

    impl<'de> ::serde::Deserialize<'de> for __Self {
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> __Result<Self, D::Error> {
            ::serde::Deserialize::deserialize(d).map(Self)
        }
    }
    "#,
);

/// A command without arguments.
const NO_ARGS: Template = Template(
    r#"
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct __Self {}

    /// Encodes as `{}`.
    impl ::serde::Serialize for __Self {
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> __Result<S::Ok, S::Error> {
            ::qapi_support::ser::empty(s)
        }
    }

    impl<'de> ::serde::Deserialize<'de> for __Self {
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> __Result<Self, D::Error> {
            ::qapi_support::de::empty(d, __WIRE)?;
            Ok(Self {})
        }
    }

    impl ::std::cmp::Eq for __Self {}
    "#,
);

/// The argument struct of a command and its `Command` impl.
pub(super) fn command_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Command(c) = &e.kind else {
        return Ok(Vec::new());
    };
    let name = g.ident_of(id);
    let wire = &*e.name;
    let docs = g.entity_docs(id);
    let cfg = cond.cfg_attr();
    let dep = g.deprecated_attr(&e.features);
    let def_attrs = definition_attrs(docs, &cfg, dep);
    let returns = match c.ret_type {
        Some(t) => g.type_ref(t, None),
        None => syntax::ty("::qapi_support::Empty"),
    };
    let mut items = match c.arg_type {
        Some(t) if s.entity(t).is_implicit() && &*s.entity(t).name != "q_empty" => {
            let members = s.members(t);
            let f = fields(g, t, wire, &members, None)?;
            let def = StructDef {
                name: &name,
                qapi_name: wire,
                attrs: def_attrs,
                cfg: &cfg,
                new_doc: &[
                    " The arguments with the required ones given and every",
                    " optional one absent.",
                ],
                de_first: true,
            };
            struct_with_impls(g, def, f)?
        }
        Some(t) if &*s.entity(t).name != "q_empty" => {
            let ty = g.type_ref(t, None);
            let mut items = NEWTYPE_ARGS.fill(&mut type_fill(g, &name).ty("__Args", ty))?;
            add_item_attrs(&mut items, def_attrs, &cfg);
            items
        }
        _ => {
            let mut items =
                NO_ARGS.fill(&mut type_fill(g, &name).expr("__WIRE", syntax::lit_str(wire)))?;
            add_item_attrs(&mut items, def_attrs, &cfg);
            items
        }
    };
    let mut imp = COMMAND_IMPL.item(
        &mut Fill::new()
            .ident("__Self", name)
            .expr("__META", command_meta(e, c))
            .ty("__Returns", returns),
    )?;
    if let Item::Impl(i) = &mut imp {
        if c.boxed {
            i.items.push(syn::parse_quote!(
                const BOXED: bool = true;
            ));
        }
        if let Some(names) = releases_of(g, id) {
            i.items.push(syn::parse_quote!(
                const RELEASES: &'static [&'static str] = #names;
            ));
        }
    }
    add_attrs(&mut imp, cfg.into_iter().collect());
    items.push(imp);
    Ok(items)
}

/// A command's `CommandMeta`: its name and flags.
fn command_meta(e: &crate::model::Entity, c: &crate::model::Command) -> syn::Expr {
    let deprecated = e.features.iter().any(|f| &*f.name == "deprecated");
    syntax::struct_expr(
        "::qapi_support::CommandMeta",
        [
            ("name", lit_str(&e.name)),
            ("allow_oob", syntax::lit_bool(c.allow_oob)),
            ("allow_preconfig", syntax::lit_bool(c.allow_preconfig)),
            ("success_response", syntax::lit_bool(c.success_response)),
            ("deprecated", syntax::lit_bool(deprecated)),
        ],
    )
}

/// Range bindings: `&["7.2", ...]`, the releases that have entity `id`.
fn releases_of(g: &Gen, id: EntityId) -> Option<syn::Expr> {
    let r = g.schema.range.as_ref()?;
    Some(syntax::slice(
        r.names(r.of_entity(id)).iter().map(|n| lit_str(n)),
    ))
}

/// The data struct of an event whose data is given inline.
pub(super) fn event_data_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Event(ev) = &e.kind else {
        return Ok(Vec::new());
    };
    let Some(data) = g.event_data.get(&id).cloned() else {
        return Ok(Vec::new());
    };
    let Some(t) = ev.arg_type else {
        return Ok(Vec::new());
    };
    let name = ident(&data);
    let cfg = cond.cfg_attr();
    let members = s.members(t);
    let f = fields(g, t, &e.name, &members, None)?;
    let doc = format!(" The data of event `{}` (see [`super::Event`]).", e.name);
    struct_with_impls(
        g,
        StructDef {
            name: &name,
            qapi_name: &e.name,
            attrs: std::iter::once(syntax::doc_attr(&doc))
                .chain(cfg.clone())
                .collect(),
            cfg: &cfg,
            new_doc: &[
                " The data with the required members given and every optional",
                " one absent.",
            ],
            de_first: true,
        },
        f,
    )
}

/// The `cfg` attributes of a root item that refers to entity `id` (none
/// or one): the entity's own condition, and its module's feature when
/// modules are optional.  `None` when the entity is left out.
fn root_cfg(g: &Gen, id: EntityId) -> Option<Vec<Attribute>> {
    let e = g.schema.entity(id);
    let cond = g.cond(e.ifcond.as_ref());
    if !cond.emitted() {
        return None;
    }
    let module = g.module_index[e.module.0 as usize]
        .filter(|_| g.opts.module_features)
        .map(|m| {
            let f = g.module_idents[m].replace('_', "-");
            quote!(feature = #f)
        });
    let predicate = match (module, cond.predicate()) {
        (Some(m), Some(p)) => Some(quote!(all(#m, #p))),
        (Some(m), None) => Some(m),
        (None, p) => p.cloned(),
    };
    Some(
        predicate
            .map(|p| syntax::list_attr("cfg", p))
            .into_iter()
            .collect(),
    )
}

const EVENT: Template = Template(
    r#"
    /// Every event of the schema, in QMP's wire shape: `event` names
    /// it, `data` holds its data.  A whole message with its timestamp
    /// is a [`qapi_support::EventMessage<Event>`].
    #[derive(Clone, Debug, PartialEq)]
    #[allow(clippy::large_enum_variant, deprecated)]
    pub enum Event {
        __VARIANTS
    }

    #[allow(deprecated, unused_variables)]
    impl ::qapi_support::Branches for Event {
        const TAG: &'static str = "event";
        fn tag(&self) -> &'static str {
            self.name()
        }
        fn write(&self, w: &mut ::qapi_support::Writer<'_>) {
            #[allow(unreachable_patterns, clippy::single_match, clippy::match_single_binding)]
            match *self {
                __WRITES => {}
                _ => {}
            }
        }
        fn read(tag: &str, r: &mut ::qapi_support::Reader) -> __Option<Self> {
            #[allow(clippy::match_single_binding)]
            match tag {
                __ARMS => {}
                other => r.unknown_tag(Self::TAG, other),
            }
        }
    }

    "#,
);

const EVENT_NAME: Template = Template(
    r#"
    #[allow(deprecated)]
    impl Event {
        /// The event's name on the wire.
        pub fn name(&self) -> &'static str {
            #[allow(unreachable_patterns)]
            match self {
                __ARMS => {}
                _ => "",
            }
        }
    }
    "#,
);

const EVENT_RELEASES: Template = Template(
    r#"
    #[allow(deprecated)]
    impl Event {
        /// The QEMU releases of these bindings that have the event.
        pub fn releases(&self) -> &'static [&'static str] {
            #[allow(unreachable_patterns)]
            match self {
                __ARMS => {}
                _ => &[],
            }
        }
    }

    /// The QEMU releases these bindings were generated for, oldest first
    /// (`qapi-gen generate --compatible-with`).  Each command's
    /// `Command::RELEASES` and each event's `Event::releases` are among
    /// them.
    pub const QEMU_RELEASES: &[&str] = __ALL;
    "#,
);

const NO_EVENT_NAME: Template = Template(
    r#"
    #[allow(deprecated)]
    impl Event {
        /// The event's name on the wire.
        pub fn name(&self) -> &'static str {
            match *self {}
        }
    }
    "#,
);

const SERVER: Template = Template(
    r#"
    /// The commands of the schema, in schema order, with their flags.
    pub static COMMANDS: &[::qapi_support::CommandMeta] = __METAS;

    /// The server side: one method per command.  Implement the ones you
    /// serve; the others answer `CommandNotFound` as QEMU does for a
    /// command it was built without.
    #[allow(deprecated)]
    pub trait QmpHandler {}

    /// Runs one `execute`: checks `arguments` with QEMU's rules and
    /// error texts, decodes them, calls the handler and encodes its
    /// reply (`{}` for commands that return nothing).
    #[allow(deprecated, unused_variables)]
    pub fn dispatch<H: QmpHandler + ?Sized>(
        handler: &H,
        command: &str,
        arguments: ::serde_json::Map<__String, ::serde_json::Value>,
    ) -> __Result<::serde_json::Value, ::qapi_support::QmpError> {
        let arguments = ::serde_json::Value::Object(arguments);
        #[allow(unreachable_code, clippy::match_single_binding)]
        match command {
            __ARMS => {}
            _ => Err(::qapi_support::QmpError::command_not_found(command)),
        }
    }
    "#,
);

/// A handler method and its dispatch arm, for a command with arguments.
const METHOD_WITH_ARGS: Template = Template(
    r#"
    trait QmpHandler {
        /// The default refuses the command as QEMU refuses one it
        /// does not have.
        fn __method(&self, args: __Args) -> __Result<__Returns, ::qapi_support::QmpError> {
            let _ = args;
            Err(::qapi_support::QmpError::command_not_found(__WIRE))
        }
    }

    fn dispatch() {
        match command {
            __WIRE_PAT => {
                check_arguments(command, &arguments)?;
                let args = ::qapi_support::de::arguments(arguments)?;
                ::qapi_support::de::reply(handler.__method(args))
            }
        }
    }
    "#,
);

/// A handler method and its dispatch arm, for a command without.
const METHOD: Template = Template(
    r#"
    trait QmpHandler {
        /// The default refuses the command as QEMU refuses one it
        /// does not have.
        fn __method(&self) -> __Result<__Returns, ::qapi_support::QmpError> {
            Err(::qapi_support::QmpError::command_not_found(__WIRE))
        }
    }

    fn dispatch() {
        match command {
            __WIRE_PAT => {
                check_arguments(command, &arguments)?;
                ::qapi_support::de::reply(handler.__method())
            }
        }
    }
    "#,
);

/// The trait method and the match arm of a filled [`METHOD`] template.
fn method_parts(items: Vec<Item>) -> Option<(syn::TraitItem, syn::Arm)> {
    let mut it = items.into_iter();
    let (Some(Item::Trait(t)), Some(Item::Fn(f))) = (it.next(), it.next()) else {
        return None;
    };
    let method = t.items.into_iter().next()?;
    let arm = f.block.stmts.into_iter().find_map(|s| match s {
        syn::Stmt::Expr(syn::Expr::Match(m), _) => m.arms.into_iter().next(),
        _ => None,
    })?;
    Some((method, arm))
}

fn template_shape_error() -> Error {
    Error::bare("internal error: a root template has an unexpected shape")
}

pub(super) fn root_items(g: &mut Gen) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let mut variants = Vec::new();
    let mut name_arms = Vec::new();
    let mut release_arms = Vec::new();
    let mut de_arms = Vec::new();
    let mut write_arms = Vec::new();
    let mut methods = Vec::new();
    let mut arms = Vec::new();
    let mut metas = Vec::new();
    for (i, e) in s.entities.iter().enumerate() {
        let id = EntityId(i as u32);
        match &e.kind {
            EntityKind::Event(ev) => {
                let Some(cfg) = root_cfg(g, id) else { continue };
                let vname = g.name_of(id).to_string();
                let self_v = format!("Self::{vname}");
                let wire = &*e.name;
                let docs = g.entity_docs(id);
                let dep = g.deprecated_attr(&e.features);
                let data = match (g.event_data.get(&id).cloned(), ev.arg_type) {
                    (Some(d), _) => Some(syntax::path_ty(path_in_module(g, id, &d))),
                    (None, Some(t)) if &*s.entity(t).name != "q_empty" => Some(g.type_ref(t, None)),
                    _ => None,
                };
                let wire_doc = format!(" Wire name: `{wire}`.");
                let attrs: Vec<Attribute> = docs
                    .into_iter()
                    .chain([syntax::doc_attr(""), syntax::doc_attr(&wire_doc)])
                    .chain(cfg.iter().cloned())
                    .chain(dep)
                    .collect();
                let v = ident(&vname);
                let (name_pat, de_body) = if data.is_some() {
                    let pat = syn::Pat::TupleStruct(syn::PatTupleStruct {
                        attrs: Vec::new(),
                        qself: None,
                        path: syntax::path(&self_v),
                        paren_token: Default::default(),
                        elems: std::iter::once(syn::Pat::Wild(syn::PatWild {
                            attrs: Vec::new(),
                            underscore_token: Default::default(),
                        }))
                        .collect(),
                    });
                    write_arms.push(arm(
                        cfg.clone(),
                        syn::parse_quote!(Self::#v(ref d)),
                        syn::parse_quote!(w.req("data", d)),
                    ));
                    (pat, syn::parse_quote!(Some(Self::#v(r.data()?))))
                } else {
                    (path_pat(&self_v), syn::parse_quote!(Some(Self::#v)))
                };
                variants.push(syntax::variant(attrs, ident(&vname), data));
                if let Some(names) = releases_of(g, id) {
                    release_arms.push(arm(cfg.clone(), name_pat.clone(), names));
                }
                name_arms.push(arm(cfg.clone(), name_pat, lit_str(wire)));
                de_arms.push(arm(cfg, str_pat(wire), de_body));
            }
            EntityKind::Command(c) => {
                let Some(cfg) = root_cfg(g, id) else { continue };
                let wire = &*e.name;
                let method_name = ident(&naming::field_name(wire));
                let returns = match c.ret_type {
                    Some(t) => g.type_ref(t, None),
                    None => syntax::ty("::qapi_support::Empty"),
                };
                let has_args = c.arg_type.is_some_and(|t| &*s.entity(t).name != "q_empty");
                let doc = format!(" Runs `{wire}` (see [`{}`]).", args_path_text(g, id));
                let dep = g.deprecated_attr(&e.features);
                let mut fill = Fill::new()
                    .ident("__method", method_name)
                    .path("__Result", g.prelude_path("Result"))
                    .ty("__Returns", returns)
                    .expr("__WIRE", lit_str(wire));
                let template = if has_args {
                    let args = syntax::path_ty(g.type_ref_root(id));
                    fill = fill.ty("__Args", args);
                    &METHOD_WITH_ARGS
                } else {
                    &METHOD
                };
                let (mut m, mut a) =
                    method_parts(template.fill(&mut fill)?).ok_or_else(template_shape_error)?;
                if let syn::TraitItem::Fn(f) = &mut m {
                    let own_docs = std::mem::take(&mut f.attrs);
                    f.attrs = std::iter::once(syntax::doc_attr(&doc))
                        .chain([syntax::doc_attr("")])
                        .chain(own_docs)
                        .chain(cfg.iter().cloned())
                        .chain(dep)
                        .collect();
                }
                a.pat = str_pat(wire);
                a.attrs = cfg.clone();
                methods.push(m);
                arms.push(a);
                metas.push(syntax::with_attrs(command_meta(e, c), cfg));
            }
            _ => {}
        }
    }
    let result = g.prelude_path("Result");
    let mut out = EVENT.fill(
        &mut Fill::new()
            .path("__Option", g.prelude_path("Option"))
            .variants("__VARIANTS", variants)
            .arms("__WRITES", write_arms)
            .arms("__ARMS", de_arms),
    )?;
    out.extend(tagged_impls(g, &ident("Event"), "Event")?);
    out.push(if name_arms.is_empty() {
        NO_EVENT_NAME.item(&mut Fill::new())?
    } else {
        EVENT_NAME.item(&mut Fill::new().arms("__ARMS", name_arms))?
    });
    if let Some(r) = &s.range {
        let all = syntax::slice(r.names(r.all()).iter().map(|n| lit_str(n)));
        out.extend(
            EVENT_RELEASES
                .fill(&mut Fill::new().arms("__ARMS", release_arms).expr("__ALL", all))?,
        );
    }
    if !g.server {
        return Ok(out);
    }
    let mut server = SERVER.fill(
        &mut Fill::new()
            .path("__Result", result)
            .path("__String", g.prelude_path("String"))
            .expr("__METAS", syntax::slice(metas))
            .arms("__ARMS", arms),
    )?;
    for item in &mut server {
        if let Item::Trait(t) = item {
            t.items = std::mem::take(&mut methods);
        }
    }
    out.extend(super::server_items(g.opts, server));
    Ok(out)
}

/// The path from the root to an item named `name` in entity `id`'s module.
fn path_in_module(g: &Gen, id: EntityId, name: &str) -> syn::Path {
    let e = g.schema.entity(id);
    let mut path = syn::Path::from(ident(name));
    if let Some(m) = g.module_index[e.module.0 as usize] {
        path.segments.insert(0, ident(&g.module_idents[m]).into());
    }
    path
}

fn args_path_text(g: &Gen, id: EntityId) -> String {
    let e = g.schema.entity(id);
    match g.module_index[e.module.0 as usize] {
        Some(m) => format!("{}::{}", g.module_idents[m], g.name_of(id)),
        None => g.name_of(id).to_string(),
    }
}

impl Gen<'_> {
    /// The path from the root to a command's argument struct.
    fn type_ref_root(&self, id: EntityId) -> syn::Path {
        path_in_module(self, id, self.name_of(id))
    }
}
