//! Commands and events: argument structs and the `Command` trait, event
//! data structs, and the root items (`Event`, `QmpHandler`, `dispatch`,
//! `COMMANDS`, introspection).

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{constructor, fields, struct_de_impl};
use super::{ident, Gen};
use crate::backend::cond::Cond;
use crate::backend::naming;
use crate::error::Error;
use crate::model::{EntityId, EntityKind};

/// The argument struct of a command and its `Command` impl.
pub(super) fn command_items(g: &mut Gen, id: EntityId, cond: &Cond) -> Result<TokenStream, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Command(c) = &e.kind else {
        return Ok(TokenStream::new());
    };
    let name = g.ident_of(id);
    let wire = &*e.name;
    let docs = g.entity_docs(id);
    let cfg = cond.attr();
    let dep = g.deprecated_attr(&e.features);
    let returns = match c.ret_type {
        Some(t) => g.type_ref(t, None),
        None => quote!(::qapi_support::Empty),
    };
    let (oob, preconfig, success, boxed) =
        (c.allow_oob, c.allow_preconfig, c.success_response, c.boxed);
    let body = match c.arg_type {
        Some(t) if s.entity(t).is_implicit() && &*s.entity(t).name != "q_empty" => {
            let members = s.members(t);
            let f = fields(g, t, wire, &members)?;
            let fs = &f.fields;
            let (new, derive_default) = constructor(
                &name,
                &f,
                &cfg,
                &[
                    " The arguments with the required ones given and every",
                    " optional one absent.",
                ],
            );
            let de = struct_de_impl(g, &name, wire, &f.de_inits, &cfg);
            quote! {
                #[derive(Clone, Debug, #derive_default PartialEq, ::serde::Serialize)]
                pub struct #name {
                    #(#fs)*
                }

                #de

                #new
            }
        }
        Some(t) if &*s.entity(t).name != "q_empty" => {
            let ty = g.type_ref(t, None);
            quote! {
                #[derive(Clone, Debug, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                #[serde(transparent)]
                pub struct #name(pub #ty);
            }
        }
        _ => quote! {
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
            pub struct #name {}
        },
    };
    Ok(quote! {
        #docs
        #cfg
        #dep
        #body

        #cfg
        impl ::qapi_support::Command for #name {
            const NAME: &'static str = #wire;
            type Returns = #returns;
            const ALLOW_OOB: bool = #oob;
            const ALLOW_PRECONFIG: bool = #preconfig;
            const SUCCESS_RESPONSE: bool = #success;
            const BOXED: bool = #boxed;
        }
    })
}

/// The data struct of an event whose data is given inline.
pub(super) fn event_data_items(
    g: &mut Gen,
    id: EntityId,
    cond: &Cond,
) -> Result<TokenStream, Error> {
    let s = g.schema;
    let e = s.entity(id);
    let EntityKind::Event(ev) = &e.kind else {
        return Ok(TokenStream::new());
    };
    let Some(data) = g.event_data.get(&id).cloned() else {
        return Ok(TokenStream::new());
    };
    let Some(t) = ev.arg_type else {
        return Ok(TokenStream::new());
    };
    let name = ident(&data);
    let cfg = cond.attr();
    let members = s.members(t);
    let f = fields(g, t, &e.name, &members)?;
    let fs = &f.fields;
    let (new, derive_default) = constructor(
        &name,
        &f,
        &cfg,
        &[
            " The data with the required members given and every optional",
            " one absent.",
        ],
    );
    let doc = format!(" The data of event `{}` (see [`super::Event`]).", e.name);
    let de = struct_de_impl(g, &name, &e.name, &f.de_inits, &cfg);
    Ok(quote! {
        #[doc = #doc]
        #cfg
        #[derive(Clone, Debug, #derive_default PartialEq, ::serde::Serialize)]
        pub struct #name {
            #(#fs)*
        }

        #de

        #new
    })
}

