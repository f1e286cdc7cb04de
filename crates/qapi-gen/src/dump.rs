//! The IR and doc dump in the format of QEMU's `tests/qapi-schema/*.out`
//! (the visitor in QEMU's `test-qapi.py`).

use std::fmt::Write;

use crate::check::ast::IfCond;
use crate::model::{Entity, EntityKind, Feature, Member, Schema};

/// Renders the schema as QEMU's test harness prints it.
pub fn dump(schema: &Schema) -> String {
    let mut out = String::with_capacity(schema.entities.len() * 64);
    for module in &schema.modules {
        let _ = writeln!(out, "module {}", module.name);
        for id in &module.entities {
            dump_entity(schema, schema.entity(*id), &mut out);
        }
    }
    for doc in &schema.docs {
        match &doc.symbol {
            Some(s) => {
                let _ = writeln!(out, "doc symbol={s}");
            }
            None => out.push_str("doc freeform\n"),
        }
        let _ = writeln!(out, "    body=\n{}", doc.body().text);
        for (name, sec) in doc.args() {
            let _ = writeln!(out, "    arg={name}\n{}", sec.text);
        }
        for (name, sec) in doc.features() {
            let _ = writeln!(out, "    feature={name}\n{}", sec.text);
        }
        for sec in doc.sections() {
            let name = sec.dump_name(schema.rules.section_kind_names);
            let _ = writeln!(out, "    section={name}\n{}", sec.text);
        }
    }
    out
}

fn print_if(out: &mut String, ifcond: &Option<IfCond>, indent: usize) {
    if let Some(c) = ifcond {
        let _ = writeln!(out, "{:indent$}if {}", "", c.python_repr());
    }
}

fn print_features(out: &mut String, features: &[Feature], indent: usize) {
    for f in features {
        let _ = writeln!(out, "{:indent$}feature {}", "", f.name);
        print_if(out, &f.ifcond, indent + 4);
    }
}

fn print_variants(out: &mut String, tag: &Member, variants: &[Member]) {
    let _ = writeln!(out, "    tag {}", tag.name);
    for v in variants {
        let _ = writeln!(out, "    case {}: {}", v.name, v.type_name);
        print_if(out, &v.ifcond, 8);
    }
}

fn dump_entity(schema: &Schema, e: &Entity, out: &mut String) {
    match &e.kind {
        EntityKind::Include { module } => {
            let _ = writeln!(out, "include {}", schema.modules[module.0 as usize].name);
        }
        EntityKind::Builtin { .. } => {}
        EntityKind::Enum { members, prefix } => {
            let _ = writeln!(out, "enum {}", e.name);
            // QEMU prints a prefix that is not empty.
            if let Some(p) = prefix.as_ref().filter(|p| !p.is_empty()) {
                let _ = writeln!(out, "    prefix {p}");
            }
            for m in members {
                let _ = writeln!(out, "    member {}", m.name);
                print_if(out, &m.ifcond, 8);
                print_features(out, &m.features, 8);
            }
            print_if(out, &e.ifcond, 4);
            print_features(out, &e.features, 4);
        }
        EntityKind::Array {
            element,
            element_name,
        } => {
            if e.info.is_none() {
                return;
            }
            let _ = writeln!(out, "array {} {element_name}", e.name);
            let ifcond = element.map(|el| &schema.entity(el).ifcond);
            if let Some(c) = ifcond {
                print_if(out, c, 4);
            }
        }
        EntityKind::Object(o) => {
            let _ = writeln!(out, "object {}", e.name);
            if let Some(b) = &o.base_name {
                let _ = writeln!(out, "    base {b}");
            }
            for m in &o.local_members {
                let _ = writeln!(
                    out,
                    "    member {}: {} optional={}",
                    m.name,
                    m.type_name,
                    if m.optional { "True" } else { "False" }
                );
                print_if(out, &m.ifcond, 8);
                print_features(out, &m.features, 8);
            }
            if let Some(b) = &o.branches {
                if let Some(tag) = &b.tag_member {
                    print_variants(out, tag, &b.variants);
                }
            }
            print_if(out, &e.ifcond, 4);
            print_features(out, &e.features, 4);
        }
        EntityKind::Alternate {
            tag_member,
            variants,
            ..
        } => {
            let _ = writeln!(out, "alternate {}", e.name);
            print_variants(out, tag_member, variants);
            print_if(out, &e.ifcond, 4);
            print_features(out, &e.features, 4);
        }
        EntityKind::Command(c) => {
            let py = |b: bool| if b { "True" } else { "False" };
            let _ = writeln!(
                out,
                "command {} {} -> {}",
                e.name,
                c.arg_type_name.as_deref().unwrap_or("None"),
                c.ret_type_name.as_deref().unwrap_or("None")
            );
            let _ = writeln!(
                out,
                "    gen={} success_response={} boxed={} oob={} preconfig={}{}",
                py(c.gen),
                py(c.success_response),
                py(c.boxed),
                py(c.allow_oob),
                py(c.allow_preconfig),
                if c.coroutine { " coroutine=True" } else { "" }
            );
            print_if(out, &e.ifcond, 4);
            print_features(out, &e.features, 4);
        }
        EntityKind::Event(ev) => {
            let _ = writeln!(
                out,
                "event {} {}",
                e.name,
                ev.arg_type_name.as_deref().unwrap_or("None")
            );
            let _ = writeln!(out, "    boxed={}", if ev.boxed { "True" } else { "False" });
            print_if(out, &e.ifcond, 4);
            print_features(out, &e.features, 4);
        }
    }
}
