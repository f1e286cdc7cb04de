//! Documentation comments: the `##` blocks and their structure.
//!
//! A block opens with a line `##` and closes with one.  A block whose first
//! line is `@SYMBOL:` documents the definition that follows; any other block
//! is free-form.  Definition blocks consist of a body, member descriptions
//! (`@name: text`), feature descriptions (after `Features:`), tagged sections
//! (`Returns:`, `Errors:`, `Since:`, `TODO:`) and further plain paragraphs.
//! The rules, and the errors for breaking them, are those of QEMU 9.0 and
//! later, where `Rules` says how each release differs; `doc_modes.rs` reads
//! the blocks of 7.2–8.2.

use crate::error::{Error, Result};
use crate::source::{Info, Span};

use std::sync::Arc;

use super::lexer::{is_py_space, TokKind};
use super::FileParser;

/// The kind of a doc section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// Untagged text: the body, or a paragraph after other sections.
    Plain,
    /// `@member: text`.
    Member,
    /// `@feature: text` after `Features:`.
    Feature,
    /// `Returns:`.
    Returns,
    /// `Errors:`.
    Errors,
    /// `Since:`.
    Since,
    /// `TODO:`.
    Todo,
    /// `Note:` or `Notes:` (until 9.1 rejected them).
    Note,
    /// `Example:` or `Examples:` (until 9.1 rejected them).
    Example,
}

impl SectionKind {
    /// The name QEMU prints (`Plain`, `Member`, `Returns`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Plain => "Plain",
            SectionKind::Member => "Member",
            SectionKind::Feature => "Feature",
            SectionKind::Returns => "Returns",
            SectionKind::Errors => "Errors",
            SectionKind::Since => "Since",
            SectionKind::Todo => "Todo",
            SectionKind::Note => "Note",
            SectionKind::Example => "Example",
        }
    }

    /// The kind of a tagged section.
    pub(super) fn from_tag(tag: &str) -> SectionKind {
        match tag {
            "Returns" => SectionKind::Returns,
            "Errors" => SectionKind::Errors,
            "Since" => SectionKind::Since,
            "Note" | "Notes" => SectionKind::Note,
            "Example" | "Examples" => SectionKind::Example,
            _ => SectionKind::Todo,
        }
    }
}

/// One section of a doc block.
#[derive(Clone, Debug)]
pub struct Section {
    /// Where the section starts.
    pub info: Info,
    /// Its kind.
    pub kind: SectionKind,
    /// Its text: lines joined with `\n`, leading and trailing blank lines
    /// stripped, indentation kept.
    pub text: String,
    /// For member and feature descriptions: the name after `@`.
    pub name: Option<String>,
    /// For tagged sections: the tag as written (`Notes`, `TODO`).  Until
    /// 10.0 the dump and messages name sections by it.
    pub tag: Option<&'static str>,
    /// For member and feature descriptions: whether a schema member or
    /// feature of that name was connected to it.
    pub connected: bool,
}

impl Section {
    pub(super) fn new(info: Info, kind: SectionKind, name: Option<String>) -> Self {
        Section {
            info,
            kind,
            text: String::new(),
            name,
            tag: None,
            connected: false,
        }
    }

    /// How QEMU 10.0 and later name the section in the dump (`Plain`,
    /// `Returns`, `Todo`), or earlier releases (the tag as written, `None`
    /// for untagged text).
    pub fn dump_name(&self, by_kind: bool) -> &'static str {
        match (by_kind, self.tag) {
            (true, _) => self.kind.name(),
            (false, Some(t)) => t,
            (false, None) => "None",
        }
    }

    /// How `text required after '...:'` names the section: by kind from
    /// 10.0 (`Member`), else by tag or `@name`.
    fn required_name(&self, by_kind: bool) -> String {
        match (&self.kind, &self.name) {
            _ if by_kind => self.kind.name().to_string(),
            (SectionKind::Member | SectionKind::Feature, Some(n)) => format!("@{n}"),
            _ => self.tag.unwrap_or("None").to_string(),
        }
    }
}

