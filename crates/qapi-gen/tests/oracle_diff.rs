//! Differential mutation test: our `dump` against QEMU's own front ends.
//!
//! For each QEMU release whose Python front end is in the corpus (7.2.0,
//! 10.0.2, 10.2.2), a seeded generator mutates that release's own
//! `tests/qapi-schema` cases, mostly in their doc comments (where releases
//! differ most): lines deleted, duplicated, swapped, re-indented, joined,
//! split, made too long, given trailing spaces, tag lines, sentence ends,
//! URLs and odd characters (Unicode whitespace, tabs, wide characters)
//! inserted; and JSON-level changes (a key dropped, a value made an array,
//! a dict, another name or `''`, a member added, an expression deleted or
//! duplicated, `if` and `features` added, characters of code changed).
//! `tests/oracle/frontend.py` runs the release's `test-qapi.py`
//! `test_frontend()` once over all mutants (twice in fact, under two
//! Python hash seeds, since QEMU's answer sometimes depends on set order);
//! our binary runs `dump --qemu-version V` on each.  Stdout, stderr and
//! exit status must agree for every mutant on which QEMU does not crash
//! (where it crashes, we may decide).  Known mismatches are allow-listed
//! in `KNOWN_MISMATCHES`.
//!
//! The mutants are written, together with copies of the release's test
//! files (so that `include` finds them), into a directory under
//! `CARGO_TARGET_TMPDIR`; it is removed when the test passes and kept,
//! with a `mismatches.txt`, when it fails (or when `QAPI_ORACLE_KEEP=1`).
//!
//! `QAPI_ORACLE_MUTANTS` (mutants per release) and `QAPI_ORACLE_SEED`
//! change the set, for longer hunts by hand; CI uses the defaults.
//!
//! The test skips, saying why, when `../shared` or `python3` is absent,
//! and fails instead when `QAPI_REQUIRE_SHARED=1`.

mod common;

use common::Random;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One release with a Python front end in the corpus.
struct Release {
    version: &'static str,
    /// Its tree under `corpus/` (`scripts/`, `tests/qapi-schema/test-qapi.py`).
    tree: &'static str,
    /// Its test suite under `corpus/`.
    tests: &'static str,
}

const RELEASES: &[Release] = &[
    Release {
        version: "7.2.0",
        tree: "qemu-7.2.0",
        tests: "qapi-schema-tests-7.2.0",
    },
    Release {
        version: "10.0.2",
        tree: "qemu-10.0.2",
        tests: "qapi-schema-tests",
    },
    Release {
        version: "10.2.2",
        tree: "qemu-10.2.2",
        tests: "qapi-schema-tests-10.2.2",
    },
];

/// Mutants per release.
const MUTANTS: usize = 800;

/// The generator's seed (each release mixes in its version).
const SEED: u64 = 0x0ac1_ed1f_f7e5_7a11;

/// Mismatches we know about and have not fixed yet: (release, FNV-1a hash
/// of the mutant's text, as the failure report prints it).  Each is
/// written up, minimised, in the mismatch notes (`mismatches.md`, kept
/// outside the repository); the test says when one agrees again, so that
/// its entry can go.
const KNOWN_MISMATCHES: &[(&str, u64)] = &[];

/// `PYTHONHASHSEED`s the oracle runs under (see `oracle_diff`).
const HASH_SEEDS: &[&str] = &["0", "1"];

/// How many mismatches a failure report shows in full.
const SHOW: usize = 10;

/// splitmix64: small, fast and good enough for choosing mutations.
struct Rng(u64);

impl Random for Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// FNV-1a, 64 bits: names a mutant by its text.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Tag and section lines the doc mutations insert (after `# `).
const TAGS: &[&str] = &[
    "Returns: x",
    "Returns:",
    "Since: 1.0",
    "Since: 10.1",
    "Note: n",
    "Notes: n",
    "Example:",
    "Examples:",
    "TODO: t",
    "Errors: e",
    "Features:",
    "@foo: bar",
    "@foo:",
    "@deprecated: d",
    "= Heading",
    "== Sub",
    "::",
    ".. qmp-example::",
    ".. note:: n",
    "-> { \"execute\": \"x\" }",
    "<- { \"return\": {} }",
    "- item",
    "Text.",
    "Text. More text.",
    "Text.  More text.",
    "Since:",
    "Since: 1.0 (and 2.0)",
    "TODO:",
    "Example: e",
    "Note:",
];

/// Words that make a line long (no full stops: the sentence-spacing rule
/// is exercised on its own).
const FILLER: &str = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do \
                      eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim";

/// Keys the JSON mutations drop.
const KEYS: &[&str] = &[
    "data",
    "base",
    "returns",
    "discriminator",
    "if",
    "features",
    "prefix",
    "boxed",
    "gen",
    "type",
    "success-response",
    "allow-oob",
    "allow-preconfig",
    "coroutine",
];

