//! The introspection list and the argument-checking tables as Rust
//! items of a generated crate (the data itself is
//! [`crate::backend::introspect`]'s, which knows nothing of Rust).
//!
//! The items, in a generated crate's root module:
//!
//! * `pub static SCHEMA_INFO: &[::qapi_support::introspect::SchemaInfo]` —
//!   what `query-qmp-schema` returns (masked names, numbered over the whole
//!   schema as QEMU numbers them);
//! * `pub mod __qapi_input` (hidden) — the `qapi_support::input` tables:
//!   one static per enum, array, object and alternate reachable from a
//!   command's arguments, and `COMMANDS`, sorted by name;
//! * `pub fn check_arguments(command: &str, args: &::serde_json::Value)
//!   -> Result<(), ::qapi_support::QmpError>` — QEMU's first error for a
//!   call's `arguments` (pass an empty object when there are none).
//!
//! Conditional entries, members, branches, enum values and features get
//! `#[cfg]` attributes, or are left out when `conds` decides them false.
//! Type tables themselves are unconditional, so every reference resolves
//! whatever the configuration.
//!
//! The tables are thousands of entries: they are built as `syn` trees
//! directly (see `syntax.rs`).

use std::collections::HashMap;

use proc_macro2::Ident;
use quote::format_ident;
use syn::{Attribute, Expr, Item};

use super::cond::{Cond, Conditions};
use super::syntax::{
    self, call, lit_bool, lit_str, path_expr, reference, slice, static_item, with_attrs, Fill,
    Template,
};
use crate::backend::introspect::*;
use crate::check::ast::IfCond;
use crate::error::Error;
use crate::model::{EntityId, EntityKind, Schema};

/// Every item above: [`schema_info_items`] then [`argument_items`].
pub fn items(schema: &Schema, conds: &Conditions) -> Result<Vec<Item>, Error> {
    let mut items = schema_info_items(schema, conds)?;
    items.extend(argument_items(schema, conds)?);
    Ok(items)
}

/// `SCHEMA_INFO` and the data behind it.
pub fn schema_info_items(schema: &Schema, conds: &Conditions) -> Result<Vec<Item>, Error> {
    let intro = compute(schema, false);
    let entries: Vec<Expr> = intro
        .entries
        .iter()
        .filter_map(|info| info_expr(info, conds))
        .collect();
    SCHEMA_INFO.fill(&mut Fill::new().expr("__ENTRIES", slice(entries)))
}

/// `check_arguments` and its tables.
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