/// One comment line of a doc block, as the parser read it: where the line
/// starts and where its text (after `# `) is in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocLine {
    /// Line number, from 1.
    pub line: u32,
    /// Byte offset of the line's start in the file text.
    pub line_start: u32,
    /// Byte range of the text after `# ` (empty for a bare `#`).
    pub text: (u32, u32),
}

/// A documentation block.
#[derive(Clone, Debug)]
pub struct Doc {
    /// The block's first line (the opening `##`).
    pub info: Info,
    /// The documented definition's name; `None` for free-form blocks.
    pub symbol: Option<String>,
    /// Every section in textual order, index 0 being the body; stubs for
    /// undocumented members (see `connect_member`) come last.
    pub(super) secs: Vec<Section>,
    /// Textual order including stubs, once a stub has been inserted.
    order: Option<Vec<usize>>,
    /// While parsing: the lines of the last section not yet joined into its
    /// text, as byte ranges of the file text (joined once, exactly sized).
    pending: Vec<(u32, u32)>,
    pub(super) returns: Option<usize>,
    pub(super) errors: Option<usize>,
    pub(super) since: Option<usize>,
    /// Where a stub `Returns` section stands in textual order (10.1 on:
    /// documented commands that return something but say nothing of it).
    returns_stub: Option<usize>,
    /// The block's comment lines between the opening and closing `##`, in
    /// order (a heading-split 7.2 block: the lines of its part).
    pub(super) lines: Vec<DocLine>,
}

impl Doc {
    pub(super) fn new(info: Info, symbol: Option<String>) -> Self {
        let mut secs = Vec::with_capacity(4);
        secs.push(Section::new(info, SectionKind::Plain, None));
        Doc {
            info,
            symbol,
            secs,
            order: None,
            pending: Vec::new(),
            returns: None,
            errors: None,
            since: None,
            returns_stub: None,
            lines: Vec::new(),
        }
    }

    /// Moves the block to file ids shifted by `shift` (see
    /// [`crate::source::SourceMap::append`]).
    pub fn shift_files(&mut self, shift: u32) {
        let mv = |i: &mut Info| i.file = crate::source::FileId(i.file.0 + shift);
        mv(&mut self.info);
        for s in &mut self.secs {
            mv(&mut s.info);
        }
    }

    /// The block's comment lines, with their positions.
    pub fn lines(&self) -> &[DocLine] {
        &self.lines
    }

    /// Whether the block has a stub `Returns` section (see
    /// [`crate::release::Rules::returns_stub`]): QEMU's doc generator then
    /// documents the return type although the text says nothing.
    pub fn has_returns_stub(&self) -> bool {
        self.returns_stub.is_some()
    }

    /// QEMU 10.1's `ensure_returns`: a command with a return type and no
    /// `Returns:` gets an empty one, after the member descriptions, else
    /// before `Errors:`, else before the features, else after the body.
    pub(crate) fn ensure_returns(&mut self, info: Info) {
        if self.returns.is_some() || self.returns_stub.is_some() {
            return;
        }
        let mut order = self
            .order
            .take()
            .unwrap_or_else(|| (0..self.secs.len()).collect());
        let last_of = |kind: SectionKind, secs: &[Section], order: &[usize]| {
            order.iter().rposition(|&i| secs[i].kind == kind)
        };
        let pos = last_of(SectionKind::Member, &self.secs, &order)
            .map(|p| p + 1)
            .or_else(|| last_of(SectionKind::Errors, &self.secs, &order))
            .or_else(|| last_of(SectionKind::Feature, &self.secs, &order))
            .unwrap_or(1.min(order.len()));
        self.secs
            .push(Section::new(info, SectionKind::Returns, None));
        let idx = self.secs.len() - 1;
        order.insert(pos, idx);
        self.order = Some(order);
        self.returns_stub = Some(idx);
    }

    /// The body: the text before any description or tagged section.
    pub fn body(&self) -> &Section {
        &self.secs[0]
    }

