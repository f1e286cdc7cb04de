//! `Since:` sections and `(since X.Y)` notes: the one reading of versions
//! in doc text that the model (and so the generated docs) and `doc-check`
//! share.
//!
//! A definition's `Since:` section and the notes in member descriptions
//! are free text; QEMU does not check them.  The rules here say what reads
//! as a version: [`check_since_section`] for sections, [`member_sinces`]
//! for notes.  The model shows only what these accept as a version, and
//! `doc-check` reports what they reject.

/// A dotted version at the start of `s`: its numbers and its length.
/// `None` unless `s` starts with a digit.
pub fn leading_version(s: &str) -> Option<(Vec<u32>, usize)> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        parts.push(s[start..i].parse().ok()?);
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            return Some((parts, i));
        }
    }
}

/// What may follow a version: nothing, a full stop, or a separator
/// (white space, `;`, `,` or `)`, the last two not glued to another digit).
fn version_end_ok(rest: &str) -> Result<(), String> {
    let mut cs = rest.chars();
    match cs.next() {
        None | Some(')') => Ok(()),
        Some(c) if c.is_whitespace() => Ok(()),
        Some('.') | Some(';') | Some(',') => match cs.next() {
            None | Some(')') => Ok(()),
            Some(c) if c.is_whitespace() => Ok(()),
            Some(c) if c.is_ascii_digit() => Err(format!(
                "a version is numbers separated by '.', not '{}'",
                &rest[..1]
            )),
            Some(_) => Err("unexpected text right after the version".to_string()),
        },
        Some(_) => Err("unexpected text right after the version".to_string()),
    }
}

/// A `Since:` section's text is well formed when it starts with a version
/// of at least two numbers (`2.9`, `10.0`, `8.2.1`) that is followed by
/// nothing, by a full stop, or by a separator and further text (`2.2;
/// 'Unknown' since 2.4`).  Returns the version's numbers, or why not.
pub fn check_since_section(text: &str) -> Result<Vec<u32>, String> {
    let t = text.trim();
    let Some((v, len)) = leading_version(t) else {
        return Err("it should start with the QEMU version number, e.g. 'Since: 9.2'".to_string());
    };
    version_end_ok(&t[len..])?;
    if v.len() < 2 {
        return Err(format!(
            "write the version as MAJOR.MINOR, e.g. '{}.0'",
            v[0]
        ));
    }
    Ok(v)
}

/// A version note in a description.
#[derive(Debug, PartialEq, Eq)]
pub enum SinceNote {
    /// A well-formed version.
    Version(Vec<u32>),
    /// The note's text and why it is not a version.
    Bad(String, String),
}

/// The `since X` notes of a member, value or feature description, with
/// their byte offsets.  A note is the word `since` (any case), optionally
/// followed by `:`, then white space (a line break too) and a version, where `since` stands at the
/// start of the description or of one of its lines, or directly after
/// `(`, `; ` or `, ` — so `(since 2.9)`, `(Since: 2.9)`, `(default: on,
/// since 4.0)` and a bare `since 2.0` description are notes, while prose
/// such as `works only since 2.9` or `since Linux 5.4` is not.  A note
/// whose version starts with `v` or is glued to further characters
/// (`2,9`, `2.9a`) is malformed.
pub fn member_sinces(text: &str) -> Vec<(usize, SinceNote)> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("since") {
        let at = from + i;
        from = at + 5;
        let before = lower[..at].trim_end_matches(' ');
        let boundary = before.is_empty()
            || before.ends_with('\n')
            || lower[..at].ends_with('(')
            || (before.len() < at && (before.ends_with(';') || before.ends_with(',')));
        if !boundary {
            continue;
        }
        let rest = &text[at + 5..];
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        if !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let rest = rest.trim_start();
        let vstart = text.len() - rest.len();
        let note_end = rest
            .find(|c: char| c.is_whitespace() || c == ')' || c == ';')
            .unwrap_or(rest.len());
        let shown = text[at..vstart + note_end]
            .trim_end_matches(['.', ','])
            .to_string();
        if let Some(r) = rest.strip_prefix(['v', 'V']) {
            if r.starts_with(|c: char| c.is_ascii_digit()) {
                out.push((
                    at,
                    SinceNote::Bad(shown, "write the bare version number, without 'v'".into()),
                ));
            }
            continue;
        }
        let Some((v, len)) = leading_version(rest) else {
            continue;
        };
        match version_end_ok(&rest[len..]) {
            Ok(()) => out.push((at, SinceNote::Version(v))),
            Err(why) => out.push((at, SinceNote::Bad(shown, why))),
        }
    }
    out
}