/// Conditions the JSON mutations add.
const CONDS: &[&str] = &[
    "'CONFIG_A'",
    "{ 'not': 'CONFIG_B' }",
    "{ 'all': [ 'CONFIG_A', 'CONFIG_B' ] }",
    "{ 'any': [ 'CONFIG_C' ] }",
];

/// Features the JSON mutations add.
const FEATURES: &[&str] = &["'feat-x'", "'deprecated'", "'unstable'"];

/// A test case a release ships, mutated into many.
struct Case {
    /// File stem: `doc-good` for `doc-good.json`.
    name: String,
    text: String,
    /// Whether it has doc comments (`##` lines).
    has_doc: bool,
    /// Whether QEMU accepts it (its `.err` is empty): mutants of these
    /// get past the doc parser into the checks and the dump.
    ok: bool,
    /// Quoted words of its JSON (member and type names), for `@name:` lines.
    words: Vec<String>,
}

struct Mutant {
    /// File name in the work directory.
    file: String,
    case: usize,
    ops: Vec<String>,
    text: String,
}

/// The output of one front end on one mutant.
#[derive(Clone, PartialEq)]
struct Outcome {
    out: String,
    err: String,
    code: i32,
}

/// Whether line `l` is a comment line.
fn is_comment(l: &str) -> bool {
    l.starts_with('#')
}

/// A comment line's text after the `#`s, or `None` for `##` and non-comments.
fn comment_body(l: &str) -> Option<&str> {
    let body = l.strip_prefix('#')?;
    if body.starts_with('#') {
        None
    } else {
        Some(body)
    }
}

/// Indices of the lines in doc blocks: from a `##` line through the
/// comment lines that follow it.
fn doc_lines(lines: &[String]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut inside = false;
    for (i, l) in lines.iter().enumerate() {
        if !is_comment(l) {
            inside = false;
        } else if inside || l.starts_with("##") {
            inside = true;
            v.push(i);
        }
    }
    v
}

