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
            }),
            note: None,
        }))
    }

    /// The exact text the QEMU release's front end prints for this error
    /// (without the final newline).  May span several lines.
    pub fn text(&self) -> &str {
        &self.0.text
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

    /// A source snippet with a caret under the reported position, for
    /// people: to be shown *after* the exact QEMU text.
    pub fn snippet(&self) -> Option<String> {
        let loc = self.0.location.as_ref()?;
        let line = loc.line_text.as_deref()?;
        let gutter = loc.line.to_string();
        let pad = " ".repeat(gutter.len());
        let mut out = format!("{pad} |\n{gutter} | {line}\n");
        if let Some(col) = loc.col {
            let caret_pad: String = line
                .chars()
                .take(col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("{pad} | {caret_pad}^\n"));
        }
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
