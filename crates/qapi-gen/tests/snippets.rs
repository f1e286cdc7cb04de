//! `--snippet`: after QEMU's exact text, the source line with the
//! offending name underlined (annotate-snippets), or a caret under a syntax
//! error's column.

mod common;

use std::fs;
use std::path::Path;

use common::qapi_gen;

fn check(name: &str, schema: &str) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("snippets");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join(name), schema).expect("write");
    let run = qapi_gen(
        &dir,
        &["check", "--qemu-version", "10.0", "--snippet", name],
    );
    assert_eq!(run.code, 1);
    run.stderr
}

#[test]
fn a_clash_underlines_the_member_on_its_own_line() {
    let err = check(
        "clash.json",
        "{ 'pragma': { 'member-name-exceptions': [ 'Oops' ] } }\n\
         { 'struct': 'Oops',\n  'data': { 'a-b': 'str',\n            'a_b': 'str' } }\n",
    );
    // QEMU reports the definition's line; the snippet shows the member's.
    assert_eq!(
        err,
        "clash.json: In struct 'Oops':\n\
         clash.json:2: member 'a_b' collides with member 'a-b'\n \
         --> clash.json:4:13\n  \
           |\n\
         4 |             'a_b': 'str' } }\n  \
           |             ^^^^^\n"
    );
}

#[test]
fn an_undocumented_member_is_underlined() {
    let err = check(
        "undoc.json",
        "##\n# @foo:\n#\n# Does foo.\n#\n# @a: an a\n##\n{ 'command': 'foo', 'data': { 'a': 'int', 'b': 'int' } }\n",
    );
    assert!(
        err.starts_with(
            "undoc.json: In command 'foo':\nundoc.json:8: member 'b' lacks documentation\n"
        ),
        "{err}"
    );
    assert!(
        err.ends_with(&format!(" --> undoc.json:8:43\n  |\n8 | {{ 'command': 'foo', 'data': {{ 'a': 'int', 'b': 'int' }} }}\n  | {}^^^\n", " ".repeat(42))),
        "{err}"
    );
}

#[test]
fn a_syntax_error_gets_a_caret_at_its_column() {
    let err = check("colon.json", "{ 'enum' 'Status' }\n");
    assert_eq!(
        err,
        "colon.json:1:10: expected ':'\n \
         --> colon.json:1:10\n  \
           |\n\
         1 | { 'enum' 'Status' }\n  \
           |          ^\n"
    );
}

#[test]
fn without_the_flag_only_qemus_text_is_printed() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("snippets");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("plain.json"), "{ 'enum' 'Status' }\n").expect("write");
    let run = qapi_gen(&dir, &["check", "--qemu-version", "10.0", "plain.json"]);
    assert_eq!(run.stderr, "plain.json:1:10: expected ':'\n");
}