/// Applies one doc-comment mutation to `lines`; returns what it did.
fn mutate_doc(rng: &mut Rng, lines: &mut Vec<String>, words: &[String]) -> Option<String> {
    let docs = doc_lines(lines);
    let comments: Vec<usize> = (0..lines.len())
        .filter(|&i| is_comment(&lines[i]))
        .collect();
    let i = if !docs.is_empty() && rng.chance(90) {
        *rng.pick(&docs)
    } else if !comments.is_empty() {
        *rng.pick(&comments)
    } else {
        return None;
    };
    let n = i + 1;
    // The last element is what follows the final newline; keep it last.
    let last = lines.len() - 1;
    match rng.below(14) {
        0 => {
            let l = lines.remove(i);
            Some(format!("delete line {n} {l:?}"))
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l.clone());
            Some(format!("duplicate line {n} {l:?}"))
        }
        2 | 3 => {
            let body = comment_body(&lines[i])?;
            let text = body.trim_start_matches(' ');
            if text.is_empty() {
                return None;
            }
            let had = body.len() - text.len();
            let now = *rng.pick(&[0, 1, 2, 3, 4, 5, 8]);
            if now == had {
                return None;
            }
            let l = format!("#{}{text}", " ".repeat(now));
            let what = format!("indent line {n} from {had} to {now}: {l:?}");
            lines[i] = l;
            Some(what)
        }
        4 => {
            lines.insert(i + 1, "#".to_string());
            Some(format!("blank '#' after line {n}"))
        }
        5 | 6 => {
            let tag = if !words.is_empty() && rng.chance(25) {
                let w = rng.pick(words);
                if rng.chance(50) {
                    format!("@{w}: d")
                } else {
                    format!("@{w}:")
                }
            } else {
                rng.pick(TAGS).to_string()
            };
            let l = format!("# {tag}");
            let what = format!("insert after line {n}: {l:?}");
            lines.insert(i + 1, l);
            Some(what)
        }
        7 => {
            let next = comment_body(lines.get(i + 1)?)?.trim_start_matches(' ');
            comment_body(&lines[i])?;
            if next.is_empty() {
                return None;
            }
            let sep = if rng.chance(50) { " " } else { "  " };
            let l = format!("{}{sep}{next}", lines[i]);
            let what = format!("join lines {n}, {} with {sep:?}: {l:?}", n + 1);
            lines[i] = l;
            lines.remove(i + 1);
            Some(what)
        }
        8 => {
            // A sentence end: '.' then one or two spaces then text.
            let l = lines[i].clone();
            comment_body(&l)?;
            let b = l.as_bytes();
            let ends: Vec<usize> = (1..b.len())
                .filter(|&p| {
                    b[p] == b'.'
                        && b.get(p + 1) == Some(&b' ')
                        && b.get(p + 2)
                            .is_some_and(|&c| c != b' ' || b.get(p + 3).is_some_and(|&c| c != b' '))
                })
                .collect();
            if ends.is_empty() {
                return None;
            }
            let p = *rng.pick(&ends);
            let rest = l[p + 1..].trim_start_matches(' ');
            let what;
            match rng.below(3) {
                0 => {
                    lines[i] = l[..=p].to_string();
                    lines.insert(i + 1, format!("# {rest}"));
                    what = format!("split line {n} after column {}", p + 1);
                }
                k => {
                    let sep = if k == 1 { " " } else { "  " };
                    lines[i] = format!("{}{sep}{rest}", &l[..=p]);
                    what = format!("respace sentence in line {n} to {sep:?}: {:?}", lines[i]);
                }
            }
            Some(what)
        }
        9 => {
            comment_body(&lines[i])?;
            let target = *rng.pick(&[70, 71, 72, 75, 90]);
            let mut l = lines[i].clone();
            if l.chars().count() >= target {
                return None;
            }
            if !l.ends_with(' ') {
                l.push(' ');
            }
            let need = target.saturating_sub(l.chars().count());
            let mut fill: String = FILLER.chars().cycle().take(need).collect();
            if fill.ends_with(' ') {
                fill.pop();
                fill.push('x');
            }
            l.push_str(&fill);
            let what = format!("lengthen line {n} to {} columns: {l:?}", l.chars().count());
            lines[i] = l;
            Some(what)
        }
        10 => {
            let sp = *rng.pick(&[" ", "  ", "   "]);
            lines[i].push_str(sp);
            Some(format!("trailing {sp:?} on line {n}"))
        }
        12 => {
            // Re-indent a run of lines by the same amount.
            let len = 2 + rng.below(3);
            let by = *rng.pick(&[1, 2, 3, 4]);
            let end = (i + len).min(last);
            let mut done = 0;
            for l in &mut lines[i..end] {
                if comment_body(l).is_some_and(|b| !b.trim().is_empty()) {
                    l.insert_str(1, &" ".repeat(by));
                    done += 1;
                }
            }
            if done == 0 {
                return None;
            }
            Some(format!("indent lines {n}..{end} by {by}"))
        }
        13 => {
            // Indented continuation text, as under a section or member.
            let k = *rng.pick(&[1, 2, 3, 4, 6]);
            let text = *rng.pick(&["more text", "more.  Text", "::", "- item", "Since: 2.0"]);
            let l = format!("#{}{text}", " ".repeat(k));
            let what = format!("insert after line {n}: {l:?}");
            lines.insert(i + 1, l);
            Some(what)
        }
        _ => {
            if i + 1 >= last {
                return None;
            }
            lines.swap(i, i + 1);
            Some(format!("swap lines {n}, {}", n + 1))
        }
    }
}

/// Characters Python and Rust may classify differently (whitespace,
/// line breaks, wide and astral characters).
const ODD_CHARS: &[&str] = &[
    "\t",
    "\u{a0}",
    "\u{2003}",
    "\u{3000}",
    "\u{85}",
    "\u{2028}",
    "\x0c",
    "\x0b",
    "\x1c",
    "\x1f",
    "\r",
    "\u{e9}",
    "\u{4e2d}",
    "\u{1d518}",
    "\u{200b}",
    "\u{feff}",
    "\u{661}",
];

/// Text with sentence ends, abbreviations and URLs, for the 10.2 rules.
const SENTENCES: &[&str] = &[
    "Foo! Bar",
    "Foo? (bar",
    "Foo.  Bar",
    "Foo. 1",
    "e.g. Foo",
    "i.e. Foo",
    "1. Foo",
    "x.) Foo",
    "Foo.",
    "https://example.org/a/very/long/path/that/goes/past/seventy/columns/x",
    "http://example.org/",
    "see https://example.org/a/very/long/path/that/goes/past/seventy/col",
];

/// A random character boundary of `l` at or after byte `from`.
fn char_pos(rng: &mut Rng, l: &str, from: usize) -> usize {
    let cands: Vec<usize> = l
        .char_indices()
        .map(|(p, _)| p)
        .chain(std::iter::once(l.len()))
        .filter(|&p| p >= from)
        .collect();
    if cands.is_empty() {
        l.len()
    } else {
        *rng.pick(&cands)
    }
}

