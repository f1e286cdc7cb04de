//! Enums, structs, unions and alternates.

use proc_macro2::TokenStream;
use quote::quote;

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

/// `#[serde(rename = "wire")]` when the Rust name differs.
fn rename(wire: &str, rust: &str) -> TokenStream {
    if wire == rust {
        TokenStream::new()
    } else {
        quote!(#[serde(rename = #wire)])
    }
}

pub(super) fn enum_items(g: &mut Gen, id: EntityId, cond: &Cond) -> TokenStream {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Enum { members, .. } = &e.kind else {
        return TokenStream::new();
    };
    let name = g.ident_of(id);
    let qapi_name = &*e.name;
    let docs = g.entity_docs(id);
    let cfg = cond.attr();
    let dep = g.deprecated_attr(&e.features);
    let (result, string) = (g.prelude("Result"), g.prelude("String"));
    let mut variants = Vec::new();
    let mut as_str_arms = Vec::new();
    let mut from_str_arms = Vec::new();
    let mut all = Vec::new();
    for m in members {
        let mc = g.cond(m.ifcond.as_ref());
        if !mc.emitted() {
            continue;
        }
        let mcfg = mc.attr();
        let v = ident(&naming::variant_name(&m.name));
        let wire = &*m.name;
        let ren = rename(wire, &v.to_string());
        let mdocs = g.member_docs(m.doc, &m.features, &format!("`{wire}`"));
        let mdep = g.deprecated_attr(&m.features);
        variants.push(quote!(#mdocs #mcfg #mdep #ren #v,));
        as_str_arms.push(quote!(#mcfg Self::#v => #wire,));
        from_str_arms.push(quote!(#mcfg #wire => Ok(Self::#v),));
        all.push(quote!(#mcfg Self::#v,));
    }
    let unknown = g.opts.unknown_enum_values;
    let (copy, extra_variant, as_str_sig, unknown_arm, from_str_fallback, err_ty, all_const) =
        if unknown {
            (
                TokenStream::new(),
                quote! {
                    /// A value this schema does not know (sent by a newer peer).
                    #[serde(untagged)]
                    Unknown(#string),
                },
                quote!(pub fn as_str(&self) -> &str),
                quote!(Self::Unknown(s) => s,),
                quote!(other => Ok(Self::Unknown(other.to_string())),),
                quote!(std::convert::Infallible),
                TokenStream::new(),
            )
        } else {
            (
                quote!(Copy,),
                TokenStream::new(),
                quote!(pub fn as_str(self) -> &'static str),
                TokenStream::new(),
                quote! {
                    _ => Err(::qapi_support::UnknownValue {
                        type_name: #qapi_name,
                        value: s.to_string(),
                    }),
                },
                quote!(::qapi_support::UnknownValue),
                quote! {
                    /// Every value, in schema order.
                    pub const ALL: &'static [Self] = &[#(#all)*];
                },
            )
        };
    let display_call = if unknown {
        quote!(self.as_str())
    } else {
        quote!((*self).as_str())
    };
    quote! {
        #docs
        #cfg
        #dep
        #[derive(Clone, #copy Debug, PartialEq, Eq, Hash, ::serde::Serialize)]
        pub enum #name {
            #(#variants)*
            #extra_variant
        }

        #cfg
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> #result<Self, D::Error> {
                ::qapi_support::de::parse_str(d)
            }
        }

        #cfg
        impl #name {
            #all_const
            /// The value as it is on the wire.
            #as_str_sig {
                match self {
                    #(#as_str_arms)*
                    #unknown_arm
                }
            }
        }

        #cfg
        impl std::str::FromStr for #name {
            type Err = #err_ty;
            fn from_str(s: &str) -> #result<Self, Self::Err> {
                #[allow(clippy::match_single_binding)]
                match s {
                    #(#from_str_arms)*
                    #from_str_fallback
                }
            }
        }

        #cfg
        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(#display_call)
            }
        }
    }
}

/// The fields of a struct made of `members`, plus what `new` needs.
pub(super) struct Fields {
    pub fields: Vec<TokenStream>,
    pub new_params: Vec<TokenStream>,
    pub new_inits: Vec<TokenStream>,
    /// `field: o.req("wire")?,` for the `Deserialize` impl.
    pub de_inits: Vec<TokenStream>,
    pub required: usize,
}

/// The `Deserialize` impl of a struct: read the object, take each member.
pub(super) fn struct_de_impl(
    g: &Gen,
    name: &proc_macro2::Ident,
    qapi_name: &str,
    de_inits: &[TokenStream],
    cfg: &TokenStream,
) -> TokenStream {
    let result = g.prelude("Result");
    quote! {
        #cfg
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> #result<Self, D::Error> {
                #[allow(unused_mut, unused_variables)]
                let mut o = ::qapi_support::de::Object::read(d, #qapi_name)?;
                Ok(Self { #(#de_inits)* })
            }
        }
    }
}

pub(super) fn fields(
    g: &mut Gen,
    owner: EntityId,
    owner_name: &str,
    members: &[&Member],
) -> Result<Fields, Error> {
    let s = g.schema;
    let mut out = Fields {
        fields: Vec::new(),
        new_params: Vec::new(),
        new_inits: Vec::new(),
        de_inits: Vec::new(),
        required: 0,
    };
    let mut seen: std::collections::HashMap<String, &str> = Default::default();
    let option = g.prelude("Option");
    for m in members {
        let mc = g.cond(m.ifcond.as_ref());
        if !mc.emitted() {
            continue;
        }
        let fname = naming::field_name(&m.name);
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
        let wire = &*m.name;
        let ty = g.type_ref(m.type_id(), Some(owner));
        let mcfg = mc.attr();
        let docs = g.member_docs(m.doc, &m.features, &format!("`{wire}`"));
        let dep = g.deprecated_attr(&m.features);
        let ren = rename(wire, &fname);
        if m.optional {
            out.fields.push(quote! {
                #docs #mcfg #dep #ren
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub #f: #option<#ty>,
            });
            out.new_inits.push(quote!(#mcfg #f: None,));
            out.de_inits.push(quote!(#mcfg #f: o.opt(#wire)?,));
        } else {
            let absent_default = g.is_absent_as_default(owner_name, wire);
            let default = if absent_default {
                out.de_inits
                    .push(quote!(#mcfg #f: o.req_or_default(#wire)?,));
                quote!(#[serde(default)])
            } else {
                out.de_inits.push(quote!(#mcfg #f: o.req(#wire)?,));
                TokenStream::new()
            };
            out.fields.push(quote! {
                #docs #mcfg #dep #ren #default
                pub #f: #ty,
            });
            out.new_params.push(quote!(#mcfg #f: #ty));
            out.new_inits.push(quote!(#mcfg #f,));
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

/// `new` for a struct with these fields (documented by `doc`, one string
/// per line), and the `Default` derive when nothing is required.
pub(super) fn constructor(
    name: &proc_macro2::Ident,
    f: &Fields,
    cfg: &TokenStream,
    doc: &[&str],
) -> (TokenStream, TokenStream) {
    let params = &f.new_params;
    let inits = &f.new_inits;
    let allow = if f.required > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        TokenStream::new()
    };
    let derive_default = if f.required == 0 {
        quote!(Default,)
    } else {
        TokenStream::new()
    };
    let new = quote! {
        #cfg
        impl #name {
            #(#[doc = #doc])*
            #allow
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits)* }
            }
        }
    };
    (new, derive_default)
}

pub(super) fn struct_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<TokenStream, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let name = g.ident_of(id);
    let members = s.members(id);
    let docs = g.entity_docs(id);
    let cfg = cond.attr();
    let dep = g.deprecated_attr(&e.features);
    let f = fields(g, id, &e.name, &members)?;
    let (new, derive_default) = constructor(&name, &f, &cfg, NEW_DOC);
    let de = struct_de_impl(g, &name, &e.name, &f.de_inits, &cfg);
    let fs = &f.fields;
    Ok(quote! {
        #docs
        #cfg
        #dep
        #[derive(Clone, Debug, #derive_default PartialEq, ::serde::Serialize)]
        pub struct #name {
            #(#fs)*
        }

        #new
        #de
    })
}

/// The variants of a union's branch enum, and the arms of its
/// `Deserialize` (`"wire" => o.rest().map(Self::V),`).
fn branch_variants(g: &mut Gen, id: EntityId) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let s = g.schema;
    let Some(o) = s.entity(id).as_object() else {
        return Default::default();
    };
    let Some(b) = &o.branches else {
        return Default::default();
    };
    let mut out = Vec::new();
    let mut arms = Vec::new();
    for v in &b.variants {
        let vc = g.cond(v.ifcond.as_ref());
        if !vc.emitted() {
            continue;
        }
        let vcfg = vc.attr();
        let vname = ident(&naming::variant_name(&v.name));
        let wire = &*v.name;
        let ren = rename(wire, &vname.to_string());
        let t = v.type_id();
        let empty = &*s.entity(t).name == "q_empty";
        let docs = g.member_docs(v.doc, &v.features, &format!("Branch `{wire}`."));
        if empty {
            out.push(quote!(#docs #vcfg #ren #vname,));
            arms.push(quote!(#vcfg #wire => Ok(Self::#vname),));
        } else {
            let ty = g.type_ref(t, Some(id));
            out.push(quote!(#docs #vcfg #ren #vname(#ty),));
            arms.push(quote!(#vcfg #wire => o.rest().map(Self::#vname),));
        }
    }
    (out, arms)
}

/// The `Deserialize` of a union's branch enum: take the discriminator,
/// decode the rest as the branch.
fn branch_de_impl(
    g: &Gen,
    name: &proc_macro2::Ident,
    qapi_name: &str,
    tag: &str,
    arms: &[TokenStream],
    cfg: &TokenStream,
) -> TokenStream {
    let result = g.prelude("Result");
    quote! {
        #cfg
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> #result<Self, D::Error> {
                #[allow(unused_mut)]
                let mut o = ::qapi_support::de::Object::read(d, #qapi_name)?;
                let tag = o.tag(#tag)?;
                #[allow(clippy::match_single_binding)]
                match tag.as_str() {
                    #(#arms)*
                    other => Err(o.unknown_tag(#tag, other)),
                }
            }
        }
    }
}

pub(super) fn union_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<TokenStream, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let o = e.as_object().expect("a union is an object");
    let b = o.branches.as_ref().expect("a union has branches");
    let tag = &*b.tag_name;
    let name = g.ident_of(id);
    let docs = g.entity_docs(id);
    let cfg = cond.attr();
    let dep = g.deprecated_attr(&e.features);
    let (variants, arms) = branch_variants(g, id);
    if g.union_is_enum(id) {
        let de = branch_de_impl(g, &name, &e.name, tag, &arms, &cfg);
        return Ok(quote! {
            #docs
            #cfg
            #dep
            #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
            #[serde(tag = #tag)]
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #(#variants)*
            }

            #de
        });
    }
    let members: Vec<&Member> = s
        .members(id)
        .into_iter()
        .filter(|m| &*m.name != tag)
        .collect();
    let mut f = fields(g, id, &e.name, &members)?;
    let branch = ident(&format!("{name}Branch"));
    f.fields.push(quote! {
        /// The members that depend on the discriminator.
        #[serde(flatten)]
        pub u: #branch,
    });
    f.new_params.push(quote!(u: #branch));
    f.new_inits.push(quote!(u,));
    f.de_inits.push(quote!(u: o.rest()?,));
    f.required += 1;
    let (new, _) = constructor(&name, &f, &cfg, NEW_DOC);
    let de = struct_de_impl(g, &name, &e.name, &f.de_inits, &cfg);
    let branch_de = branch_de_impl(g, &branch, &e.name, tag, &arms, &cfg);
    let fs = &f.fields;
    let branch_doc = format!(" The branches of [`{name}`], selected by its discriminator `{tag}`.");
    Ok(quote! {
        #docs
        #cfg
        #dep
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        pub struct #name {
            #(#fs)*
        }

        #new
        #de

        #[doc = #branch_doc]
        #cfg
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        #[serde(tag = #tag)]
        #[allow(clippy::large_enum_variant)]
        pub enum #branch {
            #(#variants)*
        }

        #branch_de
    })
}

pub(super) fn alternate_items(g: &mut Gen, id: EntityId, cond: &Cond) -> TokenStream {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Alternate { variants, .. } = &e.kind else {
        return TokenStream::new();
    };
    let name = g.ident_of(id);
    let qapi_name = &*e.name;
    let docs = g.entity_docs(id);
    let cfg = cond.attr();
    let dep = g.deprecated_attr(&e.features);
    let result = g.prelude("Result");
    let mut vs = Vec::new();
    let mut arms = Vec::new();
    let mut expected = Vec::new();
    for v in variants {
        let vc = g.cond(v.ifcond.as_ref());
        if !vc.emitted() {
            continue;
        }
        let vcfg = vc.attr();
        let vname = ident(&naming::variant_name(&v.name));
        let t = v.type_id();
        let te = s.entity(t);
        let docs = g.member_docs(v.doc, &v.features, &format!("Branch `{}`.", v.name));
        let json = te.json_type().unwrap_or("value");
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
        let kind_pats = kinds.iter().map(|k| {
            let k = ident(k);
            quote!(::qapi_support::de::Kind::#k)
        });
        if json == "null" {
            vs.push(quote!(#docs #vcfg #vname,));
            arms.push(quote!(#vcfg #(#kind_pats)|* => Ok(Self::#vname),));
        } else {
            let ty = g.type_ref(t, Some(id));
            vs.push(quote!(#docs #vcfg #vname(#ty),));
            arms.push(quote! {
                #vcfg #(#kind_pats)|* => ::qapi_support::de::branch(#qapi_name, v, Self::#vname),
            });
        }
    }
    let expected = match expected.len() {
        0 => String::from("nothing"),
        1 => expected[0].to_string(),
        n => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
    };
    quote! {
        #docs
        #cfg
        #dep
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        #[serde(untagged)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #(#vs)*
        }

        /// Picks the branch by the value's JSON type, as QEMU does.
        #cfg
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> #result<Self, D::Error> {
                let v = <::serde_json::Value as ::serde::Deserialize>::deserialize(d)?;
                #[allow(unreachable_patterns)]
                let r = match ::qapi_support::de::Kind::of(&v) {
                    #(#arms)*
                    _ => Err(::qapi_support::de::no_branch(#qapi_name, &v, #expected)),
                };
                r.map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    }
}
