//! Doc comments as QEMU 7.2 through 8.2 read them.
//!
//! Until 9.0 QEMU parsed a doc block line by line with a state machine:
//! each line goes to the handler of the current mode — the body, member
//! descriptions, feature descriptions, or other ("various") sections — and
//! a handler may switch modes.  Its rules differ from 9.0's paragraph
//! parser (`doc.rs`) in ways a schema can see everywhere: a tag line
//! starts a section anywhere, text after a tagged section stays in it,
//! continuation lines must be indented to the section's column, sections
//! are stripped of surrounding white space, empty sections are reported at
//! the line that ends them, and a `=` heading line splits a free-form
//! block into several blocks.  That is why this is a parser of its own
//! rather than flags inside the other.
//!
//! Two variants, chosen by [`Rules::doc_tags_by_regex`]: 7.2 and 8.0
//! recognise `@name:` and tags by the line's first space-separated word
//! and expect continuation lines at the column of the text after the tag;
//! 8.1 and 8.2 match `@([^:]*): *` and the tags by pattern, let the first
//! continuation line set the indentation, and name a description after a
//! section in their message.

use std::sync::Arc;

use super::doc::{skip_chars, Doc, Section, SectionKind};
use super::lexer::{is_py_space, TokKind};
use super::FileParser;
use crate::error::Result;
use crate::release::Rules;

/// Which handler gets the next line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Body,
    Args,
    Features,
    Various,
}

/// A block being read.
struct Block {
    doc: Doc,
    /// The section lines go to (an index into `doc.secs`).
    cur: usize,
    /// Indentation the current section's lines must have: `Some(n)`, or
    /// (8.1) `None` until its first continuation line sets it.
    indent: Option<usize>,
    mode: Mode,
    /// Indices of the "various" sections, in order (QEMU's `sections`).
    various: Vec<usize>,
}