/// Applies one character-level mutation to a doc line; returns what it did.
fn mutate_doc_chars(rng: &mut Rng, lines: &mut [String]) -> Option<String> {
    let docs = doc_lines(lines);
    if docs.is_empty() {
        return None;
    }
    let i = *rng.pick(&docs);
    let n = i + 1;
    let l = &mut lines[i];
    match rng.below(5) {
        0 | 1 => {
            // An odd character: right after "# ", at the end, or anywhere.
            let c = *rng.pick(ODD_CHARS);
            let at = match rng.below(3) {
                0 if l.starts_with("# ") => 2,
                1 => l.len(),
                _ => char_pos(rng, l, 1),
            };
            l.insert_str(at, c);
            Some(format!("insert {c:?} in line {n}: {l:?}"))
        }
        2 => {
            // Replace a space with an odd character.
            let spaces: Vec<usize> = l.match_indices(' ').map(|(p, _)| p).collect();
            if spaces.is_empty() {
                return None;
            }
            let p = *rng.pick(&spaces);
            let c = *rng.pick(ODD_CHARS);
            l.replace_range(p..=p, c);
            Some(format!("space at byte {p} of line {n} to {c:?}: {l:?}"))
        }
        3 => {
            // Sentence ends and URLs: append, or start the line's text.
            let t = *rng.pick(SENTENCES);
            comment_body(l)?;
            if rng.chance(50) {
                l.push(' ');
                l.push_str(t);
            } else {
                let at = 1 + l[1..].len() - l[1..].trim_start_matches(' ').len();
                l.insert_str(at, &format!("{t} "));
            }
            Some(format!("sentence {t:?} in line {n}: {l:?}"))
        }
        _ => {
            // Wide characters that bring the line near 70 columns.
            let c = *rng.pick(&["\u{e9}", "\u{4e2d}", "\u{1d518}", "\t"]);
            comment_body(l)?;
            let have = l.chars().count();
            let target = *rng.pick(&[69usize, 70, 71]);
            if have + 1 >= target {
                return None;
            }
            let k = target - have - 1;
            l.push(' ');
            l.push_str(&c.repeat(k));
            Some(format!("{k} x {c:?} to line {n}: {l:?}"))
        }
    }
}

/// Bytes that matter to QEMU's lexer and parser, for code mutations.
const CODE_BITS: &[&str] = &[
    "'", "\\", "\\u0041", "\\'", "{", "}", "[", "]", ":", ",", "\t", "\r", "\x0c", "\u{a0}",
    "\u{e9}", "#", "true", "false", "null", "1", "'x'", "\n", "\u{2028}",
];

/// Inserts, replaces or deletes a character of code; returns what it did.
fn mutate_json_chars(rng: &mut Rng, text: &mut String) -> Option<String> {
    let mask = code_mask(text);
    let cands: Vec<usize> = text
        .char_indices()
        .map(|(p, _)| p)
        .filter(|&p| mask[p])
        .collect();
    if cands.is_empty() {
        return None;
    }
    let p = *rng.pick(&cands);
    let line = text[..p].matches('\n').count() + 1;
    let bit = *rng.pick(CODE_BITS);
    let end = p + text[p..].chars().next().map_or(0, char::len_utf8);
    let old = text[p..end].to_string();
    match rng.below(3) {
        0 => {
            text.insert_str(p, bit);
            Some(format!("insert {bit:?} at line {line}"))
        }
        1 => {
            text.replace_range(p..end, bit);
            Some(format!("replace {old:?} with {bit:?} at line {line}"))
        }
        _ => {
            text.replace_range(p..end, "");
            Some(format!("delete {old:?} at line {line}"))
        }
    }
}

/// The byte ranges of `text` that are code, not comments, as a mask.
fn code_mask(text: &str) -> Vec<bool> {
    let mut mask = vec![true; text.len()];
    let b = text.as_bytes();
    let (mut in_str, mut in_comment) = (false, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_comment {
            mask[i] = false;
            if c == b'\n' {
                in_comment = false;
            }
        } else if in_str {
            if c == b'\\' && i + 1 < b.len() {
                i += 1;
            } else if c == b'\'' || c == b'\n' {
                in_str = false;
            }
        } else if c == b'#' {
            in_comment = true;
            mask[i] = false;
        } else if c == b'\'' {
            in_str = true;
        }
        i += 1;
    }
    mask
}