/// The `cfg` of a root item that refers to entity `id`: the entity's own
/// condition, and its module's feature when modules are optional.
fn root_cfg(g: &Gen, id: EntityId) -> Option<TokenStream> {
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
    Some(match (module, cond.predicate()) {
        (Some(m), Some(p)) => quote!(#[cfg(all(#m, #p))]),
        (Some(m), None) => quote!(#[cfg(#m)]),
        (None, _) => cond.attr(),
    })
}

pub(super) fn root_items(g: &mut Gen) -> Result<TokenStream, Error> {
    let s = g.schema;
    let (result, string) = (g.prelude("Result"), g.prelude("String"));
    let mut variants = Vec::new();
    let mut name_arms = Vec::new();
    let mut de_arms = Vec::new();
    let mut methods = Vec::new();
    let mut arms = Vec::new();
    let mut metas = Vec::new();
    for (i, e) in s.entities.iter().enumerate() {
        let id = EntityId(i as u32);
        match &e.kind {
            EntityKind::Event(ev) => {
                let Some(cfg) = root_cfg(g, id) else { continue };
                let v = g.ident_of(id);
                let wire = &*e.name;
                let docs = g.entity_docs(id);
                let dep = g.deprecated_attr(&e.features);
                let data = match (g.event_data.get(&id).cloned(), ev.arg_type) {
                    (Some(d), _) => Some(path_in_module(g, id, &d)),
                    (None, Some(t)) if &*s.entity(t).name != "q_empty" => Some(g.type_ref(t, None)),
                    _ => None,
                };
                match data {
                    Some(d) => {
                        variants.push(quote!(#docs #cfg #dep #[serde(rename = #wire)] #v(#d),));
                        name_arms.push(quote!(#cfg Self::#v(_) => #wire,));
                        de_arms.push(quote!(#cfg #wire => o.data().map(Self::#v),));
                    }
                    None => {
                        variants.push(quote!(#docs #cfg #dep #[serde(rename = #wire)] #v,));
                        name_arms.push(quote!(#cfg Self::#v => #wire,));
                        de_arms.push(quote!(#cfg #wire => Ok(Self::#v),));
                    }
                }
            }
            EntityKind::Command(c) => {
                let Some(cfg) = root_cfg(g, id) else { continue };
                let wire = &*e.name;
                let method = ident(&naming::field_name(wire));
                let args_ty = g.type_ref_root(id);
                let returns = match c.ret_type {
                    Some(t) => g.type_ref(t, None),
                    None => quote!(::qapi_support::Empty),
                };
                let has_args = c.arg_type.is_some_and(|t| &*s.entity(t).name != "q_empty");
                let doc = format!(" Runs `{wire}` (see [`{}`]).", args_path_text(g, id));
                let dep = g.deprecated_attr(&e.features);
                let (params, call) = if has_args {
                    (
                        quote!(args: #args_ty),
                        quote! {
                            let args = ::qapi_support::de::arguments(arguments)?;
                            ::qapi_support::de::reply(handler.#method(args))
                        },
                    )
                } else {
                    (
                        TokenStream::new(),
                        quote!(::qapi_support::de::reply(handler.#method())),
                    )
                };
                let unused = if has_args {
                    quote!(let _ = args;)
                } else {
                    TokenStream::new()
                };
                methods.push(quote! {
                    #[doc = #doc]
                    ///
                    /// The default refuses the command as QEMU refuses one it
                    /// does not have.
                    #cfg
                    #dep
                    fn #method(&self, #params) -> #result<#returns, ::qapi_support::QmpError> {
                        #unused
                        Err(::qapi_support::QmpError::command_not_found(#wire))
                    }
                });
                arms.push(quote! {
                    #cfg
                    #wire => {
                        check_arguments(command, &arguments)?;
                        #call
                    }
                });
                let (oob, pre, succ) = (c.allow_oob, c.allow_preconfig, c.success_response);
                let deprecated = e.features.iter().any(|f| &*f.name == "deprecated");
                metas.push(quote! {
                    #cfg
                    ::qapi_support::CommandMeta {
                        name: #wire,
                        allow_oob: #oob,
                        allow_preconfig: #pre,
                        success_response: #succ,
                        deprecated: #deprecated,
                    },
                });
            }
            _ => {}
        }
    }
    let name_body = if name_arms.is_empty() {
        quote!(match *self {})
    } else {
        quote! {
            #[allow(unreachable_patterns)]
            match self {
                #(#name_arms)*
                _ => "",
            }
        }
    };
    let mut out = quote! {
        /// Every event of the schema, in QMP's wire shape: `event` names
        /// it, `data` holds its data.  A whole message with its timestamp
        /// is a [`qapi_support::EventMessage<Event>`].
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        #[serde(tag = "event", content = "data")]
        #[allow(clippy::large_enum_variant, deprecated)]
        pub enum Event {
            #(#variants)*
        }

        #[allow(deprecated)]
        impl<'de> ::serde::Deserialize<'de> for Event {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> #result<Self, D::Error> {
                #[allow(unused_mut)]
                let mut o = ::qapi_support::de::Object::read(d, "Event")?;
                let name = o.tag("event")?;
                #[allow(clippy::match_single_binding)]
                match name.as_str() {
                    #(#de_arms)*
                    other => Err(o.unknown_tag("event", other)),
                }
            }
        }

        #[allow(deprecated)]
        impl Event {
            /// The event's name on the wire.
            pub fn name(&self) -> &'static str {
                #name_body
            }
        }
    };
    if !g.opts.server {
        return Ok(out);
    }
    out.extend(quote! {
        /// The commands of the schema, in schema order, with their flags.
        pub static COMMANDS: &[::qapi_support::CommandMeta] = &[#(#metas)*];

        /// The server side: one method per command.  Implement the ones you
        /// serve; the others answer `CommandNotFound` as QEMU does for a
        /// command it was built without.
        #[allow(deprecated)]
        pub trait QmpHandler {
            #(#methods)*
        }

        /// Runs one `execute`: checks `arguments` with QEMU's rules and
        /// error texts, decodes them, calls the handler and encodes its
        /// reply (`{}` for commands that return nothing).
        #[allow(deprecated, unused_variables)]
        pub fn dispatch<H: QmpHandler + ?Sized>(
            handler: &H,
            command: &str,
            arguments: ::serde_json::Map<#string, ::serde_json::Value>,
        ) -> #result<::serde_json::Value, ::qapi_support::QmpError> {
            let arguments = ::serde_json::Value::Object(arguments);
            #[allow(unreachable_code, clippy::match_single_binding)]
            match command {
                #(#arms)*
                _ => Err(::qapi_support::QmpError::command_not_found(command)),
            }
        }

    });
    Ok(out)
}

/// The path from the root to an item named `name` in entity `id`'s module.
fn path_in_module(g: &Gen, id: EntityId, name: &str) -> TokenStream {
    let e = g.schema.entity(id);
    let n = ident(name);
    match g.module_index[e.module.0 as usize] {
        Some(m) => {
            let m = ident(&g.module_idents[m]);
            quote!(#m::#n)
        }
        None => quote!(#n),
    }
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
    fn type_ref_root(&self, id: EntityId) -> TokenStream {
        path_in_module(self, id, self.name_of(id))
    }
}
