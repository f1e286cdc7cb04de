//! Tokens of one schema file: the byte scanner ([`Scanner`], the default)
//! and the pest grammar in `qapi.pest` ([`tokenize_pest`], the
//! specification), which produce the same tokens.

use pest::Parser as _;

use crate::source::{FileId, Info, Span};

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

    /// The token's location.
    pub fn span(&self, file: FileId) -> Span {
        Span {
            info: Info {
                file,
                line: self.line,
            },
            offset: self.start,
            line_start: self.line_start,
        }
    }
}

/// Which tokenizer to run.  Both produce the same tokens for every input
/// (`tests/lexers_agree.rs` checks it on every corpus file and on mutated
/// inputs); the pest grammar is the specification, the scanner is the
/// fast path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lexer {
    /// The hand-written byte scanner (default; about ten times faster).
    #[default]
    Scanner,
    /// The pest grammar in `qapi.pest`.
    Pest,
}

/// Whether Python's `str.isspace()` holds for `c` (the `ws_char` rule).
pub fn is_py_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{1C}'..='\u{1F}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// Byte classes of the scanner.
const C_OTHER: u8 = 0;
const C_SPACE: u8 = 1;
const C_NL: u8 = 2;
const C_HASH: u8 = 3;
const C_PUNCT: u8 = 4;
const C_QUOTE: u8 = 5;
const C_T: u8 = 6;
const C_F: u8 = 7;
const C_HIGH: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [C_OTHER; 256];
    let mut i = 0x80;
    while i < 256 {
        t[i] = C_HIGH;
        i += 1;
    }
    let mut i = 0x1c;
    while i <= 0x1f {
        t[i] = C_SPACE;
        i += 1;
    }
    t[b' ' as usize] = C_SPACE;
    t[b'\t' as usize] = C_SPACE;
    t[0x0b] = C_SPACE;
    t[0x0c] = C_SPACE;
    t[b'\r' as usize] = C_SPACE;
    t[b'\n' as usize] = C_NL;
    t[b'#' as usize] = C_HASH;
    t[b'{' as usize] = C_PUNCT;
    t[b'}' as usize] = C_PUNCT;
    t[b'[' as usize] = C_PUNCT;
    t[b']' as usize] = C_PUNCT;
    t[b':' as usize] = C_PUNCT;
    t[b',' as usize] = C_PUNCT;
    t[b'\'' as usize] = C_QUOTE;
    t[b't' as usize] = C_T;
    t[b'f' as usize] = C_F;
    t
};

/// The scanner: the grammar of `qapi.pest`, hand-compiled to a loop over
/// bytes, producing one token per call so that the parser pulls tokens as
/// it goes (QEMU's lexer is lazy too) and no token list is ever stored.
#[derive(Clone, Debug, Default)]
pub struct Scanner {
    i: usize,
    line: u32,
    line_start: u32,
}

impl Scanner {
    /// A scanner at the start of a text.
    pub fn new() -> Self {
        Scanner {
            i: 0,
            line: 1,
            line_start: 0,
        }
    }

    fn token(&self, kind: TokKind, start: usize, end: usize) -> Token {
        Token {
            kind,
            start: start as u32,
            end: end as u32,
            line: self.line,
            line_start: self.line_start,
        }
    }

    /// The next token of `src` (newline-normalised, ending in `\n`; the
    /// same text on every call).  After the end, always `Eof`.
    pub fn next_token(&mut self, src: &str) -> Token {
        let b = src.as_bytes();
        let len = b.len();
        let mut i = self.i;
        while i < len {
            let c = b[i];
            match CLASS[c as usize] {
                C_SPACE => {
                    i += 1;
                    while i < len && CLASS[b[i] as usize] == C_SPACE {
                        i += 1;
                    }
                }
                C_NL => {
                    if i + 1 == len {
                        break;
                    }
                    self.line += 1;
                    i += 1;
                    self.line_start = i as u32;
                    // Most lines of a schema are comments: take one here
                    // without another trip through the dispatch.
                    if b[i] == b'#' {
                        let end = memchr_nl(b, i);
                        self.i = end;
                        return self.token(TokKind::Comment, i, end);
                    }
                }
                C_HASH => {
                    let end = memchr_nl(b, i);
                    self.i = end;
                    return self.token(TokKind::Comment, i, end);
                }
                C_PUNCT => {
                    self.i = i + 1;
                    return self.token(TokKind::Punct(c), i, i + 1);
                }
                C_QUOTE => {
                    let mut j = i + 1;
                    let kind = loop {
                        match b[j] {
                            b'\'' => {
                                j += 1;
                                break TokKind::Str;
                            }
                            b'\\' if b[j + 1] == b'\\' => j += 2,
                            0x20..=0x7e if b[j] != b'\\' => j += 1,
                            _ => break TokKind::BadStr,
                        }
                    };
                    if kind == TokKind::BadStr {
                        j = memchr_nl(b, i);
                    }
                    self.i = j;
                    return self.token(kind, i, j);
                }
                C_T if b[i..].starts_with(b"true") => {
                    self.i = i + 4;
                    return self.token(TokKind::True, i, i + 4);
                }
                C_F if b[i..].starts_with(b"false") => {
                    self.i = i + 5;
                    return self.token(TokKind::False, i, i + 5);
                }
                class => {
                    if class == C_HIGH {
                        let ch = src[i..].chars().next().expect("i is on a char boundary");
                        if is_py_space(ch) {
                            i += ch.len_utf8();
                            continue;
                        }
                    }
                    let mut j = i;
                    for ch in src[i..].chars() {
                        if matches!(ch, '[' | ']' | '{' | '}' | ':' | ',' | '\'') || is_py_space(ch)
                        {
                            break;
                        }
                        j += ch.len_utf8();
                    }
                    self.i = j;
                    return self.token(TokKind::Stray, i, j);
                }
            }
        }
        self.i = len;
        self.token(TokKind::Eof, len.saturating_sub(1), len)
    }
}