/// The end of the JSON value starting at `i`, if it is well formed.
fn value_end(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'\'' => {
            i += 1;
            while *b.get(i)? != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            Some(i + 1)
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                match *b.get(i)? {
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    b'\'' => i = value_end(b, i)? - 1,
                    b'#' => {
                        while *b.get(i)? != b'\n' {
                            i += 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        c if c.is_ascii_alphabetic() => {
            while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
                i += 1;
            }
            Some(i)
        }
        _ => None,
    }
}

/// Skips spaces and newlines from `i`.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The [`keys`] whose value is a string.
fn string_keys(text: &str, mask: &[bool]) -> Vec<(usize, usize, String)> {
    let b = text.as_bytes();
    keys(text, mask)
        .into_iter()
        .filter(|&(_, v, _)| b.get(v) == Some(&b'\''))
        .collect()
}

/// Positions in code of `'WORD'` followed by `:` (a key), and where its
/// value starts.
fn keys(text: &str, mask: &[bool]) -> Vec<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' && mask[i] {
            let Some(end) = value_end(b, i) else { break };
            let j = skip_ws(b, end);
            if b.get(j) == Some(&b':') {
                let word = text[i + 1..end - 1].to_string();
                found.push((i, skip_ws(b, j + 1), word));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// Where top-level expressions start: a `{` in column 0.
fn expr_starts(b: &[u8], mask: &[bool]) -> Vec<usize> {
    (0..b.len())
        .filter(|&p| b[p] == b'{' && mask[p] && (p == 0 || b[p - 1] == b'\n'))
        .collect()
}

/// Odd values for keys (the empty string, which Python takes for false,
/// thrice as often as the others).
const VALUES: &[&str] = &[
    "''",
    "''",
    "''",
    "'*x'",
    "'q_x'",
    "'__org.qemu_x'",
    "'Foo-bar'",
    "'x:y'",
    "'a.b'",
    "'9x'",
    "'int'",
    "'any'",
    "'QType'",
    "'q_empty'",
    "true",
    "false",
    "[]",
    "{}",
    "[ 'int', 'str' ]",
    "{ 'not': {} }",
    "{ 'all': [] }",
    "'CONFIG_A'",
    "'Foo'",
    "'ab-c_d'",
];

/// Member names to add.
const MEMBERS: &[&str] = &[
    "new",
    "*opt",
    "a-b",
    "a_b",
    "q_x",
    "*base",
    "type",
    "if",
    "has-x",
    "has_x",
    "u",
    "9",
    "Aa",
    "x-y",
    "__org.qemu_x",
    "*",
    "",
];

/// Applies one JSON-level mutation to `text`; returns what it did.
fn mutate_json(rng: &mut Rng, text: &mut String, words: &[String]) -> Option<String> {
    let mask = code_mask(text);
    let b = text.as_bytes();
    let line_of = |p: usize| text[..p].matches('\n').count() + 1;
    match rng.below(7) {
        // Drop a key and its value.
        0 => {
            let cands: Vec<_> = keys(text, &mask)
                .into_iter()
                .filter(|(_, _, w)| KEYS.contains(&w.as_str()) || w.starts_with('*'))
                .collect();
            if cands.is_empty() {
                return None;
            }
            let (k, v, word) = rng.pick(&cands).clone();
            let e = value_end(b, v)?;
            let after = skip_ws(b, e);
            let (from, to) = if b.get(after) == Some(&b',') {
                (k, skip_ws(b, after + 1))
            } else {
                let mut p = k;
                while p > 0 && b[p - 1].is_ascii_whitespace() {
                    p -= 1;
                }
                if p > 0 && b[p - 1] == b',' {
                    (p - 1, e)
                } else {
                    (k, e)
                }
            };
            let what = format!("drop key '{word}' (line {})", line_of(k));
            text.replace_range(from..to, "");
            Some(what)
        }
        // Wrap a string value: an array, a dict, a dict with 'if' or
        // 'features'.
        1 | 2 => {
            let cands = string_keys(text, &mask);
            if cands.is_empty() {
                return None;
            }
            let (_, v, word) = rng.pick(&cands).clone();
            let e = value_end(b, v)?;
            let val = text[v..e].to_string();
            let new = match rng.below(4) {
                0 => format!("[ {val} ]"),
                1 => format!("{{ 'type': {val} }}"),
                2 => format!("{{ 'type': {val}, 'if': {} }}", rng.pick(CONDS)),
                _ => format!(
                    "{{ 'type': {val}, 'features': [ {} ] }}",
                    rng.pick(FEATURES)
                ),
            };
            let what = format!("value of '{word}' (line {}) to {new}", line_of(v));
            text.replace_range(v..e, &new);
            Some(what)
        }
        // Replace a string value by another name of the file or an odd one.
        3 => {
            let cands = string_keys(text, &mask);
            if cands.is_empty() {
                return None;
            }
            let (_, v, word) = rng.pick(&cands).clone();
            let e = value_end(b, v)?;
            let new = if !words.is_empty() && rng.chance(60) {
                format!("'{}'", rng.pick(words))
            } else {
                rng.pick(VALUES).to_string()
            };
            let what = format!("value of '{word}' (line {}) to {new}", line_of(v));
            text.replace_range(v..e, &new);
            Some(what)
        }
        // Delete or duplicate a top-level expression.
        4 => {
            let starts = expr_starts(b, &mask);
            if starts.is_empty() {
                return None;
            }
            let p = *rng.pick(&starts);
            let e = value_end(b, p)?;
            let e = if b.get(e) == Some(&b'\n') { e + 1 } else { e };
            if rng.chance(50) {
                let what = format!("delete the expression at line {}", line_of(p));
                text.replace_range(p..e, "");
                Some(what)
            } else {
                let what = format!("duplicate the expression at line {}", line_of(p));
                let dup = text[p..e].to_string();
                text.insert_str(e, &dup);
                Some(what)
            }
        }
        // Add a member to a 'data' dict.
        5 => {
            let cands: Vec<_> = keys(text, &mask)
                .into_iter()
                .filter(|&(_, v, ref w)| w == "data" && b.get(v) == Some(&b'{'))
                .collect();
            if cands.is_empty() {
                return None;
            }
            let (_, v, _) = rng.pick(&cands).clone();
            let name = if !words.is_empty() && rng.chance(40) {
                rng.pick(words).clone()
            } else {
                rng.pick(MEMBERS).to_string()
            };
            let ty = if !words.is_empty() && rng.chance(40) {
                format!("'{}'", rng.pick(words))
            } else {
                rng.pick(&["'int'", "'str'", "[ 'int' ]", "'any'", "'null'", "'QType'"])
                    .to_string()
            };
            let close = skip_ws(b, v + 1);
            let ins = if b.get(close) == Some(&b'}') {
                format!(" '{name}': {ty} ")
            } else {
                format!(" '{name}': {ty},")
            };
            let what = format!("add member{ins} at line {}", line_of(v));
            text.insert_str(v + 1, &ins);
            Some(what)
        }
        // Give a top-level expression 'if' or 'features'.
        _ => {
            let starts = expr_starts(b, &mask);
            if starts.is_empty() {
                return None;
            }
            let p = *rng.pick(&starts);
            let ins = if rng.chance(50) {
                format!(" 'if': {},", rng.pick(CONDS))
            } else {
                format!(" 'features': [ {} ],", rng.pick(FEATURES))
            };
            let what = format!("add{ins} to the expression at line {}", line_of(p));
            text.insert_str(p + 1, &ins);
            Some(what)
        }
    }
}

/// The release's test cases, sorted by name.
fn cases(dir: &Path) -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let mask = code_mask(&text);
            let mut words: Vec<String> = keys(&text, &mask)
                .into_iter()
                .map(|(_, _, w)| w.trim_start_matches('*').to_string())
                .filter(|w| {
                    !w.is_empty()
                        && w.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
                })
                .collect();
            words.sort();
            words.dedup();
            let ok = std::fs::read(p.with_extension("err")).is_ok_and(|e| e.is_empty());
            Some(Case {
                ok,
                name: p.file_stem()?.to_str()?.to_string(),
                has_doc: text.lines().any(|l| l.starts_with("##")),
                text,
                words,
            })
        })
        .collect()
}

