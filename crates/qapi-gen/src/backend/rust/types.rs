//! Enums, structs, unions and alternates.

use proc_macro2::Ident;
use quote::quote;
use syn::{Attribute, Item};

use super::syntax::{
    self, add_attrs, arm, call, field, field_value, first_fn_attrs, lit_str, method, param,
    path_expr, path_pat, slice, str_pat, try_, variant, with_attrs, Fill, Template,
};
use super::{ident, Gen};
use crate::backend::cond::Cond;
use crate::backend::naming;
use crate::error::Error;
use crate::model::{EntityId, EntityKind, Member, Schema};

/// The strongly connected components of the "holds a value of" graph
/// between object and alternate types (array elements excluded: a `Vec`
/// already adds indirection).  A member whose type is in its container's
/// component is boxed.  Iterative Tarjan, so deep schemas cannot overflow
/// the stack.
pub(super) fn components(s: &Schema) -> Vec<u32> {
    let n = s.entities.len();
    let edges: Vec<Vec<u32>> = (0..n)
        .map(|i| {
            let id = EntityId(i as u32);
            let mut out = Vec::new();
            let mut add = |m: &Member| {
                if let Some(t) = m.ty {
                    if matches!(
                        s.entity(t).kind,
                        EntityKind::Object(_) | EntityKind::Alternate { .. }
                    ) {
                        out.push(t.0);
                    }
                }
            };
            match &s.entity(id).kind {
                EntityKind::Object(o) => {
                    s.members(id).into_iter().for_each(&mut add);
                    if let Some(b) = &o.branches {
                        b.variants.iter().for_each(&mut add);
                    }
                }
                EntityKind::Alternate { variants, .. } => variants.iter().for_each(&mut add),
                _ => {}
            }
            out
        })
        .collect();
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut next_index = 0u32;
    let mut next_comp = 0u32;
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        // (node, next edge to look at)
        let mut work: Vec<(u32, usize)> = vec![(root, 0)];
        index[root as usize] = next_index;
        low[root as usize] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut ei)) = work.last_mut() {
            let vu = v as usize;
            if *ei < edges[vu].len() {
                let w = edges[vu][*ei];
                *ei += 1;
                let wu = w as usize;
                if index[wu] == UNSEEN {
                    index[wu] = next_index;
                    low[wu] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[wu] = true;
                    work.push((w, 0));
                } else if on_stack[wu] {
                    low[vu] = low[vu].min(index[wu]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                let pu = parent as usize;
                low[pu] = low[pu].min(low[vu]);
            }
            if low[vu] == index[vu] {
                // A component; a lone node is its own component only if
                // it does not hold itself directly.
                let self_loop = edges[vu].contains(&v);
                let mut members = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                if members.len() == 1 && !self_loop {
                    comp[vu] = UNSEEN - 1 - v; // unique, never shared
                } else {
                    for w in members {
                        comp[w as usize] = next_comp;
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}

/// A member, value, branch or alternative, as the emitters see it.
pub(super) struct PartRef<'a> {
    pub wire: &'a str,
    pub ifcond: Option<&'a crate::check::ast::IfCond>,
    pub features: &'a [crate::model::Feature],
    pub doc: Option<crate::model::DocRef>,
}

impl<'a> From<&'a Member> for PartRef<'a> {
    fn from(m: &'a Member) -> Self {
        PartRef {
            wire: &m.name,
            ifcond: m.ifcond.as_ref(),
            features: &m.features,
            doc: m.doc,
        }
    }
}

impl<'a> From<&'a crate::model::EnumMember> for PartRef<'a> {
    fn from(m: &'a crate::model::EnumMember) -> Self {
        PartRef {
            wire: &m.name,
            ifcond: m.ifcond.as_ref(),
            features: &m.features,
            doc: m.doc,
        }
    }
}

/// The attributes every emitted part carries.
pub(super) struct PartAttrs {
    /// Its `#[cfg]` (empty when unconditional).
    pub cfg: Vec<Attribute>,
    /// Its docs: description (else `fallback`), features, `Since:`, and
    /// what the releases of range bindings say of it.
    pub docs: Vec<Attribute>,
    /// `#[deprecated]` when it has that feature.
    pub dep: Option<Attribute>,
}

/// The attributes of part `p` of `owner` (where range notes are looked
/// up; `optional` as the emitted field is), or `None` when its condition
/// leaves it out.  `rust` is its Rust name when it has one on the wire
/// (a member, value or branch; the docs say the wire name when the two
/// differ).  The one place the per-part steps are written.
pub(super) fn part_attrs(
    g: &mut Gen,
    owner: Option<EntityId>,
    p: PartRef,
    fallback: &str,
    optional: bool,
    rust: Option<&str>,
) -> Option<PartAttrs> {
    let c = g.cond(p.ifcond);
    if !c.emitted() {
        return None;
    }
    let note = owner.and_then(|o| g.range_note(o, p.wire, optional));
    let wire_name = rust.filter(|r| *r != p.wire).map(|_| p.wire);
    Some(PartAttrs {
        cfg: c.cfg_attr().into_iter().collect(),
        docs: g.member_docs(p.doc, p.features, fallback, note, wire_name),
        dep: g.deprecated_attr(p.features),
    })
}

/// A definition's own attributes: its docs, its `cfg`, its deprecation.
pub(super) fn definition_attrs(
    docs: Vec<Attribute>,
    cfg: &Option<Attribute>,
    dep: Option<Attribute>,
) -> Vec<Attribute> {
    docs.into_iter()
        .chain(cfg.iter().cloned())
        .chain(dep)
        .collect()
}

/// Attributes in order, the absent ones left out.
fn attrs<const N: usize>(groups: [Vec<Attribute>; N]) -> Vec<Attribute> {
    groups.into_iter().flatten().collect()
}

/// An enum whose values are exactly the schema's.
const ENUM: Template = Template(
    r#"
    #[derive(Clone, Copy, Debug, PartialEq, Hash)]
    pub enum __Self {
        __VARIANTS
    }

    impl ::std::cmp::Eq for __Self {}

    impl ::serde::Serialize for __Self {
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> __Result<S::Ok, S::Error> {
            s.serialize_str((*self).as_str())
        }
    }

    impl<'de> ::serde::Deserialize<'de> for __Self {
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> __Result<Self, D::Error> {
            ::qapi_support::de::parse_str(d)
        }
    }

    impl __Self {
        /// Every value, in schema order.
        pub const ALL: &'static [Self] = __ALL;
        /// The value as it is on the wire.
        pub fn as_str(self) -> &'static str {
            match self {
                __AS_STR => {}
            }
        }
    }

    impl std::str::FromStr for __Self {
        type Err = ::qapi_support::UnknownValue;
        fn from_str(s: &str) -> __Result<Self, ::qapi_support::UnknownValue> {
            #[allow(clippy::match_single_binding)]
            match s {
                __FROM_STR => {}
                _ => Err(::qapi_support::UnknownValue {
                    type_name: __QAPI_NAME,
                    value: s.to_string(),
                }),
            }
        }
    }

    impl std::fmt::Display for __Self {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str((*self).as_str())
        }
    }
    "#,
);