/// All tokens of `src` from the scanner, `Eof` last.
pub fn tokenize(src: &str) -> Vec<Token> {
    debug_assert!(src.ends_with('\n'));
    let mut scanner = Scanner::new();
    let mut out = Vec::with_capacity(src.len() / 8 + 16);
    loop {
        let tok = scanner.next_token(src);
        out.push(tok);
        if tok.kind == TokKind::Eof {
            return out;
        }
    }
}

/// Offset of the next `\n` at or after `from` (the text ends with one).
fn memchr_nl(b: &[u8], from: usize) -> usize {
    find_byte(b, from, b'\n').unwrap_or(b.len())
}

/// Whether `needle` occurs in `b`.
pub fn contains_byte(b: &[u8], needle: u8) -> bool {
    find_byte(b, 0, needle).is_some()
}

/// Offset of the first `needle` at or after `from`, eight bytes at a time:
/// a byte of `w` equals `needle` where `w ^ needle..` has a zero byte.
fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut i = from;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
        let x = w ^ pattern;
        if (x.wrapping_sub(LO) & !x & HI) != 0 {
            break;
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == needle).map(|p| i + p)
}

/// The pest grammar's tokenizer.
pub fn tokenize_pest(src: &str) -> Vec<Token> {
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
/// with `\\` turned into `\`, borrowed when there is no escape.
pub fn string_body(tok_text: &str) -> std::borrow::Cow<'_, str> {
    let body = &tok_text[1..tok_text.len() - 1];
    if body.bytes().any(|b| b == b'\\') {
        std::borrow::Cow::Owned(body.replace("\\\\", "\\"))
    } else {
        std::borrow::Cow::Borrowed(body)
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
/// that are not structural, white space or a quote.  `takes_dquote`:
/// whether the text shown runs on past a double quote
/// ([`crate::release::Rules::stray_text_takes_dquote`]); 7.2 and 8.0 stop
/// there (and crash on a quote first, where we show it all).
pub fn stray_message(tok_text: &str, takes_dquote: bool) -> String {
    let shown = match tok_text.find('"') {
        Some(i) if i > 0 && !takes_dquote => &tok_text[..i],
        _ => tok_text,
    };
    format!("stray '{shown}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_texts_by_release() {
        assert_eq!(stray_message("ab\"x", true), "stray 'ab\"x'");
        assert_eq!(stray_message("ab\"x", false), "stray 'ab'");
        assert_eq!(stray_message("\"x", false), "stray '\"x'");
        assert_eq!(stray_message("abc", false), "stray 'abc'");
    }

    fn kinds(src: &str) -> Vec<TokKind> {
        let fast: Vec<TokKind> = tokenize(src).iter().map(|t| t.kind).collect();
        let pest: Vec<TokKind> = tokenize_pest(src).iter().map(|t| t.kind).collect();
        assert_eq!(fast, pest, "{src:?}");
        fast
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
    fn byte_search() {
        let text = b"0123456789abcdef\r0123456789\n";
        assert_eq!(find_byte(text, 0, b'\r'), Some(16));
        assert_eq!(find_byte(text, 17, b'\n'), Some(27));
        assert_eq!(find_byte(text, 0, b'x'), None);
        assert!(contains_byte(b"ab\rc", b'\r'));
        assert!(!contains_byte(b"", b'\r'));
        for n in 0..40 {
            let mut v = vec![b'a'; n];
            v.push(b'\n');
            assert_eq!(memchr_nl(&v, 0), n);
        }
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
            assert_eq!(string_body(src), want);
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
