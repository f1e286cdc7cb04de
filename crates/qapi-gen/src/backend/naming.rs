//! QAPI names → Rust names.  Small pure functions; the table tests list
//! the awkward inputs.
//!
//! * Types: UpperCamelCase, acronyms kept (`QMPCapability`,
//!   `X86CPURegister32`); the downstream prefix and separators dropped
//!   (`__com.redhat_Foo` → `ComRedhatFoo`); implicit types named after
//!   their user (`q_obj_query-cpu-model-expansion-arg` →
//!   `QueryCpuModelExpansionArg`).
//! * Fields: snake_case, `-` and `.` → `_` (`migration-safe` →
//!   `migration_safe`); a Rust keyword gets QEMU's `q_` prefix (`static` →
//!   `q_static`, `type` → `q_type`, also `self`, `crate`, `super`, which
//!   cannot be raw identifiers); a leading digit gets `q_` too, as QEMU's
//!   C names do (`2_5` → `q_2_5`).
//! * Enum variants: UpperCamelCase (`migration-safe` → `MigrationSafe`);
//!   digits stay separated by `_` (`2_5` → `V2_5`, `4k` → `V4k`); a
//!   leading digit gets `V`; `Self` becomes `QSelf`.
//!
//! The wire name always travels beside the Rust name (`serde(rename)`), so
//! these rules only need to be deterministic and collision-checked.

/// Rust's strict and reserved keywords (2024 edition).  Weak keywords
/// such as `union` are valid identifiers and not listed.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
    "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield",
];

/// Whether `name` is a Rust keyword.
pub fn is_rust_keyword(name: &str) -> bool {
    RUST_KEYWORDS.contains(&name)
}

/// The words of a QAPI name: split at `-`, `_` and `.`, the `__RFQDN_`
/// downstream prefix kept as words of its own.
fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_', '.']).filter(|w| !w.is_empty())
}

fn upper_first(word: &str, out: &mut String) {
    let mut cs = word.chars();
    if let Some(c) = cs.next() {
        out.push(c.to_ascii_uppercase());
        out.push_str(cs.as_str());
    }
}

/// The Rust name of a QAPI type.
pub fn type_name(qapi: &str) -> String {
    // Range bindings' forms of member M of T (`q_forms_T-M`): `TMForms`.
    if let Some(forms) = qapi.strip_prefix("q_forms_") {
        return format!("{}Forms", type_name(forms));
    }
    let name = match qapi.strip_prefix("q_obj_") {
        Some(implicit) => implicit,
        None => qapi,
    };
    let mut out = String::with_capacity(name.len());
    for w in words(name) {
        upper_first(w, &mut out);
    }
    protect_camel(out, 'Q')
}

/// A CamelCase name that is empty or starts with a digit gets `lead`; one
/// that is a keyword (`Self`) gets `Q`.
fn protect_camel(mut out: String, lead: char) -> String {
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, lead);
    }
    if is_rust_keyword(&out) {
        out.insert(0, 'Q');
    }
    out
}

/// The Rust name of a member (struct field or argument).
pub fn field_name(qapi: &str) -> String {
    let mut out = String::with_capacity(qapi.len() + 2);
    let mut prev: Option<char> = None;
    for c in qapi.trim_start_matches('_').chars() {
        let c = if c == '-' || c == '.' { '_' } else { c };
        if c.is_ascii_uppercase() {
            if prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || is_rust_keyword(&out) {
        out.insert_str(0, "q_");
    }
    out
}

/// The Rust name of an enum value (a variant).
pub fn variant_name(qapi: &str) -> String {
    let mut out = String::with_capacity(qapi.len() + 1);
    let mut prev_digit = false;
    for w in words(qapi) {
        let digit = w.starts_with(|c: char| c.is_ascii_digit());
        if digit && prev_digit {
            out.push('_');
        }
        upper_first(w, &mut out);
        prev_digit = w.ends_with(|c: char| c.is_ascii_digit());
    }
    protect_camel(out, 'V')
}

/// The Rust name of an event's variant: `BLOCK_JOB_COMPLETED` →
/// `BlockJobCompleted` (each word capitalised, the rest lower case).
pub fn event_name(qapi: &str) -> String {
    let mut out = String::with_capacity(qapi.len());
    for w in words(qapi) {
        upper_first(&w.to_ascii_lowercase(), &mut out);
    }
    protect_camel(out, 'E')
}

/// The Rust module for a schema file: its file stem in snake case
/// (`qapi/machine-target.json` → `machine_target`).
pub fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".json").unwrap_or(file);
    let mut out: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || is_rust_keyword(&out) {
        out.insert_str(0, "m_");
    }
    out
}

