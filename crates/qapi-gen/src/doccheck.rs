//! Documentation checks (`qapi-gen doc-check`): what a schema that QEMU
//! accepts may still lack in its docs.
//!
//! QEMU's generator already rejects a good part of bad documentation, and
//! nothing here repeats those errors (a schema that fails them never gets
//! this far):
//!
//! * a doc block naming members or features that do not exist
//!   (`documented member 'x' does not exist`);
//! * a documented definition whose feature has no description
//!   (`feature 'x' lacks documentation`) — QEMU insists on this even for
//!   definitions in the `documentation-exceptions` pragma, so a feature
//!   of a documented definition is always described;
//! * a member, value or alternative without a description, unless its
//!   definition is listed in `documentation-exceptions`;
//! * a section tag with no text (`text required after 'Since:'`);
//! * with the `doc-required` pragma, a definition without a doc block.
//!
//! What is left, and reported here as [`Finding`]s:
//!
//! * [`Kind::MissingDoc`] — a definition without a doc block (possible when
//!   `doc-required` is off).  One finding covers the definition and all its
//!   members, values and features; they are not listed one by one.
//! * [`Kind::UndocumentedMember`], [`Kind::UndocumentedValue`],
//!   [`Kind::UndocumentedBranch`] — a member (of a struct, of a union's
//!   inline base, or a command's or event's inline arguments), an enum
//!   value, or an alternate's alternative that the `documentation-exceptions`
//!   pragma let through without a description.  QEMU accepts them and its
//!   manual prints "Not documented"; they are real gaps, so they are
//!   reported.  Members a type inherits from a named base are documented
//!   at the base, and a command's or event's members given as a named type
//!   at that type, so they are checked there, once.  A union's branches
//!   have no description of their own in QEMU's doc language: each is
//!   documented by its branch type's doc block and the tag value's
//!   description, which the other checks cover.
//! * [`Kind::MissingSince`] — a documented definition with no `Since:`
//!   section.  Free-form blocks (`= Heading` and prose) document no
//!   definition and are not checked.
//! * [`Kind::MalformedSince`] — a version that does not read as one (see
//!   [`check_since_section`] and [`member_sinces`] for the exact rules), or
//!   a line that looks like a `Since:` section but is not one (`Since 9.2`
//!   without the colon, or `Since: 9.2` run into the paragraph above it).
//! * [`Kind::SinceBeforeDefinition`] — a description saying `(since X)`
//!   where X is older than the definition's own `Since:` (compared
//!   numerically: 2.10 is newer than 2.9).
//! * [`Kind::DeprecatedUnexplained`] — a `deprecated` feature with no
//!   description.  Given QEMU's rules this happens only where the
//!   definition has no doc block at all, but a deprecation that does not
//!   say what to use instead deserves its own finding even then.

use std::collections::HashSet;
use std::fmt;

use crate::model::{DocRef, EntityId, EntityKind, Feature, Member, Schema};
use crate::parse::{Doc, Section};
use crate::since::{check_since_section, member_sinces, show_version, version_lt, SinceNote};
use crate::source::{qemu_column, FileId, Info, Span};

/// What a finding is about.  [`Kind::code`] is stable: scripts may match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A definition without a doc block.
    MissingDoc,
    /// A member without a description.
    UndocumentedMember,
    /// An enum value without a description.
    UndocumentedValue,
    /// An alternate's alternative without a description.
    UndocumentedBranch,
    /// A documented definition without a `Since:` section.
    MissingSince,
    /// A version that does not read as one, or a since line that is not a
    /// `Since:` section.
    MalformedSince,
    /// A description's `(since X)` older than its definition's `Since:`.
    SinceBeforeDefinition,
    /// A `deprecated` feature without a description.
    DeprecatedUnexplained,
}

