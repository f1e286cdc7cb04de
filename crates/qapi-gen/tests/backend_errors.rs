//! Names that QEMU accepts but that clash once mangled into Rust are
//! reported at generation time, located in the schema, with what to do.

use qapi_gen::backend::rust::{generate, Options};

fn generate_error(schema: &str) -> String {
    // One directory per call: the tests run in parallel threads.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("qapi-clash-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("clash.json");
    std::fs::write(&path, schema).expect("writes");
    let path = path.to_string_lossy().into_owned();
    let schema = qapi_gen::load(&path).expect("QEMU accepts this schema");
    match generate(&schema, &Options::default()) {
        Ok(_) => panic!("generation should fail"),
        Err(e) => e.to_string().replace(&path, "clash.json"),
    }
}

#[test]
fn members_that_become_the_same_field() {
    // QEMU allows `fooBar` under the pragma, and its C names differ.
    let e = generate_error(
        "{ 'pragma': { 'member-name-exceptions': [ 'Foo' ] } }\n\
         { 'struct': 'Foo',\n  'data': { 'foo-bar': 'int', 'fooBar': 'str' } }\n",
    );
    assert_eq!(
        e,
        "clash.json: In struct 'Foo':\nclash.json:2: members 'foo-bar' and 'fooBar' of struct type \
         'Foo' both become Rust field 'foo_bar'; rename one of them"
    );
}

#[test]
fn types_that_become_the_same_item() {
    // A downstream name loses its prefix's punctuation; QEMU's C names
    // (`_org_qemu_Thing`, `OrgQemuThing`) differ.
    let e = generate_error(
        "{ 'struct': 'OrgQemuThing', 'data': {} }\n{ 'struct': '__org.qemu_Thing', 'data': {} }\n",
    );
    assert_eq!(
        e,
        "clash.json: In struct '__org.qemu_Thing':\nclash.json:2: struct type '__org.qemu_Thing' \
         becomes Rust item 'OrgQemuThing', and so does struct type 'OrgQemuThing'; rename one of them"
    );
}

