//! Errors as values.
//!
//! The front end stops at the first error, as QEMU does, and reports it with
//! exactly QEMU's text (include chain, `In META 'NAME':` context line,
//! `FILE:LINE[:COL]: MESSAGE`).  The error also keeps the structured
//! location so that tools can show a snippet with a caret.

use std::fmt;

use crate::source::{Info, SourceMap, Span};

/// Where an error points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, spelled as QEMU spells it.
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, when the error is a parse error.
    pub col: Option<u32>,
    /// The text of the line, for snippets.
    pub line_text: Option<String>,
    /// What the snippet underlines, when it is more than the column: the
    /// offending name, which may stand on a later line than the one QEMU
    /// reports (a member of a multi-line definition).
    pub label: Option<Label>,
}

/// A range of one source line to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Line, from 1.
    pub line: u32,
    /// The line's text.
    pub line_text: String,
    /// Byte range within the line.
    pub range: std::ops::Range<usize>,
}

/// A schema error.  One pointer wide, so that the parser's deeply
/// recursive `Result`s stay small on the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    text: String,
    location: Option<Location>,
    /// Advice printed after QEMU's text (never part of it): e.g. which
    /// QEMU releases accept what this one rejects.
    note: Option<String>,
}

impl Error {
    /// An error without location (QEMU prints these bare).
    pub fn bare(text: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            text: text.into(),
            location: None,
            note: None,
        }))
    }

    /// An error on a source line, without a column (QEMU's `QAPISemError`).
    pub fn at(map: &SourceMap, info: Info, msg: &str) -> Self {
        Self::build(map, info, None, msg)
    }

    /// An error at a token, with a column (QEMU's `QAPIParseError`).
    pub fn at_span(map: &SourceMap, span: Span, msg: &str) -> Self {
        Self::build(map, span.info, Some(span.col(map)), msg)
    }

    fn build(map: &SourceMap, info: Info, col: Option<u32>, msg: &str) -> Self {
        let mut text = map.location(info, col);
        text.push_str(": ");
        text.push_str(msg);
        Error(Box::new(Inner {
            text,
            location: Some(Location {
                file: map.file(info.file).name.clone(),
                line: info.line,
                col,
                line_text: map.line_text(info).map(str::to_string),
                label: None,
            }),
            note: None,
        }))
    }

    /// The exact text the QEMU release's front end prints for this error
    /// (without the final newline).  May span several lines.
    pub fn text(&self) -> &str {
        &self.0.text
    }

    /// The same error with its snippet underlining the name whose string
    /// token starts at `span` (QEMU's text is unchanged).
    pub fn pointing_at(mut self, map: &SourceMap, span: Span) -> Self {
        let text = &map.file(span.info.file).text;
        let (start, off) = (span.line_start as usize, span.offset as usize);
        let line_text = text[start..].split('\n').next().unwrap_or_default();
        let tok = &text[off..start + line_text.len()];
        // The string token: quote to quote (a quote after a backslash does
        // not end it); else one character.
        let len = if tok.starts_with('\'') {
            let b = tok.as_bytes();
            let mut i = 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            (i + 1).min(b.len())
        } else {
            tok.chars().next().map_or(0, char::len_utf8)
        };
        if let Some(loc) = self.0.location.as_mut() {
            loc.label = Some(Label {
                line: span.info.line,
                line_text: line_text.to_string(),
                range: off - start..off - start + len,
            });
        }
        self
    }

    /// Advice for people that follows QEMU's text, if any.
    pub fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// The same error with `note` printed after its text.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.0.note = Some(note.into());
        self
    }

    /// The primary location, if the error has one.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// A source snippet for people, to be shown *after* the exact QEMU
    /// text: the offending name underlined where the error knows it
    /// ([`Error::pointing_at`]), else a caret under the column of a syntax
    /// error, else the reported line (annotate-snippets renders it).
    pub fn snippet(&self) -> Option<String> {
        use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
        let loc = self.0.location.as_ref()?;
        let (line, text, range) = match (&loc.label, &loc.line_text) {
            (Some(l), _) => (l.line, l.line_text.as_str(), l.range.clone()),
            (None, Some(text)) => {
                let range = match loc.col {
                    Some(col) => {
                        // Find the character QEMU's column names (its tab
                        // rule is `source::qemu_column`'s).
                        let mut c = 1;
                        let mut at = text.len();
                        for (i, ch) in text.char_indices() {
                            if c >= col {
                                at = i;
                                break;
                            }
                            c = if ch == '\t' { (c + 7) % 8 + 1 } else { c + 1 };
                        }
                        let end = text[at..]
                            .chars()
                            .next()
                            .map_or(at, |ch| at + ch.len_utf8());
                        at..end
                    }
                    None => {
                        let start = text.len() - text.trim_start().len();
                        start..text.trim_end().len().max(start)
                    }
                };
                (loc.line, text.as_str(), range)
            }
            (None, None) => return None,
        };
        let report = [Group::with_level(Level::ERROR).element(
            Snippet::source(text)
                .line_start(line as usize)
                .path(loc.file.as_str())
                .annotation(AnnotationKind::Primary.span(range)),
        )];
        let mut out = Renderer::plain().render(&report);
        out.push('\n');
        Some(out)
    }
}

/// QEMU's text, then the note (if any) on lines of its own.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)?;
        if let Some(note) = &self.0.note {
            write!(f, "\n{note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Result type of the front end.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The text of an OS error as C's `strerror` gives it (what Python puts in
/// `err.strerror`), without Rust's ` (os error N)` suffix.
pub fn strerror(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}