    fn named(&self, kind: SectionKind) -> impl Iterator<Item = (usize, &str, &Section)> {
        self.secs
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.kind == kind)
            .map(|(i, s)| (i, s.name.as_deref().unwrap_or_default(), s))
    }

    /// Member (argument, value, branch) descriptions, in order: the
    /// documented ones, then stubs.
    pub fn args(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.named(SectionKind::Member).map(|(_, n, s)| (n, s))
    }

    /// Feature descriptions, in order.
    pub fn features(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.named(SectionKind::Feature).map(|(_, n, s)| (n, s))
    }

    /// Sections after the body other than descriptions: tagged ones and
    /// later plain paragraphs, in order.
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        let stub = self.returns_stub;
        self.secs[1..]
            .iter()
            .enumerate()
            .filter(move |(i, s)| {
                Some(i + 1) != stub && !matches!(s.kind, SectionKind::Member | SectionKind::Feature)
            })
            .map(|(_, s)| s)
    }

    /// All sections in textual order, the body first.
    pub fn all_sections(&self) -> Vec<&Section> {
        match &self.order {
            Some(order) => order.iter().map(|i| &self.secs[*i]).collect(),
            None => self.secs.iter().collect(),
        }
    }

    /// The `Returns:` section.
    pub fn returns(&self) -> Option<&Section> {
        self.returns.map(|i| &self.secs[i])
    }

    /// The `Errors:` section.
    pub fn errors(&self) -> Option<&Section> {
        self.errors.map(|i| &self.secs[i])
    }

    /// The `Since:` section.
    pub fn since(&self) -> Option<&Section> {
        self.since.map(|i| &self.secs[i])
    }

    /// The description of member `name`, if documented.
    pub fn arg(&self, name: &str) -> Option<&Section> {
        self.args().find(|(n, _)| *n == name).map(|(_, s)| s)
    }

    /// The description of feature `name`, if documented.
    pub fn feature(&self, name: &str) -> Option<&Section> {
        self.features().find(|(n, _)| *n == name).map(|(_, s)| s)
    }

    /// The section with index `i` (see [`crate::model::DocRef`]).
    pub fn section(&self, i: usize) -> &Section {
        &self.secs[i]
    }

    fn push(&mut self, src: &str, sec: Section) -> usize {
        self.flush(src);
        self.secs.push(sec);
        self.secs.len() - 1
    }

    /// Joins the pending lines into the last section's text.
    fn flush(&mut self, src: &str) {
        if self.pending.is_empty() {
            return;
        }
        let len: usize = self.pending.iter().map(|(a, b)| (b - a) as usize + 1).sum();
        let last = self.secs.last_mut().expect("a doc always has its body");
        last.text.reserve(len);
        for (a, b) in self.pending.drain(..) {
            last.text.push_str(&src[a as usize..b as usize]);
            last.text.push('\n');
        }
    }

    /// Adds a line (a slice of `src`, or empty) to the last section.
    fn append_line(&mut self, src: &str, line: &str) {
        if line.is_empty() {
            self.pending.push((0, 0));
            return;
        }
        let start = line.as_ptr() as usize - src.as_ptr() as usize;
        debug_assert!(start + line.len() <= src.len());
        self.pending
            .push((start as u32, (start + line.len()) as u32));
    }

    fn ensure_untagged_section(&mut self, src: &str, info: Info) {
        let pending_empty = self.pending.is_empty();
        let last = self.secs.last_mut().expect("a doc always has its body");
        if last.kind == SectionKind::Plain {
            if last.text.is_empty() && pending_empty {
                last.info = info;
            }
            self.pending.push((0, 0));
            return;
        }
        self.push(src, Section::new(info, SectionKind::Plain, None));
    }

    /// Marks member `name` as documented by the schema and returns the index
    /// of its description; when it has none, either inserts an empty stub
    /// (the definition is listed in the `documentation-exceptions` pragma)
    /// or returns `None`.
    pub(crate) fn connect_member(&mut self, name: &str, excepted: bool) -> Option<usize> {
        let found = self
            .named(SectionKind::Member)
            .find(|(_, n, _)| *n == name)
            .map(|(i, _, _)| i);
        if let Some(i) = found {
            self.secs[i].connected = true;
            return Some(i);
        }
        if !excepted {
            return None;
        }
        let mut sec = Section::new(self.info, SectionKind::Member, Some(name.to_string()));
        sec.connected = true;
        let mut order = self
            .order
            .take()
            .unwrap_or_else(|| (0..self.secs.len()).collect());
        self.secs.push(sec);
        let idx = self.secs.len() - 1;
        // QEMU puts the stub after the run of member sections that follows
        // the body.  (QEMU 10.0.2 crashes when that run reaches the end of
        // the block; we append at the end instead.)
        let mut pos = 1;
        while pos < order.len() && self.secs[order[pos]].kind == SectionKind::Member {
            pos += 1;
        }
        order.insert(pos, idx);
        self.order = Some(order);
        Some(idx)
    }

    /// Marks feature `name` as documented and returns the index of its
    /// description; `None` when it is not documented.
    pub(crate) fn connect_feature(&mut self, name: &str) -> Option<usize> {
        let i = self
            .named(SectionKind::Feature)
            .find(|(_, n, _)| *n == name)
            .map(|(i, _, _)| i)?;
        self.secs[i].connected = true;
        Some(i)
    }

    /// Descriptions of members or features that no schema entity claimed.
    pub(crate) fn unconnected(&self, features: bool) -> Vec<(&str, Info)> {
        let kind = if features {
            SectionKind::Feature
        } else {
            SectionKind::Member
        };
        self.named(kind)
            .filter(|(_, _, s)| !s.connected)
            .map(|(_, n, s)| (n, s.info))
            .collect()
    }
}