#[test]
fn a_command_and_a_type_of_the_same_name() {
    // The command yields: its struct takes a `Command` suffix.
    let dir = std::env::temp_dir().join(format!("qapi-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("cmd.json");
    std::fs::write(
        &path,
        "{ 'struct': 'DriveBackup', 'data': { 'device': 'str' } }\n\
         { 'command': 'drive-backup', 'data': 'DriveBackup' }\n",
    )
    .expect("writes");
    let schema = qapi_gen::load(&path.to_string_lossy()).expect("loads");
    let out = generate(&schema, &Options::default()).expect("generates");
    let text: String = out
        .modules
        .into_iter()
        .map(|m| qapi_gen::backend::package::format_items(Vec::new(), m.items, &out.docs))
        .collect();
    assert!(text.contains("struct DriveBackupCommand"), "{text}");
}

/// Doc text is carried past the formatter as numbered placeholders; text
/// that contains the placeholder's marker character itself must still come
/// out as written.
#[test]
fn doc_text_with_the_placeholder_marker_is_kept() {
    let dir = std::env::temp_dir().join(format!("qapi-doc-mark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("mark.json");
    std::fs::write(
        &path,
        "##\n# @Marked:\n#\n# Odd \u{1}0 text.\n#\n# @a: A.\n#\n# Since: 1.0\n##\n\
         { 'struct': 'Marked', 'data': { 'a': 'int' } }\n\
         ##\n# @Plain:\n#\n# Plain text.\n#\n# @b: B.\n#\n# Since: 1.0\n##\n\
         { 'struct': 'Plain', 'data': { 'b': 'int' } }\n",
    )
    .expect("writes");
    let schema = qapi_gen::load(&path.to_string_lossy()).expect("loads");
    let text = qapi_gen::backend::package::single_file(&schema, &Options::default(), "test")
        .expect("generates");
    assert!(text.contains("/// Odd \u{1}0 text."), "{text}");
    assert!(text.contains("/// Plain text."), "{text}");
    syn::parse_file(&text).expect("parses");
}

#[test]
fn values_branches_and_alternatives_that_become_the_same_variant() {
    // (schema, error after the location lines); QEMU's C names differ in
    // each (`x1` vs `x_1`, `Self`'s upper-case name vs `self`'s).
    let cases = [
        (
            "{ 'enum': 'Foo', 'data': [ 'x1', 'x-1' ] }\n",
            "clash.json: In enum 'Foo':\nclash.json:1: values 'x1' and 'x-1' of enum type 'Foo' \
             both become Rust variant 'X1'; rename one of them",
        ),
        (
            "{ 'pragma': { 'member-name-exceptions': [ 'Foo' ] } }\n\
             { 'enum': 'Foo', 'data': [ 'a', 'ALL' ] }\n",
            "clash.json: In enum 'Foo':\nclash.json:2: value 'ALL' of enum type 'Foo' becomes Rust \
             variant 'ALL', the name of the constant listing every value; rename it",
        ),
        (
            "{ 'enum': 'Kind', 'data': [ 'x1', 'x-1' ] }\n\
             { 'struct': 'Leaf', 'data': {} }\n\
             { 'union': 'Foo', 'base': { 'kind': 'Kind' }, 'discriminator': 'kind',\n  \
             'data': { 'x1': 'Leaf' } }\n",
            "clash.json: In enum 'Kind':\nclash.json:1: values 'x1' and 'x-1' of enum type 'Kind' \
             both become Rust variant 'X1'; rename one of them",
        ),
        (
            "{ 'struct': 'Leaf', 'data': {} }\n\
             { 'alternate': 'Foo', 'data': { 'x1': 'int', 'x-1': 'Leaf' } }\n",
            "clash.json: In alternate 'Foo':\nclash.json:2: alternatives 'x1' and 'x-1' of alternate \
             type 'Foo' both become Rust variant 'X1'; rename one of them",
        ),
        (
            // QEMU reserves `u` but not `U`, which is `u` in Rust.
            "{ 'pragma': { 'member-name-exceptions': [ 'Foo' ] } }\n\
             { 'enum': 'Kind', 'data': [ 'a' ] }\n\
             { 'union': 'Foo', 'base': { 'kind': 'Kind', 'U': 'int' },\n  \
             'discriminator': 'kind', 'data': {} }\n",
            "clash.json: In union 'Foo':\nclash.json:3: member 'U' of union type 'Foo' becomes Rust \
             field 'u', the field that holds its branches; rename it",
        ),
        (
            "{ 'pragma': { 'command-name-exceptions': [ 'foo_bar' ] } }\n\
             { 'command': 'foo-bar' }\n{ 'command': 'foo_bar' }\n",
            "clash.json: In command 'foo_bar':\nclash.json:3: command 'foo_bar' becomes handler \
             method 'foo_bar', and so does command 'foo-bar'; rename one of them",
        ),
    ];
    for (schema, want) in cases {
        assert_eq!(generate_error(schema), want, "{schema}");
    }
}

/// Open enums (`--unknown-enum-values`) name their catch-all after what
/// the values leave free: QEMU has values `unknown`.
#[test]
fn the_catch_all_avoids_a_value_named_unknown() {
    let dir = std::env::temp_dir().join(format!("qapi-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("open.json");
    std::fs::write(&path, "{ 'enum': 'Foo', 'data': [ 'unknown', 'b' ] }\n").expect("writes");
    let schema = qapi_gen::load(path.to_str().expect("UTF-8")).expect("valid");
    let opts = Options {
        unknown_enum_values: true,
        ..Options::default()
    };
    let text = qapi_gen::backend::package::single_file(&schema, &opts, "open").expect("generates");
    assert!(text.contains("    Unknown,\n"), "{text}");
    assert!(text.contains("    Other(String),\n"), "{text}");
}

/// An `absent_as_default` entry that matches no required member is an
/// error, not silently ignored.
#[test]
fn absent_as_default_must_name_a_required_member() {
    let dir = std::env::temp_dir().join(format!("qapi-absent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("absent.json");
    std::fs::write(
        &path,
        "{ 'struct': 'Foo', 'data': { 'a': 'int', '*b': 'int' } }\n",
    )
    .expect("writes");
    let schema = qapi_gen::load(path.to_str().expect("UTF-8")).expect("valid");
    let cases = [
        ("Foo.a", None),
        ("Foo", Some("expected TYPE.MEMBER")),
        ("Bar.a", Some("the schema has no struct or union 'Bar'")),
        ("Foo.c", Some("'Foo' has no member 'c'")),
        ("Foo.b", Some("the member is optional already")),
    ];
    for (entry, want) in cases {
        let opts = Options {
            absent_as_default: vec![entry.into()],
            ..Options::default()
        };
        match (generate(&schema, &opts), want) {
            (Ok(_), None) => {}
            (Err(e), Some(w)) => assert!(e.to_string().contains(w), "{entry}: {e}"),
            (Ok(_), Some(w)) => panic!("{entry}: accepted, wanted {w}"),
            (Err(e), None) => panic!("{entry}: {e}"),
        }
    }
}