/// An enum with a catch-all for values a newer peer may send.
const OPEN_ENUM: Template = Template(
    r#"
    #[derive(Clone, Debug, PartialEq, Hash)]
    pub enum __Self {
        __VARIANTS,
        /// A value this schema does not know (sent by a newer peer).
        __Unknown(__String),
    }

    impl ::std::cmp::Eq for __Self {}

    impl ::serde::Serialize for __Self {
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> __Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }

    impl<'de> ::serde::Deserialize<'de> for __Self {
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> __Result<Self, D::Error> {
            ::qapi_support::de::parse_str(d)
        }
    }

    impl __Self {
        /// The value as it is on the wire.
        pub fn as_str(&self) -> &str {
            match self {
                __AS_STR => {}
                Self::__Unknown(s) => s,
            }
        }
    }

    impl std::str::FromStr for __Self {
        type Err = std::convert::Infallible;
        fn from_str(s: &str) -> __Result<Self, std::convert::Infallible> {
            #[allow(clippy::match_single_binding)]
            match s {
                __FROM_STR => {}
                other => Ok(Self::__Unknown(other.to_string())),
            }
        }
    }

    impl std::fmt::Display for __Self {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.as_str())
        }
    }
    "#,
);

/// Fills the holes every type template has: its name, `Result`,
/// `String`.
pub(super) fn type_fill(g: &Gen, name: &Ident) -> Fill {
    Fill::new()
        .ident("__Self", name.clone())
        .path("__Option", g.prelude_path("Option"))
        .path("__Result", g.prelude_path("Result"))
        .path("__String", g.prelude_path("String"))
}

/// Adds the definition's attributes to the first item (docs, cfg,
/// deprecation) and the cfg to the others.
pub(super) fn add_item_attrs(items: &mut [Item], first: Vec<Attribute>, cfg: &Option<Attribute>) {
    let mut it = items.iter_mut();
    if let Some(def) = it.next() {
        add_attrs(def, first);
    }
    for item in it {
        add_attrs(item, cfg.iter().cloned().collect());
    }
}