impl Kind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [Kind; 8] = [
        Kind::MissingDoc,
        Kind::UndocumentedMember,
        Kind::UndocumentedValue,
        Kind::UndocumentedBranch,
        Kind::MissingSince,
        Kind::MalformedSince,
        Kind::SinceBeforeDefinition,
        Kind::DeprecatedUnexplained,
    ];

    /// The kebab-case code printed with each finding.
    pub fn code(self) -> &'static str {
        match self {
            Kind::MissingDoc => "missing-doc",
            Kind::UndocumentedMember => "undocumented-member",
            Kind::UndocumentedValue => "undocumented-value",
            Kind::UndocumentedBranch => "undocumented-branch",
            Kind::MissingSince => "missing-since",
            Kind::MalformedSince => "malformed-since",
            Kind::SinceBeforeDefinition => "since-before-definition",
            Kind::DeprecatedUnexplained => "deprecated-unexplained",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One documentation problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file, spelled as QEMU spells it in its messages.
    pub file: String,
    /// Line, counting from 1.
    pub line: u32,
    /// Column, counting from 1 as QEMU counts, when known.
    pub col: Option<u32>,
    /// What is wrong.
    pub kind: Kind,
    /// What is wrong and what to do about it.
    pub message: String,
    file_id: FileId,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.file, self.line)?;
        if let Some(col) = self.col {
            write!(f, "{col}:")?;
        }
        write!(f, " {}: {}", self.kind, self.message)
    }
}

/// Counts per kind, in [`Kind::ALL`] order, kinds with no finding left out.
pub fn counts(findings: &[Finding]) -> Vec<(Kind, usize)> {
    Kind::ALL
        .iter()
        .map(|k| (*k, findings.iter().filter(|f| f.kind == *k).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// A one-line summary: `no documentation findings`, or
/// `3 documentation findings: 2 missing-since, 1 undocumented-member`.
pub fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no documentation findings".to_string();
    }
    let parts: Vec<String> = counts(findings)
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let plural = if findings.len() == 1 { "" } else { "s" };
    format!(
        "{} documentation finding{plural}: {}",
        findings.len(),
        parts.join(", ")
    )
}

/// Checks the documentation of every definition; findings in source order
/// (files in the order they were read, then line and column).
pub fn doc_check(schema: &Schema) -> Vec<Finding> {
    let mut c = Checker {
        s: schema,
        out: Vec::new(),
        seen: HashSet::new(),
    };
    for (id, _) in schema.definitions() {
        c.definition(id);
    }
    let mut out = c.out;
    out.sort_by_key(|f| (f.file_id, f.line, f.col));
    out
}

struct Checker<'a> {
    s: &'a Schema,
    out: Vec<Finding>,
    /// Descriptions already checked for versions (a feature description
    /// may serve the definition and several of its members).
    seen: HashSet<(u32, u32)>,
}

/// Something with a description: what to call it in messages, its doc,
/// its features, and how to find it in the source.
struct Item<'a> {
    /// `member 'x'`, `value 'x'`, ...
    what: String,
    kind: Kind,
    doc: Option<DocRef>,
    features: &'a [Feature],
    /// Where it is written.
    at: Option<(Info, Option<u32>)>,
}

impl<'a> Checker<'a> {
    fn push(&mut self, info: Info, col: Option<u32>, kind: Kind, message: String) {
        self.out.push(Finding {
            file: self.s.sources.file(info.file).name.clone(),
            line: info.line,
            col,
            kind,
            message,
            file_id: info.file,
        });
    }