/// `@name: ` at the start of a line: QEMU's `@([^:]*): *`.  Returns the name
/// and the text after the colon and spaces.
fn match_at_name_colon(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('@')?;
    let colon = rest.bytes().position(|c| c == b':')?;
    let name = &rest[..colon];
    let text = rest[colon + 1..].trim_start_matches(' ');
    Some((name, text))
}

/// A tagged section line: `(Returns|Errors|Since|Notes?|Examples?|TODO)`,
/// not followed by `::` (from 9.1, `double_colon_is_rst`), then `:` and
/// spaces.  Returns the tag and the rest.
fn match_tag(line: &str, double_colon_is_rst: bool) -> Option<(&'static str, &str)> {
    const TAGS: [&str; 8] = [
        "Returns", "Errors", "Since", "Notes", "Note", "Examples", "Example", "TODO",
    ];
    for tag in TAGS {
        if let Some(rest) = line.strip_prefix(tag) {
            if double_colon_is_rst && rest.starts_with("::") {
                continue;
            }
            if let Some(after) = rest.strip_prefix(':') {
                return Some((tag, after.trim_start_matches(' ')));
            }
        }
    }
    None
}

/// QEMU 10.2's `(\.\. +qmp-example)? *::$`: a line that opens a literal
/// block.
fn opens_literal_block(line: &str) -> bool {
    let rest = match line.strip_prefix("..") {
        Some(r) if r.starts_with(' ') => {
            match r.trim_start_matches(' ').strip_prefix("qmp-example") {
                Some(r) => r,
                None => line,
            }
        }
        _ => line,
    };
    rest.trim_start_matches(' ') == "::"
}

/// QEMU 10.2's ` *(https?|ftp)://[^ ]*$`: a URL alone, which may be long.
fn is_url_line(line: &str) -> bool {
    let l = line.trim_start_matches(' ');
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|p| l.strip_prefix(p).is_some_and(|rest| !rest.contains(' ')))
}

