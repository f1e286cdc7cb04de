//! The model against the IR that QEMU's own front end builds for the real
//! schemas (`expected/*/ir.json`, made by the corpus's `dump_ir.py`):
//! entity order, kinds, modules, locations, conditions, C names, enum
//! constants, flattened members with their owners, branches, flags and
//! since-versions.

mod common;

use std::collections::HashMap;
use std::fs;

use qapi_gen::check::ast::IfCond;
use qapi_gen::check::names::{c_enum_const, c_name};
use qapi_gen::model::{since_in_text, EntityKind, Member, Schema};
use serde_json::{json, Value};

fn cond(c: &Option<IfCond>) -> Value {
    fn go(c: &IfCond) -> Value {
        match c {
            IfCond::Name(n) => json!(n),
            IfCond::All(v) => json!({ "all": v.iter().map(go).collect::<Vec<_>>() }),
            IfCond::Any(v) => json!({ "any": v.iter().map(go).collect::<Vec<_>>() }),
            IfCond::Not(v) => json!({ "not": go(v) }),
        }
    }
    c.as_ref().map_or(Value::Null, go)
}

fn features(fs: &[qapi_gen::model::Feature]) -> Value {
    fs.iter()
        .map(|f| json!({"name": f.name, "if": cond(&f.ifcond)}))
        .collect()
}

fn member(schema: &Schema, m: &Member) -> Value {
    json!({
        "name": m.name,
        "type": schema.entity(m.type_id()).name,
        "optional": m.optional,
        "if": cond(&m.ifcond),
        "features": features(&m.features),
        "defined_in": m.defined_in,
        "c_name": c_name(&m.name, true),
    })
}

/// Our entity in the golden's shape (since-versions compared separately).
fn entity(schema: &Schema, i: usize) -> Value {
    let e = &schema.entities[i];
    let (file, line) = match e.info {
        Some(info) => {
            let f = &schema.sources.file(info.file).name;
            let dir = qapi_gen::parse::path::dirname(&schema.root);
            (
                json!(qapi_gen::parse::path::relpath(f, &dir)),
                json!(info.line),
            )
        }
        None => (Value::Null, Value::Null),
    };
    let ifcond = match &e.kind {
        EntityKind::Array { element, .. } => &schema.entity(element.expect("resolved")).ifcond,
        _ => &e.ifcond,
    };
    let mut d = json!({
        "name": e.name,
        "meta": e.meta(),
        "implicit": e.is_implicit(),
        "module": schema.modules[e.module.0 as usize].name,
        "file": file,
        "line": line,
        "if": cond(ifcond),
        "c_if": ifcond.as_ref().map_or(Value::Null, |c| json!(c.c_expr())),
        "features": features(&e.features),
        "c_name": if &*e.name == "q_empty" { "q_empty".to_string() } else { e.c_name() },
    });
    let o = d.as_object_mut().expect("object");
    match &e.kind {
        EntityKind::Builtin { json_type } => {
            o.insert("json_type".into(), json!(json_type));
        }
        EntityKind::Enum { members, prefix } => {
            o.insert("prefix".into(), json!(prefix));
            let ms: Vec<Value> = members
                .iter()
                .map(|m| {
                    json!({"name": m.name, "if": cond(&m.ifcond), "features": features(&m.features),
                           "c_enum_const": c_enum_const(&e.name, &m.name, prefix.as_deref())})
                })
                .collect();
            o.insert("members".into(), json!(ms));
        }
        EntityKind::Array { element, .. } => {
            o.insert(
                "element_type".into(),
                json!(schema.entity(element.expect("resolved")).name),
            );
        }
        EntityKind::Object(ob) => {
            o.insert(
                "base".into(),
                json!(ob.base.map(|b| schema.entity(b).name.clone())),
            );
            o.insert(
                "local_members".into(),
                ob.local_members.iter().map(|m| json!(m.name)).collect(),
            );
            let ms: Vec<Value> = schema
                .members(qapi_gen::model::EntityId(i as u32))
                .into_iter()
                .map(|m| member(schema, m))
                .collect();
            o.insert("members".into(), json!(ms));
            if let Some(b) = &ob.branches {
                o.insert(
                    "tag".into(),
                    json!(b.tag_member.as_ref().expect("checked").name),
                );
                let vs: Vec<Value> = b
                    .variants
                    .iter()
                    .map(|v| json!({"name": v.name, "type": schema.entity(v.type_id()).name, "if": cond(&v.ifcond)}))
                    .collect();
                o.insert("variants".into(), json!(vs));
            }
        }
        EntityKind::Alternate { variants, .. } => {
            let vs: Vec<Value> = variants
                .iter()
                .map(|v| {
                    let t = schema.entity(v.type_id());
                    let qtype = t
                        .alternate_qtype()
                        .expect("alternate branch types have a QType");
                    json!({"name": v.name, "type": t.name, "if": cond(&v.ifcond), "qtype": qtype})
                })
                .collect();
            o.insert("variants".into(), json!(vs));
        }
        EntityKind::Command(c) => {
            let name = |id: Option<qapi_gen::model::EntityId>| {
                json!(id.map(|i| schema.entity(i).name.clone()))
            };
            o.insert("arg_type".into(), name(c.arg_type));
            o.insert("ret_type".into(), name(c.ret_type));
            for (k, v) in [
                ("boxed", c.boxed),
                ("gen", c.gen),
                ("success_response", c.success_response),
                ("allow_oob", c.allow_oob),
                ("allow_preconfig", c.allow_preconfig),
                ("coroutine", c.coroutine),
            ] {
                o.insert(k.into(), json!(v));
            }
        }
        EntityKind::Event(ev) => {
            o.insert(
                "arg_type".into(),
                json!(ev.arg_type.map(|i| schema.entity(i).name.clone())),
            );
            o.insert("boxed".into(), json!(ev.boxed));
        }
        EntityKind::Include { .. } => {}
    }
    d
}

