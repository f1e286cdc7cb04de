//! Tokens of one schema file, produced by the pest grammar in `qapi.pest`.

use pest::Parser as _;

use crate::source::{qemu_column, FileId, Info, Span};

mod grammar {
    #![allow(missing_docs)]
    /// The pest parser generated from `qapi.pest`.
    #[derive(pest_derive::Parser)]
    #[grammar = "parse/qapi.pest"]
    pub struct QapiLexer;
}
use grammar::{QapiLexer, Rule};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokKind {
    /// `#...` to the end of the line.
    Comment,
    /// One of `{ } [ ] : ,`.
    Punct(u8),
    /// A well-formed string.
    Str,
    /// A malformed string (diagnosed when reached).
    BadStr,
    /// `true`.
    True,
    /// `false`.
    False,
    /// A stray run of characters (an error when reached).
    Stray,
    /// End of file.
    Eof,
}

/// A token and where it stands.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    /// What it is.
    pub kind: TokKind,
    /// Byte range in the file text.
    pub start: u32,
    /// End of the byte range.
    pub end: u32,
    /// Line number, from 1.
    pub line: u32,
    /// Byte offset where the token's line starts.
    pub line_start: u32,
}

impl Token {
    /// The token's text.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start as usize..self.end as usize]
    }

    /// The token's location, with QEMU's column.
    pub fn span(&self, file: FileId, src: &str) -> Span {
        Span {
            info: Info {
                file,
                line: self.line,
            },
            col: qemu_column(src, self.line_start as usize, self.start as usize),
            offset: self.start,
        }
    }
}

/// Splits `src` (newline-normalised, ending in `\n`) into tokens.  Never
/// fails: malformed input becomes `BadStr` / `Stray` tokens.  The last token
/// is always `Eof`.
pub fn tokenize(src: &str) -> Vec<Token> {
    debug_assert!(src.ends_with('\n'));
    let mut out = Vec::with_capacity(src.len() / 8);
    let mut line = 1u32;
    let mut line_start = 0u32;
    let pairs = match QapiLexer::parse(Rule::file, src) {
        Ok(p) => p,
        // The grammar is total; should pest ever disagree, treat the whole
        // text as one stray run so that the caller reports an error.
        Err(_) => {
            out.push(Token {
                kind: TokKind::Stray,
                start: 0,
                end: src.len() as u32,
                line,
                line_start,
            });
            return out;
        }
    };
    let len = src.len() as u32;
    for pair in pairs {
        let span = pair.as_span();
        let (start, end) = (span.start() as u32, span.end() as u32);
        let kind = match pair.as_rule() {
            Rule::newline => {
                if end == len {
                    break;
                }
                line += 1;
                line_start = end;
                continue;
            }
            Rule::comment => TokKind::Comment,
            Rule::punct => TokKind::Punct(src.as_bytes()[start as usize]),
            Rule::string => TokKind::Str,
            Rule::bad_string => TokKind::BadStr,
            Rule::true_lit => TokKind::True,
            Rule::false_lit => TokKind::False,
            Rule::stray => TokKind::Stray,
            Rule::EOI => break,
            _ => continue,
        };
        out.push(Token {
            kind,
            start,
            end,
            line,
            line_start,
        });
    }
    out.push(Token {
        kind: TokKind::Eof,
        start: len.saturating_sub(1),
        end: len,
        line,
        line_start,
    });
    out
}

/// The value of a well-formed string token: the text between the quotes
/// with `\\` turned into `\`.
pub fn string_value(tok_text: &str) -> String {
    let body = &tok_text[1..tok_text.len() - 1];
    if body.contains('\\') {
        body.replace("\\\\", "\\")
    } else {
        body.to_string()
    }
}

/// Why a malformed string token is malformed, as QEMU says it: QEMU scans
/// the string character by character and stops at the first problem.
pub fn bad_string_message(tok_text: &str) -> String {
    let mut chars = tok_text[1..].chars();
    let mut esc = false;
    loop {
        let Some(ch) = chars.next() else {
            return "missing terminating \"'\"".to_string();
        };
        if ch == '\n' {
            return "missing terminating \"'\"".to_string();
        }
        if esc {
            if ch != '\\' {
                return format!("unknown escape \\{ch}");
            }
            esc = false;
        } else if ch == '\\' {
            esc = true;
            continue;
        } else if ch == '\'' {
            // Cannot happen: a string that closes cleanly is a `string`.
            return "missing terminating \"'\"".to_string();
        }
        if (ch as u32) < 32 || (ch as u32) >= 127 {
            return "funny character in string".to_string();
        }
    }
}

/// The text QEMU shows for a stray token: the longest run of characters
/// that are not structural, white space or a quote.
pub fn stray_message(tok_text: &str) -> String {
    format!("stray '{tok_text}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokKind> {
        tokenize(src).iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens_of_a_small_expression() {
        use TokKind::*;
        assert_eq!(
            kinds("{ 'a': [ true, false ] } # c\n"),
            vec![
                Punct(b'{'),
                Str,
                Punct(b':'),
                Punct(b'['),
                True,
                Punct(b','),
                False,
                Punct(b']'),
                Punct(b'}'),
                Comment,
                Eof
            ]
        );
    }

    #[test]
    fn true_is_a_prefix_match() {
        use TokKind::*;
        assert_eq!(kinds("trueish\n"), vec![True, Stray, Eof]);
    }

    #[test]
    fn bad_strings_are_diagnosed_in_order() {
        let cases = [
            ("'abc", "missing terminating \"'\""),
            ("'a\\x'", "unknown escape \\x"),
            ("'a\\''", "unknown escape \\'"),
            ("'\u{7f}'", "funny character in string"),
            ("'\u{1f}\\q'", "funny character in string"),
            ("'\u{e9}'", "funny character in string"),
        ];
        for (src, want) in cases {
            let text = format!("{src}\n");
            let toks = tokenize(&text);
            assert_eq!(toks[0].kind, TokKind::BadStr, "{src:?}");
            assert_eq!(bad_string_message(toks[0].text(&text)), want, "{src:?}");
        }
    }

    #[test]
    fn string_values_unescape_backslashes() {
        let cases = [("'abc'", "abc"), ("'a\\\\b'", "a\\b"), ("''", "")];
        for (src, want) in cases {
            assert_eq!(string_value(src), want);
        }
    }

    #[test]
    fn lines_and_stray_runs() {
        let src = "{\n  foo#bar:x\n";
        let toks = tokenize(src);
        assert_eq!(toks[1].kind, TokKind::Stray);
        assert_eq!(toks[1].text(src), "foo#bar");
        assert_eq!(toks[1].line, 2);
    }
}