pub(super) fn enum_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Enum { members, .. } = &e.kind else {
        return Ok(Vec::new());
    };
    let name = g.ident_of(id);
    let qapi_name = &*e.name;
    let docs = g.entity_docs(id);
    let cfg = cond.cfg_attr();
    let dep = g.deprecated_attr(&e.features);
    let mut variants = Vec::new();
    let mut as_str_arms = Vec::new();
    let mut from_str_arms = Vec::new();
    let mut all = Vec::new();
    for m in members {
        let wire = &*m.name;
        let vname = naming::variant_name(wire);
        let fallback = format!("`{wire}`");
        let Some(p) = part_attrs(g, Some(id), m.into(), &fallback, false, Some(&vname)) else {
            continue;
        };
        let mcfg = p.cfg;
        let v = ident(&vname);
        let self_v = format!("Self::{vname}");
        variants.push(variant(
            attrs([p.docs, mcfg.clone(), p.dep.into_iter().collect()]),
            v,
            None,
        ));
        as_str_arms.push(arm(mcfg.clone(), path_pat(&self_v), lit_str(wire)));
        from_str_arms.push(arm(
            mcfg.clone(),
            str_pat(wire),
            call("Ok", [path_expr(&self_v)]),
        ));
        all.push(with_attrs(path_expr(&self_v), mcfg));
    }
    let fill = type_fill(g, &name)
        .variants("__VARIANTS", variants)
        .arms("__AS_STR", as_str_arms)
        .arms("__FROM_STR", from_str_arms);
    let mut items = if g.opts.unknown_enum_values {
        let catch_all = naming::catch_all_variant(members.iter().map(|m| &*m.name));
        OPEN_ENUM.fill(&mut fill.ident("__Unknown", ident(&catch_all)))?
    } else {
        ENUM.fill(
            &mut fill
                .expr("__ALL", slice(all))
                .expr("__QAPI_NAME", lit_str(qapi_name)),
        )?
    };
    add_item_attrs(&mut items, definition_attrs(docs, &cfg, dep), &cfg);
    Ok(items)
}

/// The fields of a struct made of `members`, plus what `new` and its
/// member walk need.
pub(super) struct Fields {
    pub fields: Vec<syn::Field>,
    pub new_params: Vec<syn::FnArg>,
    pub new_inits: Vec<syn::FieldValue>,
    /// `w.req("wire", &self.field);`, in wire order, for `Members::write`.
    pub writes: Vec<syn::Stmt>,
    /// `field: r.req("wire")` for `Members::read`.
    pub reads: Vec<syn::FieldValue>,
    pub required: usize,
}

/// The impls of an object type: its member walk; `Serialize`,
/// `Deserialize`, `Debug` and `PartialEq` on top of it come from
/// `qapi_support::object_impls!` (one call each into `qapi_support`,
/// where derived impls would be a body of generic code per type).
const OBJECT_IMPLS: Template = Template(
    r#"
    impl ::qapi_support::Members for __Self {
        fn write(&self, w: &mut ::qapi_support::Writer<'_>) {
            __WRITES;
        }
        fn read(r: &mut ::qapi_support::Reader) -> __Option<Self> {
            __READ
        }
    }
    "#,
);