    fn definition(&mut self, id: EntityId) {
        let s = self.s;
        let e = s.entity(id);
        let Some(info) = e.info else { return };
        let def_at = self.pos(e.span).unwrap_or((info, None));
        let what = e.describe();
        let items = self.items(id);

        let Some(doc) = s.doc_of(id) else {
            self.push(
                def_at.0,
                def_at.1,
                Kind::MissingDoc,
                format!(
                    "{what} has no doc block; add a '## @{}:' comment before it that \
                     describes it, its members and features, and the version that \
                     introduced it",
                    e.name
                ),
            );
            self.deprecations(&what, &e.features, def_at);
            for it in &items {
                let owner = format!("{} of {what}", it.what);
                self.deprecations(&owner, it.features, it.at.unwrap_or(def_at));
            }
            return;
        };

        let def_since = self.since_section(&what, doc, def_at);

        for it in &items {
            if self.s.describe_doc(it.doc).is_none() {
                let (i, col) = it.at.unwrap_or(def_at);
                self.push(
                    i,
                    col,
                    it.kind,
                    format!(
                        "{} of {what} has no description ({}); describe it as '@{}:' in \
                         the doc block of '{}'",
                        it.what,
                        if s.rules.member_docs_required {
                            "the documentation-exceptions pragma lets it pass"
                        } else {
                            "QEMU before 9.0 does not require one"
                        },
                        item_name(&it.what),
                        e.name
                    ),
                );
            } else if let Some(r) = it.doc {
                self.description_versions(&what, &it.what, r, def_since.as_deref());
            }
            let at = it.at.unwrap_or(def_at);
            self.features(&what, Some(&it.what), it.features, at, def_since.as_deref());
        }
        self.features(&what, None, &e.features, def_at, def_since.as_deref());
    }