/// `@name:` at the start of a line.  Returns the name and where the text
/// after it starts (in characters, spaces after the colon skipped).
fn at_name(line: &str, by_regex: bool) -> Option<(&str, usize)> {
    if by_regex {
        // 8.1: `@([^:]*): *`
        let rest = line.strip_prefix('@')?;
        let colon = rest.find(':')?;
        let after = &rest[colon + 1..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        let end = 1 + rest[..colon].chars().count() + 1 + spaces;
        return Some((&rest[..colon], end));
    }
    // 7.2: the first word (split at the first space) is `@NAME:`; the text
    // starts after `@\S*:\s*`.
    let word = line.split(' ').next().unwrap_or_default();
    if !(word.starts_with('@') && word.ends_with(':') && word.len() >= 2) {
        return None;
    }
    let name = &word[1..word.len() - 1];
    Some((name, end_of_word_colon(line)))
}

/// Where `\S*:\s*` (7.2's pattern after a tag or `@`) ends, in characters:
/// the first run of non-space characters up to its last colon, then white
/// space.
fn end_of_word_colon(line: &str) -> usize {
    let run: Vec<char> = line.chars().take_while(|c| !is_py_space(*c)).collect();
    let colon = run
        .iter()
        .rposition(|c| *c == ':')
        .map_or(run.len(), |i| i + 1);
    colon
        + line
            .chars()
            .skip(colon)
            .take_while(|c| is_py_space(*c))
            .count()
}

/// A section tag at the start of a line: the tag and where its text
/// starts (in characters).
fn tag(line: &str, by_regex: bool) -> Option<(&'static str, usize)> {
    // The order matters to the pattern: `Notes?` tries `Notes` first.
    const TAGS: [&str; 7] = [
        "Returns", "Since", "Notes", "Note", "Examples", "Example", "TODO",
    ];
    if by_regex {
        // 8.1: `(Returns|Since|Notes?|Examples?|TODO): *`
        for t in TAGS {
            if let Some(after) = line.strip_prefix(t).and_then(|r| r.strip_prefix(':')) {
                let spaces = after.len() - after.trim_start_matches(' ').len();
                return Some((t, t.len() + 1 + spaces));
            }
        }
        return None;
    }
    // 7.2: the first word is exactly `TAG:`.
    let word = line.split(' ').next().unwrap_or_default();
    let t = TAGS
        .iter()
        .copied()
        .find(|t| word.strip_suffix(':') == Some(*t))?;
    Some((t, end_of_word_colon(line)))
}

/// 7.2's `(@\S+:)` at the start of a line, which free-form text may not
/// contain: returns the match.
fn freeform_at(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('@')?;
    let run_len: usize = rest
        .chars()
        .take_while(|c| !is_py_space(*c))
        .map(char::len_utf8)
        .sum();
    let run = &rest[..run_len];
    // `\S+` needs at least one character before the colon; greedy, so the
    // last colon of the run.
    let colon = run.rfind(':').filter(|&i| i >= 1)?;
    Some(&line[..colon + 2])
}

/// Python's `str.strip()` / `str.strip('\n')`.
fn strip(text: &str, all_space: bool) -> &str {
    if all_space {
        text.trim_matches(is_py_space)
    } else {
        text.trim_matches('\n')
    }
}

impl Block {
    fn new(doc: Doc) -> Block {
        Block {
            doc,
            cur: 0,
            indent: Some(0),
            mode: Mode::Body,
            various: Vec::new(),
        }
    }

    fn cur(&mut self) -> &mut Section {
        &mut self.doc.secs[self.cur]
    }
}

impl FileParser<'_> {
    /// Reads a doc block as QEMU 7.2–8.2 do; the current token is its
    /// opening comment.  A free-form block may come out as several docs:
    /// each `=` heading after some text starts a new one.
    pub(super) fn get_doc_line_modes(&mut self) -> Result<Vec<Doc>> {
        let src_rc = Arc::clone(&self.src);
        let src: &str = src_rc.as_str();
        if self.tok().text(src) != "##" {
            return Err(self.err_here("junk after '##' at start of documentation comment"));
        }
        let info = self.info();
        self.doc_raw.clear();
        let mut docs = Vec::new();
        let mut b = Block::new(Doc::new(info, None));
        self.accept(false)?;
        while self.tok().kind == TokKind::Comment {
            let val = self.tok().text(src);
            if val.starts_with("##") {
                if val != "##" {
                    return Err(self.err_here("junk after '##' at end of documentation comment"));
                }
                self.end_block(&mut b)?;
                b.doc.lines = std::mem::take(&mut self.doc_raw);
                docs.push(b.doc);
                self.accept(true)?;
                return Ok(docs);
            }
            if val.starts_with("# =") {
                if b.doc.symbol.is_some() {
                    return Err(self.err_here("unexpected '=' markup in definition documentation"));
                }
                if !b.doc.secs[0].text.is_empty() {
                    self.end_block(&mut b)?;
                    b.doc.lines = std::mem::take(&mut self.doc_raw);
                    docs.push(std::mem::replace(&mut b, Block::new(Doc::new(info, None))).doc);
                }
            }
            self.record_doc_line();
            self.append_raw(&mut b, val)?;
            self.accept(false)?;
        }
        Err(self.err_here("documentation comment must end with '##'"))
    }

    /// QEMU's `QAPIDoc.append`: one comment line, `#` included.
    fn append_raw(&mut self, b: &mut Block, val: &str) -> Result<()> {
        let line = &val[1..];
        if line.is_empty() {
            return self.freeform(b, "");
        }
        let Some(line) = line.strip_prefix(' ') else {
            return Err(self.err_here("missing space after #"));
        };
        match b.mode {
            Mode::Body => self.body_line(b, line),
            Mode::Args => self.args_line(b, line),
            Mode::Features => self.features_line(b, line),
            Mode::Various => self.various_line(b, line),
        }
    }

    fn rules(&self) -> Rules {
        self.ctx.rules
    }

    fn body_line(&mut self, b: &mut Block, line: &str) -> Result<()> {
        let by_regex = self.rules().doc_tags_by_regex;
        if b.doc.symbol.is_none() && b.doc.secs[0].text.is_empty() && line.starts_with('@') {
            if !line.ends_with(':') {
                return Err(self.err_here("line should end with ':'"));
            }
            let symbol = &line[1..line.len() - 1];
            if symbol.is_empty() {
                return Err(self.err_here("name required after '@'"));
            }
            b.doc.symbol = Some(symbol.to_string());
            return Ok(());
        }
        if b.doc.symbol.is_none() {
            return self.freeform(b, line);
        }
        if at_name(line, by_regex).is_some() {
            b.mode = Mode::Args;
            self.args_line(b, line)
        } else if line == "Features:" {
            b.mode = Mode::Features;
            Ok(())
        } else if tag(line, by_regex).is_some() {
            b.mode = Mode::Various;
            self.various_line(b, line)
        } else {
            self.freeform(b, line)
        }
    }

    /// Member and feature descriptions: `features` says which.
    fn described_line(&mut self, b: &mut Block, line: &str, features: bool) -> Result<()> {
        let by_regex = self.rules().doc_tags_by_regex;
        if let Some((name, end)) = at_name(line, by_regex) {
            let name = name.to_string();
            let rest = skip_chars(line, end);
            let (indent, text) = if by_regex {
                (None, rest.to_string())
            } else if rest.is_empty() {
                (Some(0), String::new())
            } else {
                // Keep the text in its column, so that the indentation
                // rule treats it as it treats the lines that follow.
                (Some(end), format!("{}{rest}", " ".repeat(end)))
            };
            self.start_description(b, name, indent, features)?;
            return self.freeform(b, &text);
        }
        if tag(line, by_regex).is_some() {
            b.mode = Mode::Various;
            return self.various_line(b, line);
        }
        let starts_paragraph =
            b.cur().text.ends_with("\n\n") && line.chars().next().is_some_and(|c| !is_py_space(c));
        if starts_paragraph {
            if !features && line == "Features:" {
                b.mode = Mode::Features;
            } else {
                self.start_section(b, None)?;
                b.mode = Mode::Various;
                self.various_line(b, line)?;
            }
            return Ok(());
        }
        self.freeform(b, line)
    }

    fn args_line(&mut self, b: &mut Block, line: &str) -> Result<()> {
        self.described_line(b, line, false)
    }

    fn features_line(&mut self, b: &mut Block, line: &str) -> Result<()> {
        self.described_line(b, line, true)
    }

    fn various_line(&mut self, b: &mut Block, line: &str) -> Result<()> {
        let by_regex = self.rules().doc_tags_by_regex;
        if let Some((name, _)) = at_name(line, by_regex) {
            if by_regex {
                return Err(self.err_here(&format!("description of '@{name}:' follows a section")));
            }
            let first = b
                .various
                .first()
                .and_then(|&i| b.doc.secs[i].tag)
                .unwrap_or("None");
            let word = line.split(' ').next().unwrap_or_default();
            return Err(self.err_here(&format!("'{word}' can't follow '{first}' section")));
        }
        let mut text = line.to_string();
        if let Some((t, end)) = tag(line, by_regex) {
            let rest = skip_chars(line, end);
            let indent = if by_regex {
                text = rest.to_string();
                None
            } else if rest.is_empty() {
                text.clear();
                Some(0)
            } else {
                text = format!("{}{rest}", " ".repeat(end));
                Some(end)
            };
            self.start_section(b, Some(t))?;
            b.indent = indent;
        }
        self.freeform(b, &text)
    }

    fn start_description(
        &mut self,
        b: &mut Block,
        name: String,
        indent: Option<usize>,
        features: bool,
    ) -> Result<()> {
        if name.is_empty() {
            return Err(self.err_here("invalid parameter name"));
        }
        let kind = if features {
            SectionKind::Feature
        } else {
            SectionKind::Member
        };
        if b.doc
            .secs
            .iter()
            .any(|s| s.kind == kind && s.name.as_deref() == Some(&*name))
        {
            return Err(self.err_here(&format!("'{name}' parameter name duplicated")));
        }
        let sec = Section::new(self.info(), kind, Some(name));
        self.switch_section(b, sec)?;
        b.indent = indent;
        Ok(())
    }

    /// A "various" section: tagged (`Some(tag)`) or not.
    fn start_section(&mut self, b: &mut Block, tag: Option<&'static str>) -> Result<()> {
        if let Some(t @ ("Returns" | "Since")) = tag {
            if b.various.iter().any(|&i| b.doc.secs[i].tag == Some(t)) {
                return Err(self.err_here(&format!("duplicated '{t}' section")));
            }
        }
        let kind = tag.map_or(SectionKind::Plain, SectionKind::from_tag);
        let mut sec = Section::new(self.info(), kind, None);
        sec.tag = tag;
        self.switch_section(b, sec)?;
        b.indent = Some(0);
        let i = b.cur;
        b.various.push(i);
        match tag {
            Some("Returns") => b.doc.returns = Some(i),
            Some("Since") => b.doc.since = Some(i),
            _ => {}
        }
        Ok(())
    }

    /// Ends the current section (stripped; only the body may be empty,
    /// reported at the line that ends it) and makes `next` current.
    fn switch_section(&mut self, b: &mut Block, next: Section) -> Result<()> {
        self.finish_section(b)?;
        b.doc.secs.push(next);
        b.cur = b.doc.secs.len() - 1;
        Ok(())
    }

    fn finish_section(&mut self, b: &mut Block) -> Result<()> {
        let all_space = !self.rules().doc_tags_by_regex;
        let cur = b.cur;
        let sec = &mut b.doc.secs[cur];
        let stripped = strip(&sec.text, all_space);
        if stripped.len() != sec.text.len() {
            sec.text = stripped.to_string();
        }
        if cur != 0 && sec.text.is_empty() {
            let name = sec
                .name
                .as_deref()
                .or(sec.tag)
                .unwrap_or("None")
                .to_string();
            return Err(self.err_here(&format!("empty doc section '{name}'")));
        }
        Ok(())
    }

    /// QEMU's `end_comment`: the last section ends at the closing `##`.
    fn end_block(&mut self, b: &mut Block) -> Result<()> {
        self.finish_section(b)
    }

    /// QEMU's `_append_freeform`: no `@name:` where a description cannot
    /// start, then the line joins the current section.
    fn freeform(&mut self, b: &mut Block, line: &str) -> Result<()> {
        if let Some(m) = freeform_at(line) {
            return Err(self.err_here(&format!("'{m}' not allowed in free-form documentation")));
        }
        self.section_append(b, line)
    }

    /// QEMU's `Section.append`: the indentation rule, then the line without
    /// trailing white space.
    fn section_append(&mut self, b: &mut Block, line: &str) -> Result<()> {
        let relaxed = self.rules().doc_tags_by_regex;
        let mut line = line;
        if relaxed {
            line = line.trim_end_matches(is_py_space);
        }
        if !line.is_empty() {
            let n = line.chars().take_while(|c| is_py_space(*c)).count();
            match b.indent {
                None => {
                    // 8.1: the first non-blank line after the first one
                    // sets the indentation.
                    if !b.cur().text.is_empty() {
                        b.indent = Some(n);
                    }
                }
                Some(want) if n < want => {
                    return Err(self.err_here(&format!(
                        "unexpected de-indent (expected at least {want} spaces)"
                    )));
                }
                Some(_) => {}
            }
            line = skip_chars(line, b.indent.unwrap_or(0));
        }
        let line = line.trim_end_matches(is_py_space);
        let sec = b.cur();
        sec.text.push_str(line);
        sec.text.push('\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_by_first_word_and_by_pattern() {
        let cases = [
            ("@a: text", false, Some(("a", 4))),
            ("@a:   text", false, Some(("a", 6))),
            ("@a:", false, Some(("a", 3))),
            ("@a bc: x", false, None),
            ("@a bc: x", true, Some(("a bc", 7))),
            ("@a:text", false, None),
            ("@a:text", true, Some(("a", 3))),
            ("@:", false, Some(("", 2))),
            ("@", false, None),
            ("text", true, None),
        ];
        for (line, by_regex, want) in cases {
            assert_eq!(at_name(line, by_regex), want, "{line:?} {by_regex}");
        }
    }

    #[test]
    fn tags_by_first_word_and_by_pattern() {
        let cases = [
            ("Returns: x", false, Some(("Returns", 9))),
            ("Returns:", false, Some(("Returns", 8))),
            ("Returns:x", false, None),
            ("Returns:x", true, Some(("Returns", 8))),
            ("Notes: a", true, Some(("Notes", 7))),
            ("Note: a", false, Some(("Note", 6))),
            ("Errors: a", false, None),
            ("Errors: a", true, None),
            ("TODO: a", true, Some(("TODO", 6))),
            ("Since 2.9", true, None),
        ];
        for (line, by_regex, want) in cases {
            assert_eq!(tag(line, by_regex), want, "{line:?} {by_regex}");
        }
    }

    #[test]
    fn freeform_at_names() {
        let cases = [
            ("@a: x", Some("@a:")),
            ("@a:b: x", Some("@a:b:")),
            ("@:", None),
            ("@::", Some("@::")),
            ("@a b: x", None),
            ("x @a:", None),
        ];
        for (line, want) in cases {
            assert_eq!(freeform_at(line), want, "{line:?}");
        }
    }
}