/// A number from the environment, or `default`.
fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        let v = v.trim();
        let parsed = match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => v.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

/// The release's deterministic mutant set.
fn mutants(version: &str, cases: &[Case]) -> Vec<Mutant> {
    let count = env_num("QAPI_ORACLE_MUTANTS", MUTANTS as u64) as usize;
    let mut rng = Rng(env_num("QAPI_ORACLE_SEED", SEED) ^ fnv(version));
    let docs: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].has_doc).collect();
    let good: Vec<usize> = docs.iter().copied().filter(|&i| cases[i].ok).collect();
    let mut seen: HashSet<u64> = cases.iter().map(|c| fnv(&c.text)).collect();
    let mut out = Vec::new();
    let mut attempts = 0;
    while out.len() < count && attempts < count * 20 {
        attempts += 1;
        // Half from the valid cases with docs (doc-good, qapi-schema-test),
        // a third from the other cases with docs, the rest from any.
        let ci = match rng.below(6) {
            0..=2 if !good.is_empty() => *rng.pick(&good),
            3 | 4 if !docs.is_empty() => *rng.pick(&docs),
            _ => rng.below(cases.len()),
        };
        let case = &cases[ci];
        let count = match rng.below(20) {
            0 => 4,
            1..=3 => 3,
            4..=9 => 2,
            _ => 1,
        };
        let mut text = case.text.clone();
        let mut ops = Vec::new();
        for _ in 0..count {
            for _ in 0..10 {
                let has_comments = text.lines().any(is_comment);
                // Doc lines four times in five (one in five of those
                // character by character), else the JSON.
                let r = rng.below(100);
                let op = if has_comments && r < 80 {
                    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
                    let op = if r < 64 {
                        mutate_doc(&mut rng, &mut lines, &case.words)
                    } else {
                        mutate_doc_chars(&mut rng, &mut lines)
                    };
                    if op.is_some() {
                        text = lines.join("\n");
                    }
                    op
                } else if r < 92 {
                    mutate_json(&mut rng, &mut text, &case.words)
                } else {
                    mutate_json_chars(&mut rng, &mut text)
                };
                if let Some(op) = op {
                    ops.push(op);
                    break;
                }
            }
        }
        if ops.is_empty() || !seen.insert(fnv(&text)) {
            continue;
        }
        out.push(Mutant {
            file: format!("{}.m{:04}.json", case.name, out.len()),
            case: ci,
            ops,
            text,
        });
    }
    out
}

