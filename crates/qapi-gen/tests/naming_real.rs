//! The Rust naming rules on QEMU's real schemas: every type, field and
//! variant name is a valid identifier and unique in its scope.

mod common;

use qapi_gen::backend::naming::{
    field_name, first_collision, is_rust_keyword, type_name, variant_name,
};
use qapi_gen::model::{EntityId, EntityKind};

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_rust_keyword(s)
}

#[test]
fn rust_names_of_real_schemas_are_valid_and_unique() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = shared.join("corpus/qemu-10.0.2");
    for root in [
        "qapi/qapi-schema.json",
        "qga/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
    ] {
        let schema = qapi_gen::load(dir.join(root).to_str().expect("utf-8 path")).expect("valid");
        let types: Vec<&str> = schema
            .entities
            .iter()
            .filter(|e| {
                e.is_type()
                    && !matches!(
                        e.kind,
                        EntityKind::Builtin { .. } | EntityKind::Array { .. }
                    )
            })
            .map(|e| &*e.name)
            .collect();
        assert_eq!(
            first_collision(types.iter().copied(), type_name),
            None,
            "{root}: type names"
        );
        let mut checked = 0;
        for (i, e) in schema.entities.iter().enumerate() {
            if e.is_type()
                && !matches!(
                    e.kind,
                    EntityKind::Builtin { .. } | EntityKind::Array { .. }
                )
            {
                assert!(is_ident(&type_name(&e.name)), "{root}: type {}", e.name);
            }
            match &e.kind {
                EntityKind::Enum { members, .. } => {
                    let names: Vec<&str> = members.iter().map(|m| &*m.name).collect();
                    for n in &names {
                        assert!(is_ident(&variant_name(n)), "{root}: {}.{n}", e.name);
                        checked += 1;
                    }
                    assert_eq!(
                        first_collision(names, variant_name),
                        None,
                        "{root}: enum {}",
                        e.name
                    );
                }
                EntityKind::Object(_) => {
                    let members = schema.members(EntityId(i as u32));
                    let names: Vec<&str> = members.iter().map(|m| &*m.name).collect();
                    for n in &names {
                        assert!(is_ident(&field_name(n)), "{root}: {}.{n}", e.name);
                        checked += 1;
                    }
                    assert_eq!(
                        first_collision(names, field_name),
                        None,
                        "{root}: object {}",
                        e.name
                    );
                }
                _ => {}
            }
        }
        eprintln!(
            "{root}: {} types and {checked} fields/variants named",
            types.len()
        );
    }
}

/// A Rust name depends only on the entity's own name and kind: every
/// definition present in several of the six corpus releases has the same
/// Rust name in each (command `stop` is `Stop` beside event `STOP`).
#[test]
fn rust_names_are_stable_across_releases() {
    use std::collections::HashMap;
    let Some(shared) = common::shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    let mut seen: HashMap<(&'static str, String), (String, &str)> = HashMap::new();
    let mut shared_names = 0;
    let mut differ = Vec::new();
    for (tree, release) in [
        ("qemu-7.2.0", None),
        ("qemu-8.0", Some("8.0")),
        ("qemu-8.1", Some("8.1")),
        ("qemu-9.1", Some("9.1")),
        ("qemu-10.0.2", None),
        ("qemu-10.2.2", None),
    ] {
        let path = corpus.join(tree).join("qapi/qapi-schema.json");
        let opts = qapi_gen::LoadOptions {
            release: release.map(|r| r.parse().expect("supported")),
            ..Default::default()
        };
        let schema = qapi_gen::load_with_options(path.to_str().expect("UTF-8"), &opts)
            .unwrap_or_else(|e| panic!("{tree}: {e}"));
        let names = qapi_gen::backend::rust::rust_names(&schema, &Default::default())
            .unwrap_or_else(|e| panic!("{tree}: {e}"));
        for (meta, qapi, rust) in names {
            match seen.get(&(meta, qapi.clone())) {
                Some((before, at)) => {
                    shared_names += 1;
                    if *before != rust {
                        differ.push(format!("{meta} {qapi}: {before} in {at}, {rust} in {tree}"));
                    }
                }
                None => {
                    seen.insert((meta, qapi), (rust, tree));
                }
            }
        }
    }
    // The range bindings of all six name every definition as its own
    // release does.
    let at = |tree: &str, r: &str| {
        let p = corpus.join(tree).join("qapi/qapi-schema.json");
        format!("{}{r}", p.to_str().expect("UTF-8"))
    };
    let older = [
        at("qemu-7.2.0", ""),
        at("qemu-8.0", "@8.0"),
        at("qemu-8.1", "@8.1"),
        at("qemu-9.1", "@9.1"),
        at("qemu-10.0.2", ""),
    ];
    let newest = at("qemu-10.2.2", "");
    let range = qapi_gen::load_range(&newest, &Default::default(), &older).expect("the range");
    // Types share one namespace whatever their kind (7.2's struct
    // BlockJobInfo is a union later, and in the range).
    let class = |meta: &'static str| match meta {
        "command" | "event" => meta,
        _ => "type",
    };
    let mut in_range = HashMap::new();
    for (meta, qapi, rust) in
        qapi_gen::backend::rust::rust_names(&range, &Default::default()).expect("range names")
    {
        in_range.insert((class(meta), qapi), rust);
    }
    let mut missing = Vec::new();
    for ((meta, qapi), (before, at)) in &seen {
        match in_range.get(&(class(meta), qapi.clone())) {
            Some(rust) if rust != before => differ.push(format!(
                "{meta} {qapi}: {before} in {at}, {rust} in the range"
            )),
            Some(_) => {}
            None => missing.push(format!("{meta} {qapi}")),
        }
    }
    eprintln!(
        "Rust names: {} definitions across six releases, {shared_names} seen again in a later \
         release, {} differ; the range bindings of all six have {} of them",
        seen.len(),
        differ.len(),
        seen.len() - missing.len()
    );
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert!(missing.is_empty(), "not in the range bindings: {missing:?}");
    assert_eq!(seen[&("command", "stop".to_string())].0, "Stop");
}
