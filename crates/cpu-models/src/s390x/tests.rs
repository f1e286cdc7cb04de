//! Unit tests for the fiddly parts of the s390x engine.

use super::*;
use serde_json::json;

fn engine() -> S390xModels {
    S390xModels::builtin().expect("catalogue loads")
}

fn info(name: &str, props: Option<Value>) -> CpuModelInfo {
    let mut m = CpuModelInfo::new(name.to_string());
    m.props = props;
    m
}

fn err_text<T: std::fmt::Debug>(r: Result<T, QmpError>) -> String {
    r.expect_err("an error").desc
}

#[test]
fn bits_set_ops_and_iteration() {
    let mut a = Bits::default();
    for i in [0, 63, 64, 200, 511] {
        a.set(i, true);
    }
    assert_eq!(a.ones().collect::<Vec<_>>(), [0, 63, 64, 200, 511]);
    let mut b = Bits::default();
    b.set(64, true);
    assert!(b.is_subset(&a));
    assert!(!a.is_subset(&b));
    assert_eq!(a.and_not(&b).ones().count(), 4);
    a.set(64, false);
    assert!(!a.get(64));
    assert!(a.and(&b).is_empty());
}

#[test]
fn qdict_order_is_bucket_order() {
    // Observed: with two unknown properties QEMU reports `zzz-bogus`.
    let obj = json!({"aaa-bogus": 1, "zzz-bogus": 1});
    let order: Vec<&str> = qdict_order(obj.as_object().unwrap())
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(order, ["zzz-bogus", "aaa-bogus"]);
    let e = engine();
    let r = e.expand(CpuModelExpansionType::Static, &info("z13", Some(obj)));
    assert_eq!(err_text(r), "Property 'z13-s390x-cpu.zzz-bogus' not found");
}

#[test]
fn folding_puts_groups_first_and_prepending_reverses() {
    let e = engine();
    let r = e
        .expand(CpuModelExpansionType::Full, &info("z13", None))
        .unwrap();
    assert_eq!(
        r.deprecated_props.as_deref().unwrap(),
        ["bpb", "te", "cte", "csske"]
    );
    // z13 against its base: features in reverse order, then groups.
    let c = e
        .compare(&info("z13", None), &info("z13-base", None))
        .unwrap();
    assert_eq!(c.result, CpuModelCompareResult::Superset);
    assert_eq!(c.responsible_properties.first().unwrap(), "cmm");
    assert_eq!(
        &c.responsible_properties[c.responsible_properties.len() - 5..],
        ["msa5", "msa4", "msa3", "msa2", "msa1"]
    );
}

#[test]
fn static_expansion_of_a_base_model_has_no_props() {
    let e = engine();
    let r = e
        .expand(CpuModelExpansionType::Static, &info("z13-base", None))
        .unwrap();
    assert_eq!(r.model.name, "z13-base");
    assert!(r.model.props.is_none());
    assert_eq!(r.deprecated_props.as_deref().unwrap(), ["csske"]);
    assert!(r.q_static && r.migration_safe);
    // `{}` is the same as no props.
    let r2 = e
        .expand(
            CpuModelExpansionType::Static,
            &info("z13-base", Some(json!({}))),
        )
        .unwrap();
    assert_eq!(r, r2);
}

#[test]
fn qemu_and_max_expand_to_their_definition() {
    let e = engine();
    for m in ["qemu", "max"] {
        let r = e
            .expand(CpuModelExpansionType::Full, &info(m, None))
            .unwrap();
        assert_eq!(r.model.name, "gen15a-base");
        assert!(r.q_static && r.migration_safe);
    }
    let c = e.compare(&info("qemu", None), &info("max", None)).unwrap();
    assert_eq!(c.result, CpuModelCompareResult::Identical);
    assert!(c.responsible_properties.is_empty());
}