/// Copies the `.json` files under `from` into `to`, keeping the layout.
fn copy_json_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create work dir");
    for e in std::fs::read_dir(from).expect("read test dir") {
        let p = e.expect("dir entry").path();
        let dest = to.join(p.file_name().expect("file name"));
        if p.is_dir() {
            copy_json_tree(&p, &dest);
        } else if p.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&p, &dest).expect("copy test file");
        }
    }
}

/// Whether `python3` (3.8 or later) runs; `None` with the reason if not.
fn python_missing() -> Option<String> {
    match Command::new("python3")
        .args(["-c", "import sys; sys.exit(sys.version_info < (3, 8))"])
        .output()
    {
        Ok(o) if o.status.success() => None,
        Ok(_) => Some("python3 is older than 3.8".to_string()),
        Err(e) => Some(format!("python3 does not run: {e}")),
    }
}

/// Skips (or, with `QAPI_REQUIRE_SHARED=1`, fails) for `why`.
fn skip(why: &str) {
    if std::env::var_os("QAPI_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("QAPI_REQUIRE_SHARED=1 but {why}");
    }
    eprintln!("skipping: {why}");
}

/// Starts QEMU's front end (release tree `tree`) on `files` in `dir`,
/// with Python's string hashing seeded `hash_seed`.
fn start_oracle(tree: &Path, dir: &Path, files: &[&str], hash_seed: &str) -> std::process::Child {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/frontend.py");
    Command::new("python3")
        .arg(driver)
        .arg(tree)
        .args(files)
        .current_dir(dir)
        .env("PYTHONHASHSEED", hash_seed)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts")
}

/// Reads the oracle's records: file name to outcome, or `None` for a crash.
fn finish_oracle(child: std::process::Child) -> HashMap<String, Option<Outcome>> {
    let o = child.wait_with_output().expect("oracle finishes");
    assert!(
        o.status.success(),
        "tests/oracle/frontend.py failed ({}):\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).expect("oracle output is UTF-8");
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("oracle record is JSON");
            let s = |k: &str| v[k].as_str().expect("string field").to_string();
            let outcome = if v["crash"].as_bool().expect("crash flag") {
                None
            } else {
                let err = s("err");
                let code = i32::from(!err.is_empty());
                Some(Outcome {
                    out: s("out"),
                    err,
                    code,
                })
            };
            (s("file"), outcome)
        })
        .collect()
}

/// Runs our `dump` on every mutant, on a few threads.
fn run_ours(version: &str, dir: &Path, files: &[&str]) -> Vec<Outcome> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|f| {
                            let r = common::qapi_gen(dir, &["dump", "--qemu-version", version, f]);
                            Outcome {
                                out: r.stdout,
                                err: r.stderr,
                                code: r.code,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("runner thread"))
            .collect()
    })
}