/// The catch-all variant of an open enum (`--unknown-enum-values`) with
/// these values: `Unknown`, unless a value is itself `Unknown` in Rust
/// (QEMU has `unknown` in several enums), then `Other`, then
/// `UnknownValue`, then `UnknownValue2`, ... — the first that no value
/// takes.
pub fn catch_all_variant<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let taken: std::collections::HashSet<String> = values.into_iter().map(variant_name).collect();
    ["Unknown", "Other", "UnknownValue"]
        .into_iter()
        .map(String::from)
        .chain((2..).map(|n| format!("UnknownValue{n}")))
        .find(|c| !taken.contains(c))
        .unwrap_or_default()
}

/// The first two QAPI names in `names` that map to the same Rust name
/// under `rule`, with that Rust name.
pub fn first_collision<'a>(
    names: impl IntoIterator<Item = &'a str>,
    rule: fn(&str) -> String,
) -> Option<(&'a str, &'a str, String)> {
    let mut seen: Vec<(String, &'a str)> = Vec::new();
    for n in names {
        let r = rule(n);
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == r) {
            return Some((other, n, r));
        }
        seen.push((r, n));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        let cases = [
            ("CpuModelExpansionInfo", "CpuModelExpansionInfo"),
            ("QMPCapability", "QMPCapability"),
            ("X86CPURegister32", "X86CPURegister32"),
            ("__com.redhat_Foo", "ComRedhatFoo"),
            ("__org.qemu_x-Enum", "OrgQemuXEnum"),
            (
                "q_obj_query-cpu-model-expansion-arg",
                "QueryCpuModelExpansionArg",
            ),
            ("q_obj_BlockdevOptions-base", "BlockdevOptionsBase"),
            ("q_empty", "QEmpty"),
            ("QType", "QType"),
        ];
        for (qapi, rust) in cases {
            assert_eq!(type_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn field_names() {
        let cases = [
            ("static", "q_static"),
            ("type", "q_type"),
            ("self", "q_self"),
            ("super", "q_super"),
            ("crate", "q_crate"),
            ("in", "q_in"),
            ("match", "q_match"),
            ("migration-safe", "migration_safe"),
            ("deprecated-props", "deprecated_props"),
            ("x-foo", "x_foo"),
            ("__com.redhat_foo", "com_redhat_foo"),
            ("2_5", "q_2_5"),
            ("4k", "q_4k"),
            ("CPU", "cpu"),
            ("fooBar", "foo_bar"),
            ("ram-block-size", "ram_block_size"),
            ("name", "name"),
        ];
        for (qapi, rust) in cases {
            assert_eq!(field_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn variant_names() {
        let cases = [
            ("static", "Static"),
            ("full", "Full"),
            ("migration-safe", "MigrationSafe"),
            ("2_5", "V2_5"),
            ("4k", "V4k"),
            ("3des", "V3des"),
            ("self", "QSelf"),
            ("enum", "Enum"),
            ("qcow2", "Qcow2"),
            ("x-foo", "XFoo"),
            ("__org.qemu_x-value", "OrgQemuXValue"),
            ("sha3-256", "Sha3_256"),
            ("on", "On"),
        ];
        for (qapi, rust) in cases {
            assert_eq!(variant_name(qapi), rust, "{qapi}");
        }
    }

    #[test]
    fn event_and_module_names() {
        let cases = [
            ("BLOCK_JOB_COMPLETED", "BlockJobCompleted"),
            ("SHUTDOWN", "Shutdown"),
            ("CPU_POLARIZATION_CHANGE", "CpuPolarizationChange"),
            ("EVENT_A", "EventA"),
            ("__ORG.QEMU_X-EVENT", "OrgQemuXEvent"),
        ];
        for (qapi, rust) in cases {
            assert_eq!(event_name(qapi), rust, "{qapi}");
        }
        let cases = [
            ("machine-target.json", "machine_target"),
            ("qapi/block-core.json", "block_core"),
            ("../../qapi/common.json", "common"),
            ("type.json", "m_type"),
            ("9p.json", "m_9p"),
        ];
        for (path, rust) in cases {
            assert_eq!(module_name(path), rust, "{path}");
        }
    }

    #[test]
    fn catch_all_avoids_the_values() {
        let cases: [(&[&str], &str); 4] = [
            (&["a", "b"], "Unknown"),
            (&["unknown", "b"], "Other"),
            (&["unknown", "other"], "UnknownValue"),
            (&["unknown", "other", "unknown-value"], "UnknownValue2"),
        ];
        for (values, want) in cases {
            assert_eq!(
                catch_all_variant(values.iter().copied()),
                want,
                "{values:?}"
            );
        }
    }

    #[test]
    fn collisions_are_found() {
        assert_eq!(
            first_collision(["a-b", "c", "a_b"], field_name),
            Some(("a-b", "a_b", "a_b".to_string()))
        );
        assert_eq!(first_collision(["one", "two"], variant_name), None);
        assert_eq!(
            first_collision(["foo-bar", "fooBar"], field_name),
            Some(("foo-bar", "fooBar", "foo_bar".to_string()))
        );
    }
}
