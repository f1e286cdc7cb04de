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