/// `a < b`, numerically, missing numbers counting as 0.
pub fn version_lt(a: &[u32], b: &[u32]) -> bool {
    let n = a.len().max(b.len());
    let at = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0);
    (0..n)
        .map(|i| (at(a, i), at(b, i)))
        .find(|(x, y)| x != y)
        .is_some_and(|(x, y)| x < y)
}

/// `2.9`, `8.2.1`.
pub fn show_version(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

/// The version of a `Since:` section as the model shows it: the version
/// when the section is well formed, else its first line as written.
pub fn section_version(text: &str) -> Option<String> {
    match check_since_section(text) {
        Ok(v) => Some(show_version(&v)),
        Err(_) => text
            .lines()
            .next()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string),
    }
}

/// The version a description gives in a `(since X.Y)` note, if one reads
/// as a version (the first such note).
pub fn description_version(text: &str) -> Option<String> {
    member_sinces(text).into_iter().find_map(|(_, n)| match n {
        SinceNote::Version(v) => Some(show_version(&v)),
        SinceNote::Bad(..) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_sections() {
        let ok = [
            ("2.9", vec![2, 9]),
            ("2.9.", vec![2, 9]),
            ("10.0", vec![10, 0]),
            ("8.2.1", vec![8, 2, 1]),
            ("2.2; 'Unknown' and all entries below since 2.4", vec![2, 2]),
            ("2.9 (as a command)", vec![2, 9]),
        ];
        for (t, v) in ok {
            assert_eq!(check_since_section(t), Ok(v), "{t}");
        }
        for t in [
            "two", "2,9", "v2.9", "QEMU 2.9", "2.9a", "2", "2..9", "2.9.x",
        ] {
            assert!(check_since_section(t).is_err(), "{t}");
        }
    }

    #[test]
    fn member_notes() {
        let v =
            |t: &str| -> Vec<SinceNote> { member_sinces(t).into_iter().map(|(_, n)| n).collect() };
        let ver = |x: &[u32]| SinceNote::Version(x.to_vec());
        assert_eq!(v("whether it is static (since 2.9)"), [ver(&[2, 9])]);
        assert_eq!(v("foo (Since: 10.0)"), [ver(&[10, 0])]);
        assert_eq!(v("(default: on, since 4.0)"), [ver(&[4, 0])]);
        assert_eq!(v("(default false; since 9.0)."), [ver(&[9, 0])]);
        assert_eq!(v("since 2.0"), [ver(&[2, 0])]);
        assert_eq!(v("since 6.2."), [ver(&[6, 2])]);
        assert_eq!(v("a\nSince 2.10"), [ver(&[2, 10])]);
        assert!(v("works only since 2.9.").is_empty());
        assert!(v("(since Linux 5.4)").is_empty());
        assert!(v("each bitmap.  Since 7.1 bitmap").is_empty());
        assert!(v("since the start").is_empty());
        assert_eq!(v("name (Since\n    2.0)"), [ver(&[2, 0])]);
        assert!(matches!(&v("(since 2,9)")[..], [SinceNote::Bad(t, _)] if t == "since 2,9"));
        assert!(matches!(&v("(since v2.9)")[..], [SinceNote::Bad(..)]));
        assert!(matches!(&v("(since 2.9a)")[..], [SinceNote::Bad(..)]));
    }

    #[test]
    fn version_order() {
        assert!(version_lt(&[2, 9], &[2, 10]));
        assert!(!version_lt(&[2, 10], &[2, 9]));
        assert!(!version_lt(&[2, 9], &[2, 9, 0]));
        assert!(version_lt(&[2, 9], &[2, 9, 1]));
        assert!(version_lt(&[1, 7], &[10, 0]));
    }
    #[test]
    fn model_and_doc_check_agree() {
        let cases = [
            ("whether it is static (since 2.9)", Some("2.9")),
            ("foo (Since 10.0)", Some("10.0")),
            ("foo (since: 8.2.1)", Some("8.2.1")),
            ("foo (since 2.9) and more", Some("2.9")),
            ("( since v4.0)", None),
            ("x (see y) (since 7)", Some("7")),
            ("no version here", None),
            ("(since the start)", None),
        ];
        for (text, want) in cases {
            assert_eq!(description_version(text).as_deref(), want, "{text}");
        }
        assert_eq!(section_version("2.9").as_deref(), Some("2.9"));
        assert_eq!(section_version("8.2.1.").as_deref(), Some("8.2.1"));
        assert_eq!(section_version("v4.0").as_deref(), Some("v4.0"));
    }
}