    /// The members, values and alternatives a definition's doc block
    /// describes, in declaration order.
    fn items(&self, id: EntityId) -> Vec<Item<'a>> {
        let s = self.s;
        let e = s.entity(id);
        let implicit = |t: Option<EntityId>| t.filter(|t| s.entity(*t).is_implicit());
        let mut members: Vec<&'a Member> = Vec::new();
        let mut out = Vec::new();
        match &e.kind {
            EntityKind::Enum {
                members: values, ..
            } => {
                for v in values {
                    out.push(Item {
                        what: format!("value '{}'", v.name),
                        kind: Kind::UndocumentedValue,
                        doc: v.doc,
                        features: &v.features,
                        at: self.pos(v.span),
                    });
                }
            }
            EntityKind::Object(o) => {
                if let Some(b) = implicit(o.base) {
                    members.extend(
                        s.entity(b)
                            .as_object()
                            .into_iter()
                            .flat_map(|b| &b.local_members),
                    );
                }
                members.extend(&o.local_members);
            }
            EntityKind::Alternate { variants, .. } => members.extend(variants),
            EntityKind::Command(c) => {
                if let Some(a) = implicit(c.arg_type) {
                    members.extend(
                        s.entity(a)
                            .as_object()
                            .into_iter()
                            .flat_map(|a| &a.local_members),
                    );
                }
            }
            EntityKind::Event(ev) => {
                if let Some(a) = implicit(ev.arg_type) {
                    members.extend(
                        s.entity(a)
                            .as_object()
                            .into_iter()
                            .flat_map(|a| &a.local_members),
                    );
                }
            }
            _ => {}
        }
        let alternate = matches!(e.kind, EntityKind::Alternate { .. });
        for m in members {
            let (what, kind) = if alternate {
                (
                    format!("alternative '{}'", m.name),
                    Kind::UndocumentedBranch,
                )
            } else {
                (format!("member '{}'", m.name), Kind::UndocumentedMember)
            };
            out.push(Item {
                what,
                kind,
                doc: m.doc,
                features: &m.features,
                at: self.pos(m.span),
            });
        }
        out
    }

    /// Reports `deprecated` features without a description.
    fn deprecations(&mut self, owner: &str, features: &[Feature], at: (Info, Option<u32>)) {
        for f in features {
            if &*f.name == "deprecated" && self.s.describe_doc(f.doc).is_none() {
                let (i, col) = self.pos(f.span).unwrap_or(at);
                self.push(
                    i,
                    col,
                    Kind::DeprecatedUnexplained,
                    format!(
                        "{owner} is deprecated without explanation; describe '@deprecated:' \
                         under 'Features:' in its doc block, saying what to use instead"
                    ),
                );
            }
        }
    }

    /// Checks the features of a documented definition or of one of its
    /// members (`item`).
    fn features(
        &mut self,
        what: &str,
        item: Option<&str>,
        features: &[Feature],
        at: (Info, Option<u32>),
        def_since: Option<&[u32]>,
    ) {
        let owner = match item {
            Some(i) => format!("{i} of {what}"),
            None => what.to_string(),
        };
        self.deprecations(&owner, features, at);
        for f in features {
            if let Some(r) = f.doc {
                self.description_versions(what, &format!("feature '{}'", f.name), r, def_since);
            }
        }
    }

    /// Checks a documented definition's `Since:` section (or its absence)
    /// and returns its version.
    fn since_section(
        &mut self,
        what: &str,
        doc: &'a Doc,
        def_at: (Info, Option<u32>),
    ) -> Option<Vec<u32>> {
        let since_line = doc.since().map(|s| s.info.line);
        let mut stray = false;
        for (info, col, content) in self.doc_lines(doc) {
            if Some(info.line) == since_line {
                continue;
            }
            if let Some(msg) = stray_since(content) {
                stray = true;
                self.push(info, Some(col), Kind::MalformedSince, msg);
            }
        }
        let Some(sec) = doc.since() else {
            if !stray {
                self.push(
                    def_at.0,
                    def_at.1,
                    Kind::MissingSince,
                    format!(
                        "the doc block of {what} has no 'Since:' section; add one naming \
                         the QEMU version that introduced it, e.g. 'Since: 10.1'"
                    ),
                );
            }
            return None;
        };
        let (info, col) = self.text_pos(doc, sec, 0).unwrap_or((sec.info, None));
        match check_since_section(&sec.text) {
            Ok(v) => Some(v),
            Err(why) => {
                self.push(
                    info,
                    col,
                    Kind::MalformedSince,
                    format!("'Since: {}' of {what}: {why}", first_line(sec.text.trim())),
                );
                None
            }
        }
    }

    /// Checks the `(since X)` notes of one description.
    fn description_versions(
        &mut self,
        what: &str,
        item: &str,
        r: DocRef,
        def_since: Option<&[u32]>,
    ) {
        if !self.seen.insert((r.doc, r.section)) {
            return;
        }
        let doc = &self.s.docs[r.doc as usize];
        let sec = doc.section(r.section as usize);
        for (off, note) in member_sinces(&sec.text) {
            let (info, col) = self.text_pos(doc, sec, off).unwrap_or((sec.info, None));
            match note {
                SinceNote::Bad(text, why) => self.push(
                    info,
                    col,
                    Kind::MalformedSince,
                    format!("'{text}' in the description of {item} of {what}: {why}"),
                ),
                SinceNote::Version(v) => {
                    let Some(d) = def_since else { continue };
                    if version_lt(&v, d) {
                        self.push(
                            info,
                            col,
                            Kind::SinceBeforeDefinition,
                            format!(
                                "{item} is marked since {}, older than 'Since: {}' of \
                                 {what}; correct the version that is wrong, or, if it \
                                 comes from an older interface, say which",
                                show_version(&v),
                                show_version(d)
                            ),
                        );
                    }
                }
            }
        }
    }

    // ---- locations ----

    /// Line and column of a name the model located.
    fn pos(&self, span: Option<Span>) -> Option<(Info, Option<u32>)> {
        span.map(|sp| (sp.info, Some(sp.col(&self.s.sources))))
    }

    /// The doc lines of a definition's block, unindented ones only, each
    /// with its position and the text after `# ` (the lines the parser
    /// read, with their positions: nothing is re-read from the file).
    fn doc_lines(&self, doc: &'a Doc) -> Vec<(Info, u32, &'a str)> {
        let file = doc.info.file;
        let text: &'a str = self.s.sources.file(file).text.as_str();
        doc.lines()
            .iter()
            .filter_map(|l| {
                let content = &text[l.text.0 as usize..l.text.1 as usize];
                if content.is_empty() || content.starts_with(char::is_whitespace) {
                    return None;
                }
                let col = qemu_column(text, l.line_start as usize, l.text.0 as usize);
                Some((Info { file, line: l.line }, col, content))
            })
            .collect()
    }

    /// The source position of byte `off` of a section's text.  The text's
    /// first line is either what follows `@name:` (or `Tag:`) on the
    /// section's first line, or the first non-blank doc line after it; the
    /// following text lines are the following doc lines.
    fn text_pos(&self, doc: &Doc, sec: &Section, off: usize) -> Option<(Info, Option<u32>)> {
        let file = self.s.sources.file(sec.info.file);
        let text = file.text.as_str();
        let k = sec.text.get(..off)?.matches('\n').count();
        let line_start_in_sec = sec.text[..off].rfind('\n').map_or(0, |i| i + 1);
        let in_line = off - line_start_in_sec;
        let want = sec.text[line_start_in_sec..].split('\n').next()?;
        let lines = doc.lines();
        let line_of = |l: usize| lines.iter().find(|d| d.line as usize == l);
        let content_of = |l: usize| -> Option<(usize, &str)> {
            let d = line_of(l)?;
            Some((
                d.text.0 as usize,
                &text[d.text.0 as usize..d.text.1 as usize],
            ))
        };
        let first = sec.info.line as usize;
        let (pos0, c0) = content_of(first)?;
        let colon = c0.find(':')?;
        let after = c0[colon + 1..].trim_start_matches(' ');
        let (line, line_off) = if !after.is_empty() {
            if k == 0 {
                (first, pos0 + (c0.len() - after.len()))
            } else {
                (first + k, content_of(first + k)?.0)
            }
        } else {
            let mut l = first + 1;
            while content_of(l)?.1.trim().is_empty() {
                l += 1;
            }
            (l + k, content_of(l + k)?.0)
        };
        // Make sure we are where we think we are.
        if !text[line_off..].starts_with(want) {
            return None;
        }
        let ls = line_of(line)?.line_start as usize;
        Some((
            Info {
                file: sec.info.file,
                line: line as u32,
            },
            Some(qemu_column(text, ls, line_off + in_line)),
        ))
    }
}