#[test]
fn props_errors_are_qemus() {
    let e = engine();
    let ex = |name: &str, p: Value| {
        err_text(e.expand(CpuModelExpansionType::Full, &info(name, Some(p))))
    };
    assert_eq!(
        ex("z900", json!({"vx": true})),
        "Feature 'vx' is not available for CPU model 'z900', it was introduced with later models."
    );
    assert_eq!(
        ex("z900-base", json!({"msa5": true})),
        "Group 'msa5' is not available for CPU model 'z900', it was introduced with later models."
    );
    assert_eq!(
        ex("qemu", json!({"nnpa": true})),
        "Feature 'nnpa' is not available for CPU model 'gen15a', it was introduced with later models."
    );
    assert_eq!(
        ex("z13", json!({"vx": 1})),
        "Invalid parameter type for 'model.props.vx', expected: boolean"
    );
    assert_eq!(
        ex("z13", json!({"static": true})),
        "Property 'z13-s390x-cpu.static' is not writable"
    );
    assert_eq!(
        ex("z13", json!({"core-id": -1})),
        "Parameter 'core-id' expects uint32_t"
    );
    assert_eq!(
        ex("z13", json!({"core-id": "x"})),
        "Parameter 'model.props.core-id' expects uint64"
    );
    assert_eq!(
        ex("z13", json!({"book-id": 1.5})),
        "Invalid parameter type for 'model.props.book-id', expected: integer"
    );
    assert_eq!(
        ex("z13", json!({"book-id": 1_u64 << 40})),
        "Parameter 'book-id' expects int32_t"
    );
    assert_eq!(
        ex("z13", json!({"entitlement": "bogus"})),
        "Parameter 'entitlement' does not accept value 'bogus'"
    );
    assert_eq!(
        ex("z13", json!([])),
        "Invalid parameter type for 'model.props', expected: object"
    );
    assert_eq!(
        ex("host", json!({})),
        "The CPU definition 'host' is unknown."
    );
    // Switching off is always allowed; accepted non-feature properties
    // change nothing.
    let plain = e.expand(CpuModelExpansionType::Full, &info("z900", None));
    let with = e.expand(
        CpuModelExpansionType::Full,
        &info(
            "z900",
            Some(json!({"vx": false, "core-id": 3, "dedicated": true})),
        ),
    );
    assert_eq!(plain, with);
    // Comparison and baseline name their argument.
    let c = e.compare(&info("z13", None), &info("z13", Some(json!({"vx": "x"}))));
    assert_eq!(
        err_text(c),
        "Invalid parameter type for 'modelb.props.vx', expected: boolean"
    );
}

#[test]
fn groups_switch_all_their_members() {
    let e = engine();
    let off = e
        .expand(
            CpuModelExpansionType::Static,
            &info("z13-base", Some(json!({"msa": false}))),
        )
        .unwrap();
    assert_eq!(off.model.props, Some(json!({"msa": false})));
}

#[test]
fn definition_search_rules() {
    let mut b1 = Bits::default();
    b1.set(0, true);
    let mut b2 = b1;
    b2.set(1, true);
    let ignored = Bits::default();
    // Two machines of one generation, a GA2 listed after a GA1 of another.
    let defs = [
        DefKey {
            gen: 1,
            ec_ga: 1,
            machine: 1,
            base: &b1,
        },
        DefKey {
            gen: 1,
            ec_ga: 2,
            machine: 1,
            base: &b2,
        },
        DefKey {
            gen: 1,
            ec_ga: 1,
            machine: 2,
            base: &b1,
        },
        DefKey {
            gen: 2,
            ec_ga: 1,
            machine: 3,
            base: &b2,
        },
    ];
    // Exact machine and GA.
    assert_eq!(find_def(&defs, &ignored, 1, 1, 2, &b2), Some(1));
    // GA 1 stops the search at the GA2 definition.
    assert_eq!(find_def(&defs, &ignored, 2, 1, 1, &b2), Some(0));
    // No machine: the last compatible one, even a lower GA listed later.
    assert_eq!(find_def(&defs, &ignored, 0, 1, 2, &b2), Some(2));
    // A missing base feature stops the search before that definition.
    assert_eq!(find_def(&defs, &ignored, 3, 2, 1, &b1), Some(0));
    // ... unless the search ignores it.
    let mut ign = Bits::default();
    ign.set(1, true);
    assert_eq!(find_def(&defs, &ign, 3, 2, 1, &b1), Some(3));
    // Nothing fits.
    assert_eq!(find_def(&defs, &ignored, 3, 2, 1, &Bits::default()), None);
}

#[test]
fn baseline_takes_the_older_generation_and_common_features() {
    let e = engine();
    let b = e
        .baseline(&info("gen15a", None), &info("z13s", None))
        .unwrap();
    assert_eq!(b.model.name, "z13s-base");
    let p = b.model.props.unwrap();
    assert_eq!(p["csske"], json!(false));
    assert_eq!(p["vx"], json!(true));
    let err = e.baseline(
        &info("z13", Some(json!({"esan3": false}))),
        &info("z14", None),
    );
    assert_eq!(
        err_text(err),
        "No compatible CPU model could be created as important base features are disabled"
    );
}

#[test]
fn definitions_list_every_class_with_unavailable_features() {
    let e = engine();
    let d = e.definitions().unwrap();
    assert_eq!(d.len(), 82);
    let max = d.iter().find(|x| x.name == "max").unwrap();
    assert_eq!(max.migration_safe, Some(false));
    assert_eq!(max.unavailable_features.as_deref(), Some(&[][..]));
    let g16 = d.iter().find(|x| x.name == "gen16a").unwrap();
    assert_eq!(
        g16.unavailable_features.as_ref().unwrap().last().unwrap(),
        "type"
    );
    assert!(d
        .iter()
        .filter(|x| x.q_static)
        .all(|x| x.name.ends_with("-base")));
}

#[test]
fn catalogue_file_is_in_canonical_form() {
    let cat: Catalogue = serde_json::from_str(CATALOGUE).unwrap();
    assert_eq!(import::format(&cat).unwrap(), CATALOGUE);
}