/// QEMU 10.2's sentence-spacing rule: the first match of
/// `(\be\.g\.|^ *\d\.|([.!?])) [A-Z0-9(]`, scanned as Python's
/// `finditer` scans, whose punctuation group matched: `e.g.` and a leading
/// list number are not sentence ends.  Returns the punctuation's index in
/// characters.
fn single_space_after_sentence(line: &str) -> Option<usize> {
    // Every character the pattern names is ASCII, so it is scanned as
    // bytes; only `\b` and `\d` look at a whole character.  This runs on
    // every doc line, so it must not allocate.
    let b = line.as_bytes();
    let follows = |i: usize| {
        b.get(i) == Some(&b' ')
            && b.get(i + 1)
                .is_some_and(|&n| n.is_ascii_uppercase() || n.is_ascii_digit() || n == b'(')
    };
    let word_before = |i: usize| {
        line[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    };
    // Alternative 2, `^ *\d\.`, can only match at the start.
    let start = b.iter().take_while(|&&c| c == b' ').count();
    let mut i = 0;
    if let Some(d) = line[start..].chars().next().filter(|d| d.is_numeric()) {
        let j = start + d.len_utf8();
        if b.get(j) == Some(&b'.') && follows(j + 1) {
            i = j + 3;
        }
    }
    while i < b.len() {
        match b[i] {
            // Alternative 1: `\be\.g\.`
            b'e' if b.get(i + 1..i + 4) == Some(&b".g."[..])
                && follows(i + 4)
                && !word_before(i) =>
            {
                i += 6;
                continue;
            }
            // Alternative 3: `([.!?])`
            b'.' | b'!' | b'?' if follows(i + 1) => return Some(line[..i].chars().count()),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `s` without its first `n` characters (Python's `s[n:]`).
pub(super) fn skip_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[i..],
        None if n == 0 => s,
        None => &s[s.len()..],
    }
}

/// Number of leading white-space characters (Python's `\s*` match).
fn indent_of(line: &str) -> usize {
    line.chars().take_while(|c| is_py_space(*c)).count()
}

/// Python's `str.rstrip()`.
fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

impl FileParser<'_> {
    /// The current token as a doc line: `None` at the closing `##`, the line
    /// text otherwise (QEMU's `get_doc_line`).
    fn get_doc_line<'s>(&mut self, src: &'s str) -> Result<Option<&'s str>> {
        let tok = self.tok();
        if tok.kind != TokKind::Comment {
            return Err(self.err_here("documentation comment must end with '##'"));
        }
        let val = tok.text(src);
        if let Some(rest) = val.strip_prefix("##") {
            if !rest.is_empty() {
                return Err(self.err_here("junk after '##' at end of documentation comment"));
            }
            self.literal = None;
            return Ok(None);
        }
        self.record_doc_line();
        if val == "#" {
            return Ok(Some(""));
        }
        if !val[1..].starts_with(' ') {
            return Err(self.err_here("missing space after #"));
        }
        let line = py_rstrip(&val[2..]);
        if self.ctx.rules.doc_line_format {
            self.check_doc_line_format(line)?;
        }
        Ok(Some(line))
    }

    /// Notes the current comment token as a line of the doc block being
    /// read (its text is what follows `# `).
    pub(super) fn record_doc_line(&mut self) {
        let tok = *self.tok();
        let start = tok.span(self.file).offset;
        let len = tok.text(&self.src).len() as u32;
        let text = if len >= 2 {
            (start + 2, start + len)
        } else {
            (start + len, start + len)
        };
        self.doc_raw.push(DocLine {
            line: tok.line,
            line_start: tok.line_start,
            text,
        });
    }

    /// QEMU 10.2's format rules for doc lines outside literal blocks (a
    /// block opened by a line `::` or `.. qmp-example::`, and continuing
    /// while lines stay indented at least as far as its first one).
    fn check_doc_line_format(&mut self, line: &str) -> Result<()> {
        if opens_literal_block(line) {
            self.literal = Some(0);
            return Ok(());
        }
        if let Some(indent) = self.literal {
            if !line.is_empty() {
                let n = indent_of(line);
                if indent == 0 {
                    self.literal = Some(n);
                } else if n < indent {
                    self.literal = None;
                }
            }
        }
        if self.literal.is_some() {
            return Ok(());
        }
        // Bytes bound characters from above: count only long lines.
        if line.len() + 2 > 70 && line.chars().count() + 2 > 70 && !is_url_line(line) {
            return Err(self.err_here("documentation line longer than 70 characters"));
        }
        if let Some(at) = single_space_after_sentence(line) {
            // QEMU points at the space after the punctuation, counting
            // characters from the start of the source line as if `# `
            // started it (so an indented `#` moves the column left).
            let tok = *self.tok();
            let src = &self.src[tok.line_start as usize..];
            let skip: usize = src.chars().take(2 + at + 1).map(char::len_utf8).sum();
            let span = Span {
                info: self.info(),
                offset: tok.line_start + skip as u32,
                line_start: tok.line_start,
            };
            return Err(Error::at_span(
                &self.ctx.sources,
                span,
                "Use two spaces between sentences\n\
                 If this not the end of a sentence, please report a bug.",
            ));
        }
        Ok(())
    }

    fn next_doc_line<'s>(&mut self, src: &'s str) -> Result<Option<&'s str>> {
        self.accept(false)?;
        self.get_doc_line(src)
    }

    fn get_doc_indented<'s>(&mut self, src: &'s str, doc: &mut Doc) -> Result<Option<&'s str>> {
        let mut line = self.next_doc_line(src)?;
        while line == Some("") {
            doc.append_line(src, "");
            line = self.next_doc_line(src)?;
        }
        let Some(first) = line else { return Ok(None) };
        let indent = indent_of(first);
        if indent == 0 {
            return Ok(Some(first));
        }
        // 9.0 strips the first continuation line's indentation from the
        // lines it adds; 9.1 keeps it.
        let strip = if self.ctx.rules.doc_indentation_kept {
            0
        } else {
            indent
        };
        doc.append_line(src, skip_chars(first, strip));
        let mut prev_line_blank = false;
        loop {
            let Some(line) = self.next_doc_line(src)? else {
                return Ok(None);
            };
            if match_at_name_colon(line).is_some() {
                return Ok(Some(line));
            }
            if !line.is_empty() && indent_of(line) < indent {
                if prev_line_blank {
                    return Ok(Some(line));
                }
                return Err(self.err_here(&format!(
                    "unexpected de-indent (expected at least {indent} spaces)"
                )));
            }
            doc.append_line(src, skip_chars(line, strip));
            // QEMU sets this flag after every line, blank or not, so only
            // the second continuation line can be reported as a de-indent.
            prev_line_blank = true;
        }
    }

    fn get_doc_paragraph<'s>(&mut self, src: &'s str, doc: &mut Doc) -> Result<Option<&'s str>> {
        loop {
            let line = self.next_doc_line(src)?;
            match line {
                None | Some("") => return Ok(line),
                Some(l) => doc.append_line(src, l),
            }
        }
    }

    fn new_description(
        &mut self,
        src: &str,
        doc: &mut Doc,
        name: &str,
        feature: bool,
    ) -> Result<()> {
        let info = self.info();
        if name.is_empty() {
            return Err(self.sem_err(info, "invalid parameter name"));
        }
        let kind = if feature {
            SectionKind::Feature
        } else {
            SectionKind::Member
        };
        if doc.named(kind).any(|(_, n, _)| n == name) {
            return Err(self.sem_err(info, &format!("'{name}' parameter name duplicated")));
        }
        doc.push(src, Section::new(info, kind, Some(name.to_string())));
        Ok(())
    }

    fn new_tagged_section(&mut self, src: &str, doc: &mut Doc, tag: &'static str) -> Result<()> {
        let kind = SectionKind::from_tag(tag);
        let info = self.info();
        let i = doc.secs.len();
        let slot = match kind {
            SectionKind::Returns => Some(&mut doc.returns),
            SectionKind::Errors => Some(&mut doc.errors),
            SectionKind::Since => Some(&mut doc.since),
            _ => None,
        };
        if let Some(slot) = slot {
            if slot.is_some() {
                return Err(self.sem_err(info, &format!("duplicated '{}' section", kind.name())));
            }
            *slot = Some(i);
        }
        let mut sec = Section::new(info, kind, None);
        sec.tag = Some(tag);
        doc.push(src, sec);
        Ok(())
    }

    /// Reads a doc block as QEMU 9.0 and later do; the current token is
    /// its opening comment.
    pub(super) fn get_doc(&mut self) -> Result<Doc> {
        let rules = self.ctx.rules;
        self.doc_raw.clear();
        let src_rc = Arc::clone(&self.src);
        let src: &str = src_rc.as_str();
        if self.tok().text(src) != "##" {
            return Err(self.err_here("junk after '##' at start of documentation comment"));
        }
        let info = self.info();
        let mut line = self.next_doc_line(src)?;
        let mut doc;
        if let Some(first) = line.filter(|l| l.starts_with('@')) {
            if !first.ends_with(':') {
                return Err(self.err_here("line should end with ':'"));
            }
            let symbol = &first[1..first.len() - 1];
            if symbol.is_empty() {
                return Err(self.err_here("name required after '@'"));
            }
            doc = Doc::new(info, Some(symbol.to_string()));
            doc.pending = std::mem::take(&mut self.doc_lines);
            line = self.next_doc_line(src)?;
            let mut no_more_args = false;
            while line.is_some() {
                while line == Some("") {
                    line = self.next_doc_line(src)?;
                }
                let Some(l) = line.take() else { break };
                if l == "Features:" {
                    if doc.features().next().is_some() {
                        return Err(self.err_here("duplicated 'Features:' line"));
                    }
                    line = self.next_doc_line(src)?;
                    while line == Some("") {
                        line = self.next_doc_line(src)?;
                    }
                    while let Some((name, text)) = line.and_then(match_at_name_colon) {
                        self.new_description(src, &mut doc, name, true)?;
                        if !text.is_empty() {
                            doc.append_line(src, text);
                        }
                        line = self.get_doc_indented(src, &mut doc)?;
                    }
                    if doc.features().next().is_none() {
                        return Err(self.err_here("feature descriptions expected"));
                    }
                    no_more_args = true;
                } else if let Some((name, _)) = match_at_name_colon(l) {
                    if no_more_args {
                        return Err(
                            self.err_here(&format!("description of '@{name}:' follows a section"))
                        );
                    }
                    line = Some(l);
                    while let Some((name, text)) = line.and_then(match_at_name_colon) {
                        self.new_description(src, &mut doc, name, false)?;
                        if !text.is_empty() {
                            doc.append_line(src, text);
                        }
                        line = self.get_doc_indented(src, &mut doc)?;
                    }
                    no_more_args = true;
                } else if let Some((tag, text)) = match_tag(l, rules.notes_examples_rejected) {
                    if rules.notes_examples_rejected && tag.starts_with("Note") {
                        return Err(self.err_here(&format!(
                            "The '{tag}' section is no longer supported. Please use rST's \
                             '.. note::' or '.. admonition:: notes' directives, or another \
                             suitable admonition instead."
                        )));
                    }
                    if rules.notes_examples_rejected && tag.starts_with("Example") {
                        return Err(self.err_here(&format!(
                            "The '{tag}' section is no longer supported. Please use the \
                             '.. qmp-example::' directive, or other suitable markup instead."
                        )));
                    }
                    self.new_tagged_section(src, &mut doc, tag)?;
                    if !text.is_empty() {
                        doc.append_line(src, text);
                    }
                    line = self.get_doc_indented(src, &mut doc)?;
                    no_more_args = true;
                } else if rules.heading_rules && l.starts_with('=') {
                    return Err(self.err_here("unexpected '=' markup in definition documentation"));
                } else {
                    doc.ensure_untagged_section(src, self.info());
                    doc.append_line(src, l);
                    line = self.get_doc_paragraph(src, &mut doc)?;
                }
            }
        } else {
            doc = Doc::new(info, None);
            doc.pending = std::mem::take(&mut self.doc_lines);
            doc.ensure_untagged_section(src, self.info());
            let mut first = true;
            while let Some(l) = line {
                if let Some((name, _)) = match_at_name_colon(l) {
                    return Err(self.err_here(&format!(
                        "'@{name}:' not allowed in free-form documentation"
                    )));
                }
                if rules.heading_rules && l.starts_with('=') && !first {
                    return Err(self.err_here("'=' heading must come first in a comment block"));
                }
                doc.append_line(src, l);
                line = self.next_doc_line(src)?;
                first = false;
            }
        }
        // 9.0 reads the token after the block with comments kept, so a
        // plain comment there starts another block.
        doc.lines = std::mem::take(&mut self.doc_raw);
        self.accept(!rules.comment_after_doc_misread)?;
        doc.flush(src);
        self.doc_lines = std::mem::take(&mut doc.pending);
        self.end_doc(&mut doc)?;
        Ok(doc)
    }

    fn end_doc(&self, doc: &mut Doc) -> Result<()> {
        for sec in &mut doc.secs {
            let end = sec.text.trim_end_matches('\n').len();
            sec.text.truncate(end);
            let lead = sec.text.len() - sec.text.trim_start_matches('\n').len();
            if lead > 0 {
                sec.text.drain(..lead);
            }
            if sec.kind != SectionKind::Plain && sec.text.is_empty() {
                let name = sec.required_name(self.ctx.rules.section_kind_names);
                return Err(Error::at(
                    &self.ctx.sources,
                    sec.info,
                    &format!("text required after '{name}:'"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_name_colon() {
        let cases = [
            ("@foo: bar", Some(("foo", "bar"))),
            ("@foo:", Some(("foo", ""))),
            ("@foo:   x ", Some(("foo", "x "))),
            ("@: x", Some(("", "x"))),
            ("@foo bar: x", Some(("foo bar", "x"))),
            ("@foo", None),
            ("foo: x", None),
        ];
        for (line, want) in cases {
            assert_eq!(match_at_name_colon(line), want, "{line:?}");
        }
    }

    #[test]
    fn literal_block_openers() {
        let cases = [
            ("::", true),
            ("   ::", true),
            (".. qmp-example::", true),
            (".. qmp-example ::", true),
            ("..  qmp-example::", true),
            ("  .. qmp-example::", false),
            ("Examples::", false),
            ("text::", false),
            (".. qmp-example:: x", false),
            ("..qmp-example::", false),
        ];
        for (line, want) in cases {
            assert_eq!(opens_literal_block(line), want, "{line:?}");
        }
    }

    #[test]
    fn url_lines() {
        assert!(is_url_line("https://example.org/a/very/long/path"));
        assert!(is_url_line("   ftp://x"));
        assert!(!is_url_line("see https://example.org"));
        assert!(!is_url_line("https://a b"));
    }

    #[test]
    fn sentence_spacing() {
        let cases = [
            ("One. Two", Some(3)),
            ("One.  Two", None),
            ("e.g. Foo", None),
            ("see e.g. Foo", None),
            ("i.e. Foo", Some(3)),
            ("1. Foo", None),
            ("  2. Foo", None),
            ("10. Foo", Some(2)),
            ("1. Foo and 2. Bar", Some(12)),
            ("Why? Because", Some(3)),
            ("end. (aside)", Some(3)),
            ("end. lower", None),
            ("v1.2 Foo", None),
            ("the.e.g. Foo", None),
        ];
        for (line, want) in cases {
            assert_eq!(single_space_after_sentence(line), want, "{line:?}");
        }
    }

    #[test]
    fn tags_before_9_1_take_double_colons() {
        assert_eq!(match_tag("Note:: a", false), Some(("Note", ": a")));
        assert_eq!(match_tag("Examples::", false), Some(("Examples", ":")));
    }

    #[test]
    fn tags() {
        let cases = [
            ("Returns: x", Some(("Returns", "x"))),
            ("Since: 2.9", Some(("Since", "2.9"))),
            ("TODO: a", Some(("TODO", "a"))),
            ("Notes: a", Some(("Notes", "a"))),
            ("Note: a", Some(("Note", "a"))),
            ("Note:: a", None),
            ("Examples::", None),
            ("Returns", None),
            ("Returnsx: a", None),
            ("Todo: a", None),
        ];
        for (line, want) in cases {
            assert_eq!(match_tag(line, true), want, "{line:?}");
        }
    }
}