/// `x` of `member 'x'`.
fn item_name(what: &str) -> &str {
    what.split('\'').nth(1).unwrap_or(what)
}

fn first_line(s: &str) -> &str {
    s.split('\n').next().unwrap_or(s)
}

/// An unindented doc line that looks like a `Since:` section but is not
/// one: `Since 9.2` (no colon), `since: 9.2` (lower case), or `Since: 9.2`
/// inside a paragraph.  The whole line must be the word and a version.
fn stray_since(content: &str) -> Option<String> {
    let line = content.trim_end();
    let word = line.get(..5)?;
    if !word.eq_ignore_ascii_case("since") {
        return None;
    }
    let rest = &line[5..];
    let (colon, rest) = match rest.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let v = rest.trim_start();
    if v.contains(char::is_whitespace) || !v.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if !colon && rest.len() == v.len() {
        // "Since2.9": not a word followed by a version.
        return None;
    }
    let fix = format!("Since: {}", v.trim_end_matches('.'));
    Some(if word == "Since" && colon {
        format!(
            "'{line}' is part of the paragraph above it, not a 'Since:' section; \
             put a blank line before it"
        )
    } else {
        format!("'{line}' is an ordinary paragraph, not a 'Since:' section; write '{fix}'")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_lines() {
        assert!(stray_since("Since 9.2").is_some());
        assert!(stray_since("since: 9.2").is_some());
        assert!(stray_since("Since: 9.2").is_some());
        assert!(stray_since("Since 9.2 the command does x").is_none());
        assert!(stray_since("Since QEMU 2.4, each device").is_none());
        assert!(stray_since("Sincerely").is_none());
    }
}