/// The mutant whole when it is short, else its differences from `orig`
/// (a line diff: `-` original, `+` mutant, two lines of context, mutant
/// line numbers).
fn changed_region(orig: &str, mutant: &str) -> String {
    let a: Vec<&str> = orig.split('\n').collect();
    let b: Vec<&str> = mutant.split('\n').collect();
    if b.len() <= 40 {
        return mutant.to_string();
    }
    // Longest common subsequence, suffix table.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (mark, mutant line number or 0, text)
    let mut rows: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            rows.push((' ', j + 1, b[j]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            rows.push(('-', 0, a[i]));
            i += 1;
        } else {
            rows.push(('+', j + 1, b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(rows.len());
        rows[lo..hi].iter().any(|r| r.0 != ' ')
    };
    let mut s = String::new();
    let mut gap = false;
    for (k, &(mark, n, text)) in rows.iter().enumerate() {
        if !near(k) {
            gap = true;
            continue;
        }
        if gap && !s.is_empty() {
            s.push_str("  ...\n");
        }
        gap = false;
        let num = if n == 0 { String::new() } else { n.to_string() };
        let _ = writeln!(s, "{mark}{num:>5} {text}");
    }
    s
}

/// A full description of one mismatch.
fn describe(version: &str, m: &Mutant, case: &Case, ours: &Outcome, want: &Outcome) -> String {
    let mut s = format!(
        "=== {version} {} (from {}.json; hash {:#018x})\n",
        m.file,
        case.name,
        fnv(&m.text)
    );
    for op in &m.ops {
        let _ = writeln!(s, "  op: {op}");
    }
    let _ = writeln!(s, "--- mutant:\n{}", changed_region(&case.text, &m.text));
    let _ = writeln!(s, "--- exit: ours {}, QEMU {}", ours.code, want.code);
    if ours.err != want.err {
        let _ = writeln!(
            s,
            "--- stderr ours:\n{}--- stderr QEMU:\n{}",
            ours.err, want.err
        );
    }
    if ours.out != want.out {
        let _ = writeln!(
            s,
            "--- stdout: {}",
            common::first_diff(&want.out, &ours.out)
        );
    }
    s
}

#[test]
fn oracle_diff() {
    let Some(shared) = common::shared() else {
        return;
    };
    if let Some(why) = python_missing() {
        skip(&why);
        return;
    }
    let corpus = shared.join("corpus");
    let known: HashSet<(&str, u64)> = KNOWN_MISMATCHES.iter().copied().collect();
    let work =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("oracle_diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mut report = String::new();
    let mut shown = 0;
    let mut mismatches = 0;
    let mut summary = Vec::new();
    for rel in RELEASES {
        let tree = corpus.join(rel.tree);
        let tests = corpus.join(rel.tests);
        if !tree.join("tests/qapi-schema/test-qapi.py").is_file() || !tests.is_dir() {
            skip(&format!(
                "{} has no QEMU front end or test suite",
                tree.display()
            ));
            continue;
        }
        let cases = cases(&tests);
        let muts = mutants(rel.version, &cases);
        let dir = work.join(rel.version);
        copy_json_tree(&tests, &dir);
        for m in &muts {
            std::fs::write(dir.join(&m.file), &m.text).expect("write mutant");
        }
        let files: Vec<&str> = muts.iter().map(|m| m.file.as_str()).collect();
        // QEMU iterates over sets of strings in places (e.g. which branch
        // an alternate's branch can't be distinguished from), so its
        // output can depend on the hash seed: run it under two seeds and
        // accept either answer.
        let oracles: Vec<_> = HASH_SEEDS
            .iter()
            .map(|seed| start_oracle(&tree, &dir, &files, seed))
            .collect();
        let ours = run_ours(rel.version, &dir, &files);
        let theirs: Vec<_> = oracles.into_iter().map(finish_oracle).collect();
        let (mut equal, mut crashes, mut allowed, mut accepted, mut hashdep) = (0, 0, 0, 0, 0);
        for (m, ours) in muts.iter().zip(&ours) {
            let answers: Vec<&Option<Outcome>> = theirs
                .iter()
                .map(|t| {
                    t.get(&m.file)
                        .unwrap_or_else(|| panic!("oracle skipped {}", m.file))
                })
                .collect();
            if answers.iter().any(|a| a.is_none()) {
                crashes += 1;
                continue;
            }
            let answers: Vec<&Outcome> = answers.iter().filter_map(|a| a.as_ref()).collect();
            if answers.iter().any(|a| a != &answers[0]) {
                hashdep += 1;
            }
            let same_as = |want: &Outcome| {
                ours.out == want.out && ours.err == want.err && ours.code == want.code
            };
            let want = answers
                .iter()
                .copied()
                .find(|w| same_as(w))
                .unwrap_or(answers[0]);
            if want.code == 0 {
                accepted += 1;
            }
            let same = same_as(want);
            let hash = fnv(&m.text);
            if same {
                equal += 1;
                if known.contains(&(rel.version, hash)) {
                    eprintln!(
                        "note: {} {} ({hash:#018x}) agrees now; drop it from KNOWN_MISMATCHES",
                        rel.version, m.file
                    );
                }
                continue;
            }
            if known.contains(&(rel.version, hash)) {
                allowed += 1;
                continue;
            }
            mismatches += 1;
            let text = describe(rel.version, m, &cases[m.case], ours, want);
            if shown < SHOW {
                eprintln!("{text}");
                shown += 1;
            }
            let _ = writeln!(
                report,
                "{text}    (\"{}\", {hash:#018x}), // {}\n",
                rel.version, m.file
            );
        }
        let line = format!(
            "oracle {}: {} mutants, {equal} equal, {crashes} QEMU crashes, {allowed} known mismatches \
             ({accepted} accepted by QEMU, {hashdep} where QEMU's answer depends on the hash seed)",
            rel.version,
            muts.len()
        );
        println!("{line}");
        summary.push(line);
    }
    let keep = std::env::var_os("QAPI_ORACLE_KEEP").is_some_and(|v| v == "1");
    if mismatches > 0 {
        let path = work.join("mismatches.txt");
        std::fs::write(&path, &report).expect("write mismatch report");
        panic!(
            "{mismatches} mutants where our dump differs from QEMU's (first {shown} above; all, with \
             allow-list lines, in {}; mutants kept in {})\n{}",
            path.display(),
            work.display(),
            summary.join("\n")
        );
    }
    if !keep {
        let _ = std::fs::remove_dir_all(&work);
    }
}