/// Removes the since fields from a golden entity and returns them:
/// (definition since, member name → since).
fn take_since(g: &mut Value) -> (Option<String>, HashMap<String, String>) {
    let o = g.as_object_mut().expect("object");
    o.remove("doc_since");
    o.remove("c_type");
    let since = o
        .remove("since")
        .and_then(|v| v.as_str().map(str::to_string));
    let mut members = HashMap::new();
    if let Some(Value::Object(args)) = o.remove("arg_since") {
        for (k, v) in args {
            members.insert(k, v.as_str().expect("str").to_string());
        }
    }
    if let Some(Value::Array(ms)) = o.get_mut("members") {
        for m in ms {
            if let Some(s) = m.as_object_mut().and_then(|m| m.remove("since")) {
                members.insert(
                    m["name"].as_str().expect("name").to_string(),
                    s.as_str().expect("str").to_string(),
                );
            }
        }
    }
    (since, members)
}

#[test]
fn model_matches_qemu_ir() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = shared.join("corpus/qemu-10.0.2");
    std::env::set_current_dir(&dir).expect("cd corpus");
    for (root, golden) in [
        ("qapi/qapi-schema.json", "qemu-system"),
        ("qga/qapi-schema.json", "qga"),
        ("storage-daemon/qapi/qapi-schema.json", "storage-daemon"),
    ] {
        let schema = qapi_gen::load(root).expect("real schema is valid");
        let ir: Value = serde_json::from_str(
            &fs::read_to_string(format!("expected/{golden}/ir.json")).expect("ir.json"),
        )
        .expect("json");
        let goldens = ir["entities"].as_array().expect("entities");
        let ours: Vec<usize> = (0..schema.entities.len())
            .filter(|i| !matches!(schema.entities[*i].kind, EntityKind::Include { .. }))
            .collect();
        assert_eq!(ours.len(), goldens.len(), "{golden}: entity count");
        let features: Vec<&str> = ir["schema_features"]
            .as_array()
            .expect("features")
            .iter()
            .map(|f| f.as_str().expect("str"))
            .collect();
        assert_eq!(schema.feature_names, features, "{golden}: schema features");
        let mut checked_since = 0;
        for (&i, g) in ours.iter().zip(goldens) {
            let mut g = g.clone();
            let (since, member_since) = take_since(&mut g);
            let got = entity(&schema, i);
            assert_eq!(got, g, "{golden}: entity {}", schema.entities[i].name);
            let id = qapi_gen::model::EntityId(i as u32);
            assert_eq!(
                schema.since_of(id),
                since,
                "{golden}: since of {}",
                schema.entities[i].name
            );
            let implicit_args = match &schema.entities[i].kind {
                EntityKind::Command(c) => c.arg_type,
                EntityKind::Event(e) => e.arg_type,
                _ => None,
            }
            .filter(|a| schema.entity(*a).is_implicit());
            let object_id = implicit_args.unwrap_or(id);
            let object = schema.entity(object_id);
            let owner = &object.name;
            if schema.entities[i].is_implicit() {
                continue;
            }
            if object.as_object().is_some() {
                for m in schema.members(object_id) {
                    let ours = schema.describe_doc(m.doc).and_then(since_in_text);
                    match member_since.get(&*m.name) {
                        Some(want) => {
                            assert_eq!(
                                ours.as_deref(),
                                Some(want.as_str()),
                                "{golden}: since of {}.{}",
                                schema.entities[i].name,
                                m.name
                            );
                            checked_since += 1;
                        }
                        // The golden reads only `(since X)`; our one reading
                        // of notes (shared with doc-check) also takes
                        // `(default false; since 9.0)`, which must then say
                        // that version.
                        None if m.defined_in == *owner => {
                            if let Some(v) = &ours {
                                let text = schema.describe_doc(m.doc).unwrap_or_default();
                                let lower = text.to_ascii_lowercase().replace("since:", "since");
                                assert!(
                                    lower.contains(&format!("since {v}")),
                                    "{golden}: since of {}.{}: {v} in {text:?}",
                                    schema.entities[i].name,
                                    m.name
                                );
                            }
                        }
                        None => {}
                    }
                }
            }
        }
        eprintln!(
            "{golden}: {} entities and {checked_since} member since-versions match",
            goldens.len()
        );
    }
}
