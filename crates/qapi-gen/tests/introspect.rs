//! Introspection against QEMU's own output for the three real schemas, and
//! the emitted Rust parsing as a file.

mod common;

use std::path::Path;

use qapi_gen::backend::cond::Conditions;
use qapi_gen::backend::introspect;
use serde_json::Value;

/// (golden directory, root schema) for each real schema.
const SCHEMAS: [(&str, &str); 3] = [
    ("qemu-system", "qapi/qapi-schema.json"),
    ("qga", "qga/qapi-schema.json"),
    ("storage-daemon", "storage-daemon/qapi/qapi-schema.json"),
];

fn load(corpus: &Path, root: &str) -> qapi_gen::Schema {
    let path = corpus.join(root);
    let path = path.to_str().expect("corpus paths are UTF-8");
    qapi_gen::load(path).unwrap_or_else(|e| panic!("{root}: {e}"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where two JSON values first differ, for a readable failure.
fn first_difference(want: &Value, got: &Value, at: &str) -> Option<String> {
    match (want, got) {
        (Value::Array(w), Value::Array(g)) => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                if let Some(d) = first_difference(a, b, &format!("{at}[{i}]")) {
                    return Some(d);
                }
            }
            (w.len() != g.len())
                .then(|| format!("{at}: want {} elements, got {}", w.len(), g.len()))
        }
        (Value::Object(w), Value::Object(g)) => {
            for (k, a) in w {
                match g.get(k) {
                    Some(b) => {
                        if let Some(d) = first_difference(a, b, &format!("{at}.{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{at}: missing key {k}")),
                }
            }
            g.keys()
                .find(|k| !w.contains_key(*k))
                .map(|k| format!("{at}: extra key {k}"))
        }
        _ => (want != got).then(|| format!("{at}: want {want}, got {got}")),
    }
}

fn compare(corpus: &Path, dir: &str, root: &str, unmask: bool) {
    let schema = load(corpus, root);
    let got = introspect::to_json(&introspect::compute(&schema, unmask));
    let file = if unmask {
        "introspect-unmasked.json"
    } else {
        "introspect.json"
    };
    let want = read_json(&corpus.join("expected").join(dir).join(file));
    if let Some(d) = first_difference(&want, &got, "") {
        panic!("{dir}/{file}: {d}");
    }
}

fn corpus() -> Option<std::path::PathBuf> {
    Some(common::shared()?.join("corpus/qemu-10.0.2"))
}

#[test]
fn masked_matches_qemu() {
    let Some(corpus) = corpus() else { return };
    for (dir, root) in SCHEMAS {
        compare(&corpus, dir, root, false);
    }
}

#[test]
fn unmasked_matches_qemu() {
    let Some(corpus) = corpus() else { return };
    for (dir, root) in SCHEMAS {
        compare(&corpus, dir, root, true);
    }
}

#[test]
fn emitted_items_print_as_rust() {
    let Some(corpus) = corpus() else { return };
    let evaluate = Conditions::Evaluate(["CONFIG_LINUX".to_string()].into());
    for (_, root) in SCHEMAS {
        let schema = load(&corpus, root);
        for conds in [Conditions::default(), evaluate.clone()] {
            let items = qapi_gen::backend::rust::introspect::items(&schema, &conds)
                .unwrap_or_else(|e| panic!("{root}: introspection items: {e}"));
            // Built as trees: what they print must parse back.
            let text = qapi_gen::backend::package::format_items(Vec::new(), items, &[]);
            let file = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{root}: printed items do not parse: {e}"));
            let names: Vec<String> = file
                .items
                .iter()
                .filter_map(|item| match item {
                    syn::Item::Static(s) => Some(s.ident.to_string()),
                    syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
                    syn::Item::Mod(m) => Some(m.ident.to_string()),
                    _ => None,
                })
                .collect();
            assert_eq!(
                names,
                [
                    "SCHEMA_INFO",
                    "__qapi_introspect",
                    "__qapi_input",
                    "check_arguments"
                ],
                "{root}"
            );
        }
    }
}

#[test]
fn conditions_become_cfg_or_drop_out() {
    let Some(corpus) = corpus() else { return };
    let schema = load(&corpus, "qga/qapi-schema.json");
    let text = |conds: &Conditions| {
        let items = qapi_gen::backend::rust::introspect::items(&schema, conds).expect("items");
        quote::quote!(#(#items)*).to_string()
    };
    let cfg = text(&Conditions::default());
    // guest-suspend-hybrid is CONFIG_LINUX only.
    assert!(
        cfg.contains("# [cfg (feature = \"CONFIG_LINUX\")]"),
        "no cfg emitted"
    );
    assert!(cfg.contains("\"guest-suspend-hybrid\""));
    let none = text(&Conditions::Evaluate(Default::default()));
    assert!(!none.contains("\"guest-suspend-hybrid\""));
    assert!(!none.contains("# [cfg"));
    // Numbering is QEMU's, over the whole schema, whatever is left out:
    // every masked name in the reduced output exists in the full one.
    let full = introspect::compute(&schema, false);
    assert!(full.entries.len() > 100);
    assert!(none.contains("\"guest-sync\""));
}