/// The body of `Members::read`: every member read, then the struct built
/// when all were.  One `match` on a tuple of them, rather than a `?` per
/// member: each `?` is a trait-resolved branch, and on QEMU's schema they
/// cost half a second of type-checking.  Members under `#[cfg]` cannot
/// be tuple elements and patterns alike, so such a struct takes the `?`
/// form.
fn read_body(reads: Vec<syn::FieldValue>) -> syn::Expr {
    if reads.is_empty() {
        return syn::parse_quote!(Some(Self {}));
    }
    if reads.iter().any(|f| !f.attrs.is_empty()) {
        let fields = reads.into_iter().map(|mut f| {
            f.expr = try_(f.expr);
            f
        });
        return syn::parse_quote!(Some(Self { #(#fields),* }));
    }
    // Built directly rather than parsed from tokens: this runs for every
    // struct of a schema.
    let mut tuple = syn::ExprTuple {
        attrs: Vec::new(),
        paren_token: Default::default(),
        elems: Default::default(),
    };
    let mut pats = syn::PatTuple {
        attrs: Vec::new(),
        paren_token: Default::default(),
        elems: Default::default(),
    };
    let mut inits = Vec::with_capacity(reads.len());
    for f in reads {
        let syn::Member::Named(name) = &f.member else {
            continue;
        };
        pats.elems.push(syn::Pat::TupleStruct(syn::PatTupleStruct {
            attrs: Vec::new(),
            qself: None,
            path: syntax::path("Some"),
            paren_token: Default::default(),
            elems: std::iter::once(syn::Pat::Ident(syn::PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: name.clone(),
                subpat: None,
            }))
            .collect(),
        }));
        inits.push(field_value(Vec::new(), name.clone(), None));
        tuple.elems.push(f.expr);
    }
    // A 1-tuple needs its trailing comma.
    tuple.elems.push_punct(Default::default());
    pats.elems.push_punct(Default::default());
    let built = call(
        "Some",
        [syn::Expr::Struct(syn::ExprStruct {
            attrs: Vec::new(),
            qself: None,
            path: syntax::path("Self"),
            brace_token: Default::default(),
            fields: inits.into_iter().collect(),
            dot2_token: None,
            rest: None,
        })],
    );
    syn::Expr::Match(syn::ExprMatch {
        attrs: Vec::new(),
        match_token: Default::default(),
        expr: Box::new(syn::Expr::Tuple(tuple)),
        brace_token: Default::default(),
        arms: vec![
            arm(Vec::new(), syn::Pat::Tuple(pats), built),
            arm(Vec::new(), syntax::path_pat("_"), path_expr("None")),
        ],
    })
}

/// The impls of an object type with the walk of `writes` and `reads`.
pub(super) fn object_impls(
    g: &Gen,
    name: &Ident,
    qapi_name: &str,
    writes: Vec<syn::Stmt>,
    reads: Vec<syn::FieldValue>,
    cfg: &Option<Attribute>,
) -> Result<Vec<Item>, Error> {
    // With no member, or every one under `#[cfg]`, `w` and `r` may go
    // unused.  Writes and reads come from the same members (a union's
    // discriminator write goes with its `u` read), so the reads tell.
    let lax = reads.iter().all(|f| !f.attrs.is_empty());
    let mut items = OBJECT_IMPLS.fill(
        &mut type_fill(g, name)
            .stmts("__WRITES", writes)
            .expr("__READ", read_body(reads)),
    )?;
    items.push(syn::parse_quote!(::qapi_support::object_impls!(#name, #qapi_name);));
    for (i, item) in items.iter_mut().enumerate() {
        let mut a: Vec<Attribute> = cfg.iter().cloned().collect();
        if i == 0 && lax {
            a.push(syntax::list_attr("allow", quote!(unused_variables)));
        }
        add_attrs(item, a);
    }
    Ok(items)
}

/// The fields of `members`; `tag` is a union's discriminator, which is
/// no field but is written where it stands, from the branch.
pub(super) fn fields(
    g: &mut Gen,
    owner: EntityId,
    owner_name: &str,
    members: &[&Member],
    tag: Option<&str>,
) -> Result<Fields, Error> {
    let s = g.schema;
    let mut out = Fields {
        fields: Vec::new(),
        new_params: Vec::new(),
        new_inits: Vec::new(),
        writes: Vec::new(),
        reads: Vec::new(),
        required: 0,
    };
    let mut seen: std::collections::HashMap<String, &str> = Default::default();
    let option = g.prelude_path("Option");
    for m in members {
        let wire = &*m.name;
        if Some(wire) == tag {
            out.writes.push(syn::parse_quote!(
                w.req(#wire, &::qapi_support::Branches::tag(&self.u));
            ));
            continue;
        }
        let declared_in = s.lookup(&m.defined_in);
        let fallback = format!("`{wire}`");
        let fname = naming::field_name(&m.name);
        let Some(p) = part_attrs(
            g,
            declared_in,
            (*m).into(),
            &fallback,
            m.optional,
            Some(&fname),
        ) else {
            continue;
        };
        if let Some(other) = seen.insert(fname.clone(), &m.name) {
            let msg = format!(
                "members '{other}' and '{}' of {} both become Rust field '{fname}'; rename one of them",
                m.name,
                s.entity(owner).describe()
            );
            return Err(match m.info.or(s.entity(owner).info) {
                Some(info) => Error::at(&s.sources, info, &msg),
                None => Error::bare(msg),
            });
        }
        let f = ident(&fname);
        let ty = g.type_ref(m.type_id(), Some(owner));
        let PartAttrs {
            cfg: mcfg,
            docs,
            dep,
        } = p;
        let read = |how: &str| method(path_expr("r"), how, [lit_str(wire)]);
        // Built directly: parsing a quoted statement per member is most of
        // what this costs otherwise.
        out.writes.push(syntax::stmt(
            mcfg.clone(),
            method(
                path_expr("w"),
                if m.optional { "opt" } else { "req" },
                [
                    lit_str(wire),
                    syntax::reference(syntax::self_field(f.clone())),
                ],
            ),
        ));
        if m.optional {
            out.fields.push(field(
                attrs([docs, mcfg.clone(), dep.into_iter().collect()]),
                f.clone(),
                syntax::generic(option.clone(), ty),
            ));
            out.new_inits.push(field_value(
                mcfg.clone(),
                f.clone(),
                Some(path_expr("None")),
            ));
            out.reads.push(field_value(mcfg, f, Some(read("opt"))));
        } else {
            let how = if g.is_absent_as_default(owner_name, wire) {
                "req_or_default"
            } else {
                "req"
            };
            out.reads
                .push(field_value(mcfg.clone(), f.clone(), Some(read(how))));
            out.fields.push(field(
                attrs([docs, mcfg.clone(), dep.into_iter().collect()]),
                f.clone(),
                ty.clone(),
            ));
            out.new_params.push(param(mcfg.clone(), f.clone(), ty));
            out.new_inits.push(field_value(mcfg, f, None));
            out.required += 1;
        }
    }
    Ok(out)
}

/// What `new` says of itself on a struct of members.
pub(super) const NEW_DOC: &[&str] = &[
    " A value with the required members given and every optional",
    " one absent; set optional members on the result.  Code built",
    " this way keeps compiling when a schema adds optional members.",
];

const CONSTRUCTOR: Template = Template(
    r#"
    impl __Self {
        pub fn new(__PARAMS: ()) -> Self {
            Self { __INITS }
        }
    }
    "#,
);

/// `new` for a struct with these fields (documented by `doc`, one string
/// per line), and whether `Default` can be derived (nothing required).
pub(super) fn constructor(
    name: &Ident,
    f: Fields,
    cfg: &Option<Attribute>,
    doc: &[&str],
) -> Result<(Item, bool), Error> {
    let derive_default = f.required == 0;
    let mut item = CONSTRUCTOR.item(
        &mut Fill::new()
            .ident("__Self", name.clone())
            .params("__PARAMS", f.new_params)
            .field_values("__INITS", f.new_inits),
    )?;
    if let Some(fn_attrs) = first_fn_attrs(&mut item) {
        fn_attrs.extend(doc.iter().map(|l| syntax::doc_attr(l)));
        if f.required > 7 {
            fn_attrs.push(syntax::list_attr(
                "allow",
                quote!(clippy::too_many_arguments),
            ));
        }
    }
    add_attrs(&mut item, cfg.iter().cloned().collect());
    Ok((item, derive_default))
}

const STRUCT: Template = Template(
    r#"
    #[derive(Clone)]
    pub struct __Self {
        __FIELDS: (),
    }
    "#,
);

const STRUCT_DEFAULT: Template = Template(
    r#"
    #[derive(Clone, Default)]
    pub struct __Self {
        __FIELDS: (),
    }
    "#,
);

/// What a struct with its `new` and `Deserialize` looks like.
pub(super) struct StructDef<'a> {
    pub name: &'a Ident,
    /// The QAPI name, for decoding errors.
    pub qapi_name: &'a str,
    /// The struct's own attributes: docs, `cfg`, deprecation.
    pub attrs: Vec<Attribute>,
    /// The `cfg` of its impls.
    pub cfg: &'a Option<Attribute>,
    /// What `new` says of itself, one string per line.
    pub new_doc: &'a [&'a str],
    /// The impls before `new` (commands and events) rather than after.
    pub de_first: bool,
}

/// A struct of `f`, its `new` and its impls.
pub(super) fn struct_with_impls(
    g: &Gen,
    def: StructDef,
    mut f: Fields,
) -> Result<Vec<Item>, Error> {
    let fields = std::mem::take(&mut f.fields);
    let writes = std::mem::take(&mut f.writes);
    let reads = std::mem::take(&mut f.reads);
    let (new, derive_default) = constructor(def.name, f, def.cfg, def.new_doc)?;
    let template = if derive_default {
        &STRUCT_DEFAULT
    } else {
        &STRUCT
    };
    let mut item = template.item(
        &mut Fill::new()
            .ident("__Self", def.name.clone())
            .fields("__FIELDS", fields),
    )?;
    add_attrs(&mut item, def.attrs);
    let impls = object_impls(g, def.name, def.qapi_name, writes, reads, def.cfg)?;
    let mut out = vec![item];
    if def.de_first {
        out.extend(impls);
        out.push(new);
    } else {
        out.push(new);
        out.extend(impls);
    }
    Ok(out)
}

pub(super) fn struct_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let name = g.ident_of(id);
    let members = s.members(id);
    let docs = g.entity_docs(id);
    let cfg = cond.cfg_attr();
    let dep = g.deprecated_attr(&e.features);
    let f = fields(g, id, &e.name, &members, None)?;
    struct_with_impls(
        g,
        StructDef {
            name: &name,
            qapi_name: &e.name,
            attrs: definition_attrs(docs, &cfg, dep),
            cfg: &cfg,
            new_doc: NEW_DOC,
            de_first: false,
        },
        f,
    )
}

/// A union's branch enum, as its emitters see it: the variants, and the
/// arms of `Branches::tag`, `Branches::write` and `Branches::read`.
#[derive(Default)]
struct BranchParts {
    variants: Vec<syn::Variant>,
    tags: Vec<syn::Arm>,
    writes: Vec<syn::Arm>,
    reads: Vec<syn::Arm>,
}

fn branch_parts(g: &mut Gen, id: EntityId) -> BranchParts {
    let s = g.schema;
    let mut out = BranchParts::default();
    let Some(o) = s.entity(id).as_object() else {
        return out;
    };
    let Some(b) = &o.branches else {
        return out;
    };
    for v in &b.variants {
        let wire = &*v.name;
        let fallback = format!("Branch `{wire}`.");
        let vname = naming::variant_name(wire);
        let Some(PartAttrs {
            cfg: vcfg, docs, ..
        }) = part_attrs(g, Some(id), v.into(), &fallback, false, Some(&vname))
        else {
            continue;
        };
        let t = v.type_id();
        let empty = &*s.entity(t).name == "q_empty";
        let vi = ident(&vname);
        let ty = (!empty).then(|| g.type_ref(t, Some(id)));
        out.variants
            .push(variant(attrs([docs, vcfg.clone()]), vi.clone(), ty));
        let (tag_pat, write, read): (syn::Pat, syn::Expr, syn::Expr) = if empty {
            (
                syn::parse_quote!(Self::#vi),
                syn::parse_quote!({}),
                syn::parse_quote!(Some(Self::#vi)),
            )
        } else {
            (
                syn::parse_quote!(Self::#vi(_)),
                syn::parse_quote!(::qapi_support::Members::write(b, w)),
                syn::parse_quote!(Some(Self::#vi(r.branch()?))),
            )
        };
        let write_pat: syn::Pat = if empty {
            syn::parse_quote!(Self::#vi)
        } else {
            syn::parse_quote!(Self::#vi(ref b))
        };
        out.tags.push(arm(vcfg.clone(), tag_pat, lit_str(wire)));
        out.writes.push(arm(vcfg.clone(), write_pat, write));
        out.reads.push(arm(vcfg, str_pat(wire), read));
    }
    out
}

/// A union's branches: the enum and its `Branches` impl.
const BRANCHES: Template = Template(
    r#"
    #[derive(Clone, Debug, PartialEq)]
    #[allow(clippy::large_enum_variant)]
    pub enum __Self {
        __VARIANTS
    }

    #[allow(unused_variables)]
    impl ::qapi_support::Branches for __Self {
        const TAG: &'static str = __TAG;
        fn tag(&self) -> &'static str {
            match *self {
                __TAGS => {}
            }
        }
        fn write(&self, w: &mut ::qapi_support::Writer<'_>) {
            match *self {
                __WRITES => {}
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

/// A union without common members is its branch enum; its member walk
/// is the discriminator, then the branch's members.
const TAGGED_IMPLS: Template = Template(
    r#"
    impl ::qapi_support::Members for __Self {
        fn write(&self, w: &mut ::qapi_support::Writer<'_>) {
            ::qapi_support::ser::tag_and_branch(self, w)
        }
        fn read(r: &mut ::qapi_support::Reader) -> __Option<Self> {
            r.branches()
        }
    }
    "#,
);

/// The object impls of a branch enum that is a type of its own (a union
/// without common members, `Event`): the discriminator, then the branch.
pub(super) fn tagged_impls(g: &Gen, name: &Ident, qapi_name: &str) -> Result<Vec<Item>, Error> {
    let mut items = TAGGED_IMPLS.fill(&mut type_fill(g, name))?;
    items.push(syn::parse_quote!(::qapi_support::serde_impls!(#name, #qapi_name);));
    Ok(items)
}

/// A union's branch enum and its impls; when the enum is the union's
/// type, `standalone` gives its QAPI name, and it gets the object impls.
fn branch_enum(
    g: &Gen,
    name: &Ident,
    tag: &str,
    parts: BranchParts,
    def_attrs: Vec<Attribute>,
    cfg: &Option<Attribute>,
    standalone: Option<&str>,
) -> Result<Vec<Item>, Error> {
    let mut items = BRANCHES.fill(
        &mut type_fill(g, name)
            .expr("__TAG", lit_str(tag))
            .variants("__VARIANTS", parts.variants)
            .arms("__TAGS", parts.tags)
            .arms("__WRITES", parts.writes)
            .arms("__ARMS", parts.reads),
    )?;
    if let Some(qapi_name) = standalone {
        items.extend(tagged_impls(g, name, qapi_name)?);
    }
    add_item_attrs(&mut items, def_attrs, cfg);
    Ok(items)
}

pub(super) fn union_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let o = e.as_object().expect("a union is an object");
    let b = o.branches.as_ref().expect("a union has branches");
    let tag = &*b.tag_name;
    let name = g.ident_of(id);
    let docs = g.entity_docs(id);
    let cfg = cond.cfg_attr();
    let dep = g.deprecated_attr(&e.features);
    let parts = branch_parts(g, id);
    if g.union_is_enum(id) {
        return branch_enum(
            g,
            &name,
            tag,
            parts,
            definition_attrs(docs, &cfg, dep),
            &cfg,
            Some(&e.name),
        );
    }
    let members = s.members(id);
    let mut f = fields(g, id, &e.name, &members, Some(tag))?;
    let branch = ident(&format!("{name}Branch"));
    let branch_ty = syntax::path_ty(branch.clone().into());
    let u = ident("u");
    f.fields.push(field(
        syntax::doc_attrs("The members that depend on the discriminator."),
        u.clone(),
        branch_ty.clone(),
    ));
    f.new_params.push(param(Vec::new(), u.clone(), branch_ty));
    f.new_inits.push(field_value(Vec::new(), u.clone(), None));
    f.writes
        .push(syn::parse_quote!(::qapi_support::Branches::write(&self.u, w);));
    f.reads.push(field_value(
        Vec::new(),
        u,
        Some(method(path_expr("r"), "branches", [])),
    ));
    f.required += 1;
    let mut items = struct_with_impls(
        g,
        StructDef {
            name: &name,
            qapi_name: &e.name,
            attrs: definition_attrs(docs, &cfg, dep),
            cfg: &cfg,
            new_doc: NEW_DOC,
            de_first: false,
        },
        f,
    )?;
    let branch_doc = format!(" The branches of [`{name}`], selected by its discriminator `{tag}`.");
    items.extend(branch_enum(
        g,
        &branch,
        tag,
        parts,
        attrs([
            vec![syntax::doc_attr(&branch_doc)],
            cfg.iter().cloned().collect(),
        ]),
        &cfg,
        None,
    )?);
    Ok(items)
}

const ALTERNATE: Template = Template(
    r#"
    #[derive(Clone, Debug, PartialEq)]
    #[allow(clippy::large_enum_variant)]
    pub enum __Self {
        __VARIANTS
    }

    /// Encodes what it holds.
    impl ::serde::Serialize for __Self {
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> __Result<S::Ok, S::Error> {
            match *self {
                __SER => {}
            }
        }
    }

    /// Picks the branch by the value's JSON type, as QEMU does.
    impl<'de> ::serde::Deserialize<'de> for __Self {
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> __Result<Self, D::Error> {
            let v = <::serde_json::Value as ::serde::Deserialize>::deserialize(d)?;
            #[allow(unreachable_patterns)]
            let r = match ::qapi_support::de::Kind::of(&v) {
                __ARMS => {}
                _ => Err(::qapi_support::de::no_branch(__QAPI_NAME, &v, __EXPECTED)),
            };
            r.map_err(<D::Error as ::serde::de::Error>::custom)
        }
    }
    "#,
);

/// The forms of one member across the releases of range bindings.
const FORMS: Template = Template(
    r#"
    #[derive(Clone, Debug, PartialEq)]
    #[allow(clippy::large_enum_variant)]
    pub enum __Self {
        __VARIANTS
    }

    /// Encodes what it holds.
    impl ::serde::Serialize for __Self {
        fn serialize<S: ::serde::Serializer>(&self, s: S) -> __Result<S::Ok, S::Error> {
            match *self {
                __SER => {}
            }
        }
    }

    /// Takes the first form that decodes the value, newest first.
    impl<'de> ::serde::Deserialize<'de> for __Self {
        fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> __Result<Self, D::Error> {
            let v = <::serde_json::Value as ::serde::Deserialize>::deserialize(d)?;
            let mut errors = ::std::vec::Vec::new();
            for form in __FORMS {
                #[allow(clippy::match_single_binding)]
                let r = match *form {
                    __ARMS => {}
                    _ => continue,
                };
                match r {
                    Ok(x) => return Ok(x),
                    Err(e) => errors.push(e),
                }
            }
            Err(<D::Error as ::serde::de::Error>::custom(errors.join("; ")))
        }
    }
    "#,
);

/// An arm of an alternate's `Serialize`: what the variant holds, or
/// `null`.
fn ser_arm(cfg: &[Attribute], vname: &str, null: bool) -> syn::Arm {
    let v = ident(vname);
    let (pat, body): (syn::Pat, syn::Expr) = if null {
        (
            syn::parse_quote!(Self::#v),
            syn::parse_quote!(s.serialize_unit()),
        )
    } else {
        (
            syn::parse_quote!(Self::#v(ref v)),
            syn::parse_quote!(::serde::Serialize::serialize(v, s)),
        )
    };
    arm(cfg.to_vec(), pat, body)
}

/// The forms type of range bindings: one variant per type the member had,
/// tried in order.
fn forms_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Alternate { variants, .. } = &e.kind else {
        return Ok(Vec::new());
    };
    let name = g.ident_of(id);
    // `q_forms_OWNER-MEMBER`
    let what = e.name.strip_prefix("q_forms_").unwrap_or(&e.name);
    let (owner, member) = what.rsplit_once('-').unwrap_or((what, ""));
    let owner_name = s
        .lookup(owner)
        .map(|o| g.name_of(o).to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| owner.to_string());
    let text = format!(
        "The types member `{member}` of `{owner_name}` has in the releases of \
         these bindings, newest first.  A value decodes as the first form \
         that accepts it; it encodes as what it holds."
    );
    let docs = g.member_docs(None, &[], &text, None, None);
    let qapi_name = format!("{owner}.{member}");
    let cfg = cond.cfg_attr();
    let mut vs = Vec::new();
    let mut arms = Vec::new();
    let mut ser = Vec::new();
    let mut forms = Vec::new();
    for v in variants {
        let fallback = format!("Type `{}`.", v.type_name);
        let form = PartRef {
            doc: None,
            features: &[],
            ..v.into()
        };
        let Some(PartAttrs {
            cfg: vcfg,
            docs: vdocs,
            ..
        }) = part_attrs(g, Some(id), form, &fallback, false, None)
        else {
            continue;
        };
        let vname = naming::variant_name(&v.name);
        let t = v.type_id();
        let self_v = format!("Self::{vname}");
        ser.push(ser_arm(
            &vcfg,
            &vname,
            s.entity(t).json_type() == Some("null"),
        ));
        let body = if s.entity(t).json_type() == Some("null") {
            vs.push(variant(attrs([vdocs, vcfg.clone()]), ident(&vname), None));
            let wrap: syn::Expr = syn::parse_str(&format!("|()| {self_v}"))
                .map_err(|e| Error::bare(format!("internal: {e}")))?;
            call(
                "::qapi_support::de::branch",
                [
                    lit_str(&qapi_name),
                    method(path_expr("v"), "clone", []),
                    wrap,
                ],
            )
        } else {
            let ty = g.type_ref(t, Some(id));
            vs.push(variant(
                attrs([vdocs, vcfg.clone()]),
                ident(&vname),
                Some(ty),
            ));
            call(
                "::qapi_support::de::branch",
                [
                    lit_str(&qapi_name),
                    method(path_expr("v"), "clone", []),
                    path_expr(&self_v),
                ],
            )
        };
        arms.push(arm(vcfg.clone(), str_pat(&v.name), body));
        forms.push(with_attrs(lit_str(&v.name), vcfg));
    }
    let mut items = FORMS.fill(
        &mut type_fill(g, &name)
            .variants("__VARIANTS", vs)
            .arms("__ARMS", arms)
            .arms("__SER", ser)
            .expr("__FORMS", slice(forms)),
    )?;
    add_item_attrs(&mut items, definition_attrs(docs, &cfg, None), &cfg);
    Ok(items)
}

pub(super) fn alternate_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<Vec<Item>, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Alternate {
        variants, forms, ..
    } = &e.kind
    else {
        return Ok(Vec::new());
    };
    if *forms {
        return forms_items(g, id, cond);
    }
    let name = g.ident_of(id);
    let qapi_name = &*e.name;
    let docs = g.entity_docs(id);
    let cfg = cond.cfg_attr();
    let dep = g.deprecated_attr(&e.features);
    let mut vs = Vec::new();
    let mut arms = Vec::new();
    let mut ser = Vec::new();
    let mut expected = Vec::new();
    for v in variants {
        let fallback = format!("Branch `{}`.", v.name);
        let Some(PartAttrs {
            cfg: vcfg, docs, ..
        }) = part_attrs(g, Some(id), v.into(), &fallback, false, None)
        else {
            continue;
        };
        let vname = naming::variant_name(&v.name);
        let self_v = format!("Self::{vname}");
        let t = v.type_id();
        let te = s.entity(t);
        let json = te.json_type().unwrap_or("value");
        ser.push(ser_arm(&vcfg, &vname, json == "null"));
        let kinds: &[&str] = match json {
            "null" => &["Null"],
            "boolean" => &["Bool"],
            "int" => &["Int"],
            "number" => &["Int", "Float"],
            "string" => &["String"],
            "array" => &["Array"],
            _ => &["Object"],
        };
        expected.push(match json {
            "null" => "null",
            "boolean" => "a boolean",
            "int" => "an integer",
            "number" => "a number",
            "string" => "a string",
            "array" => "an array",
            _ => "an object",
        });
        let mut pats = kinds
            .iter()
            .map(|k| path_pat(&format!("::qapi_support::de::Kind::{k}")));
        let pat = match (pats.next(), kinds.len()) {
            (Some(p), 1) => p,
            (first, _) => syn::Pat::Or(syn::PatOr {
                attrs: Vec::new(),
                leading_vert: None,
                cases: first.into_iter().chain(pats).collect(),
            }),
        };
        if json == "null" {
            vs.push(variant(attrs([docs, vcfg.clone()]), ident(&vname), None));
            arms.push(arm(vcfg, pat, call("Ok", [path_expr(&self_v)])));
        } else {
            let ty = g.type_ref(t, Some(id));
            vs.push(variant(
                attrs([docs, vcfg.clone()]),
                ident(&vname),
                Some(ty),
            ));
            arms.push(arm(
                vcfg,
                pat,
                call(
                    "::qapi_support::de::branch",
                    [lit_str(qapi_name), path_expr("v"), path_expr(&self_v)],
                ),
            ));
        }
    }
    let expected = match expected.len() {
        0 => String::from("nothing"),
        1 => expected[0].to_string(),
        n => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
    };
    let mut items = ALTERNATE.fill(
        &mut type_fill(g, &name)
            .variants("__VARIANTS", vs)
            .arms("__ARMS", arms)
            .arms("__SER", ser)
            .expr("__QAPI_NAME", lit_str(qapi_name))
            .expr("__EXPECTED", lit_str(&expected)),
    )?;
    add_item_attrs(&mut items, definition_attrs(docs, &cfg, dep), &cfg);
    Ok(items)
}
