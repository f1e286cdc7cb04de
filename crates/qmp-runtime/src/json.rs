//! QMP's JSON, as QEMU 10.0.2 reads and writes it.
//!
//! Reading is QEMU's three stages, reproduced for their observable effects:
//!
//! * the lexer (`qobject/json-lexer.c`) cuts bytes into tokens, accepts
//!   single-quoted strings, and after a bad byte skips input until a
//!   structural character or a control byte (`0x00`–`0x1F` but tab,
//!   `0xFE`, `0xFF`);
//! * the streamer (`qobject/json-streamer.c`) counts brackets to find where
//!   a message ends, and enforces the size, token-count and nesting limits;
//!   after an error it simply starts over with the next token, so the rest
//!   of an oversized message is read as further (bad) messages, as in QEMU;
//! * the parser (`qobject/json-parser.c`) turns one message's tokens into a
//!   value, with QEMU's error texts (`JSON parse error, ...`).
//!
//! Writing follows `qobject/qjson.c` in its compact form: `": "` and
//! `", "` separators, every non-ASCII character as `\uXXXX`, doubles as
//! `%.17g`, and object members in the order QEMU's `QDict` iterates them
//! (by hash bucket; see [`qdict_bucket`]).

use serde_json::Value;

/// QEMU's limit on the bytes of one message's tokens (64 MiB).
pub const MAX_TOKEN_SIZE: usize = 64 << 20;
/// QEMU's limit on the tokens of one message.
pub const MAX_TOKEN_COUNT: usize = 2 << 20;
/// QEMU's limit on open brackets and braces.
pub const MAX_NESTING: usize = 1 << 10;

/// The streamer's limits; the defaults are QEMU's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of token text in one message (and of one token).
    pub max_token_size: usize,
    /// Tokens in one message.
    pub max_token_count: usize,
    /// Brackets and braces open at once (capped at QEMU's 1024, which also
    /// bounds the parser's recursion).
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_token_size: MAX_TOKEN_SIZE,
            max_token_count: MAX_TOKEN_COUNT,
            max_nesting: MAX_NESTING,
        }
    }
}

/// A JSON value as QEMU's `QObject` holds it: numbers keep QEMU's three
/// kinds, objects keep their members in the order they arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A non-negative integer beyond `i64` that fits `u64`.
    Uint(u64),
    /// Any other number (may be infinite, as `strtod` makes `1e400`).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<Json>),
    /// An object, members in arrival order (keys are unique).
    Dict(Vec<(String, Json)>),
}

impl Json {
    /// Member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Dict(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts into a `serde_json::Value`.  Non-finite numbers, which
    /// `serde_json` cannot hold, become `null`.
    pub fn into_value(self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Int(i) => Value::from(i),
            Json::Uint(u) => Value::from(u),
            Json::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s),
            Json::List(l) => Value::Array(l.into_iter().map(Json::into_value).collect()),
            Json::Dict(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, v.into_value())).collect())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Recovery,
    DqString,
    DqEscape,
    SqString,
    SqEscape,
    Zero,
    Sign,
    Digits,
    Mantissa,
    MantissaDigits,
    ExpE,
    ExpSign,
    ExpDigits,
    Keyword,
}

/// The kinds of token the streamer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    LCurly,
    RCurly,
    LSquare,
    RSquare,
    Colon,
    Comma,
    Integer,
    Float,
    Keyword,
    String,
    /// A bad byte: the token text so far, the byte included.
    Error,
    /// A single token grown beyond the size limit.
    Oversized,
}

/// What one byte does in one state.
enum Step {
    /// Append the byte, go to the state.
    Take(State),
    /// Append the byte, the token is complete.
    TakeEmit(Tok),
    /// The token ended before this byte; emit it, then look at the byte
    /// again from the start state.
    EmitBefore(Tok),
    /// Whitespace: drop the byte.
    Skip,
    /// Append the byte, report it, enter recovery.
    Error,
    /// Leave recovery before this byte and look at it again.
    Resync,
    /// Recovery goes on.
    Discard,
}

fn step(state: State, b: u8) -> Step {
    use State::*;
    use Step::*;
    let in_string = (0x20..=0xFD).contains(&b);
    match state {
        Start => match b {
            b'"' => Take(DqString),
            b'\'' => Take(SqString),
            b'0' => Take(Zero),
            b'1'..=b'9' => Take(Digits),
            b'-' => Take(Sign),
            b'{' => TakeEmit(Tok::LCurly),
            b'}' => TakeEmit(Tok::RCurly),
            b'[' => TakeEmit(Tok::LSquare),
            b']' => TakeEmit(Tok::RSquare),
            b',' => TakeEmit(Tok::Comma),
            b':' => TakeEmit(Tok::Colon),
            b'a'..=b'z' => Take(Keyword),
            b' ' | b'\t' | b'\r' | b'\n' => Skip,
            _ => Error,
        },
        Recovery => match b {
            b'\t' => Discard,
            0x00..=0x1F | 0xFE | 0xFF => Resync,
            b'[' | b']' | b'{' | b'}' | b':' | b',' => Resync,
            _ => Discard,
        },
        DqString => match b {
            b'"' => TakeEmit(Tok::String),
            b'\\' => Take(DqEscape),
            _ if in_string => Take(DqString),
            _ => Error,
        },
        SqString => match b {
            b'\'' => TakeEmit(Tok::String),
            b'\\' => Take(SqEscape),
            _ if in_string => Take(SqString),
            _ => Error,
        },
        DqEscape if in_string => Take(DqString),
        SqEscape if in_string => Take(SqString),
        DqEscape | SqEscape => Error,
        Zero => match b {
            b'0'..=b'9' => Error,
            b'.' => Take(Mantissa),
            _ => EmitBefore(Tok::Integer),
        },
        Sign => match b {
            b'0' => Take(Zero),
            b'1'..=b'9' => Take(Digits),
            _ => Error,
        },
        Digits => match b {
            b'0'..=b'9' => Take(Digits),
            b'e' | b'E' => Take(ExpE),
            b'.' => Take(Mantissa),
            _ => EmitBefore(Tok::Integer),
        },
        Mantissa => match b {
            b'0'..=b'9' => Take(MantissaDigits),
            _ => Error,
        },
        MantissaDigits => match b {
            b'0'..=b'9' => Take(MantissaDigits),
            b'e' | b'E' => Take(ExpE),
            _ => EmitBefore(Tok::Float),
        },
        ExpE => match b {
            b'-' | b'+' => Take(ExpSign),
            b'0'..=b'9' => Take(ExpDigits),
            _ => Error,
        },
        ExpSign => match b {
            b'0'..=b'9' => Take(ExpDigits),
            _ => Error,
        },
        ExpDigits => match b {
            b'0'..=b'9' => Take(ExpDigits),
            _ => EmitBefore(Tok::Float),
        },
        Keyword => match b {
            b'a'..=b'z' => Take(Keyword),
            _ => EmitBefore(Tok::Keyword),
        },
    }
}

// ---------------------------------------------------------------------------
// Streamer

/// One message read from the stream: a value, or the error QEMU reports
/// for it (the text of a `GenericError`).
pub type Message = Result<Json, String>;

/// Turns a byte stream into messages, as QEMU's JSON message parser does.
/// Feed it bytes as they arrive, in pieces of any size.
#[derive(Debug)]
pub struct Streamer {
    limits: Limits,
    state: State,
    token: Vec<u8>,
    tokens: Vec<(Tok, Vec<u8>)>,
    token_size: usize,
    braces: i64,
    brackets: i64,
}

impl Default for Streamer {
    fn default() -> Self {
        Streamer::new(Limits::default())
    }
}

impl Streamer {
    /// A streamer with these limits (nesting capped at QEMU's 1024).
    pub fn new(limits: Limits) -> Self {
        let limits = Limits {
            max_nesting: limits.max_nesting.min(MAX_NESTING),
            ..limits
        };
        Streamer {
            limits,
            state: State::Start,
            token: Vec::new(),
            tokens: Vec::new(),
            token_size: 0,
            braces: 0,
            brackets: 0,
        }
    }

    /// Reads `bytes`, calling `emit` for every message completed.
    pub fn feed(&mut self, bytes: &[u8], emit: &mut dyn FnMut(Message)) {
        for &b in bytes {
            self.feed_byte(b, emit);
        }
    }

    /// Reads `bytes`, returning the messages completed.
    pub fn feed_collect(&mut self, bytes: &[u8]) -> Vec<Message> {
        let mut out = Vec::new();
        self.feed(bytes, &mut |m| out.push(m));
        out
    }

    fn feed_byte(&mut self, b: u8, emit: &mut dyn FnMut(Message)) {
        loop {
            match step(self.state, b) {
                Step::Take(s) => {
                    self.grow_token();
                    self.token.push(b);
                    self.state = s;
                }
                Step::TakeEmit(tok) => {
                    self.token.push(b);
                    self.token_done(tok, emit);
                    self.state = State::Start;
                }
                Step::EmitBefore(tok) => {
                    self.token_done(tok, emit);
                    self.state = State::Start;
                    continue;
                }
                Step::Skip | Step::Discard => {}
                Step::Error => {
                    self.token.push(b);
                    self.token_done(Tok::Error, emit);
                    self.state = State::Recovery;
                }
                Step::Resync => {
                    self.state = State::Start;
                    continue;
                }
            }
            break;
        }
        // One token may not grow without bound either.
        if self.token.len() > self.limits.max_token_size {
            self.token_done(Tok::Oversized, emit);
            self.state = State::Start;
        }
    }

    /// Makes room for one more byte of the current token without letting
    /// its buffer grow past the size limit: doubling a 40 MB buffer would
    /// allocate 80 MB for a token that is refused at 64 MiB.
    fn grow_token(&mut self) {
        let (len, cap) = (self.token.len(), self.token.capacity());
        if len == cap {
            let limit = self.limits.max_token_size + 1;
            let extra = len.max(64).min(limit.saturating_sub(len)).max(1);
            self.token.reserve_exact(extra);
        }
    }

    fn token_done(&mut self, tok: Tok, emit: &mut dyn FnMut(Message)) {
        let text = std::mem::take(&mut self.token);
        let result = self.process(tok, text);
        if let Some(m) = result {
            // A huge message's token list goes with it.
            self.tokens.shrink_to(64);
            self.braces = 0;
            self.brackets = 0;
            self.tokens.clear();
            self.token_size = 0;
            emit(m);
        }
    }

    /// The streamer proper: `Some` when a message is complete or failed.
    fn process(&mut self, tok: Tok, text: Vec<u8>) -> Option<Message> {
        match tok {
            Tok::LCurly => self.braces += 1,
            Tok::RCurly => self.braces -= 1,
            Tok::LSquare => self.brackets += 1,
            Tok::RSquare => self.brackets -= 1,
            Tok::Error => return Some(Err(format!("JSON parse error, stray '{}'", c_text(&text)))),
            _ => {}
        }
        if self.token_size + text.len() + 1 > self.limits.max_token_size {
            return Some(Err("JSON token size limit exceeded".into()));
        }
        if self.tokens.len() + 1 > self.limits.max_token_count {
            return Some(Err("JSON token count limit exceeded".into()));
        }
        if self.braces + self.brackets > self.limits.max_nesting as i64 {
            return Some(Err("JSON nesting depth limit exceeded".into()));
        }
        self.token_size += text.len();
        self.tokens.push((tok, text));
        if (self.braces > 0 || self.brackets > 0) && self.braces >= 0 && self.brackets >= 0 {
            return None;
        }
        let mut p = Parser {
            tokens: &self.tokens,
            pos: 0,
        };
        Some(p.value())
    }
}

/// Bytes as QEMU prints a C string: up to the first NUL, decoded as
/// (modified) UTF-8 with U+FFFD for what does not decode.
pub fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = &bytes[..end];
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let (cp, next) = mod_utf8_codepoint(bytes, i);
        out.push(cp.and_then(char::from_u32).unwrap_or('\u{FFFD}'));
        i = next;
    }
    out
}

// ---------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    tokens: &'a [(Tok, Vec<u8>)],
    pos: usize,
}

type PResult<T> = Result<T, String>;

fn perr<T>(msg: impl std::fmt::Display) -> PResult<T> {
    Err(format!("JSON parse error, {msg}"))
}

impl Parser<'_> {
    fn peek(&self) -> Option<Tok> {
        self.tokens.get(self.pos).map(|t| t.0)
    }

    fn pop(&mut self) -> Option<&(Tok, Vec<u8>)> {
        let t = self.tokens.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn value(&mut self) -> PResult<Json> {
        let Some((tok, text)) = self.tokens.get(self.pos) else {
            return perr("premature EOI");
        };
        match tok {
            Tok::LCurly => self.object(),
            Tok::LSquare => self.array(),
            Tok::String => {
                self.pos += 1;
                parse_string(text).map(Json::Str)
            }
            Tok::Integer | Tok::Float => {
                self.pos += 1;
                Ok(number(*tok, text))
            }
            Tok::Keyword => {
                self.pos += 1;
                match text.as_slice() {
                    b"true" => Ok(Json::Bool(true)),
                    b"false" => Ok(Json::Bool(false)),
                    b"null" => Ok(Json::Null),
                    _ => perr(format_args!("invalid keyword '{}'", c_text(text))),
                }
            }
            _ => perr("expecting value"),
        }
    }

    fn object(&mut self) -> PResult<Json> {
        self.pos += 1; // '{'
        let mut members: Vec<(String, Json)> = Vec::new();
        match self.peek() {
            None => return perr("premature EOI"),
            Some(Tok::RCurly) => {
                self.pos += 1;
                return Ok(Json::Dict(members));
            }
            Some(_) => {}
        }
        self.pair(&mut members)?;
        loop {
            match self.pop().map(|t| t.0) {
                None => return perr("premature EOI"),
                Some(Tok::RCurly) => return Ok(Json::Dict(members)),
                Some(Tok::Comma) => self.pair(&mut members)?,
                Some(_) => return perr("expected separator in dict"),
            }
        }
    }

    fn pair(&mut self, members: &mut Vec<(String, Json)>) -> PResult<()> {
        if self.peek().is_none() {
            return perr("premature EOI");
        }
        let Json::Str(key) = self.value()? else {
            return perr("key is not a string in object");
        };
        match self.pop().map(|t| t.0) {
            None => return perr("premature EOI"),
            Some(Tok::Colon) => {}
            Some(_) => return perr("missing : in object pair"),
        }
        let value = self.value()?;
        if members.iter().any(|(k, _)| *k == key) {
            return perr("duplicate key");
        }
        members.push((key, value));
        Ok(())
    }

    fn array(&mut self) -> PResult<Json> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        match self.peek() {
            None => return perr("premature EOI"),
            Some(Tok::RSquare) => {
                self.pos += 1;
                return Ok(Json::List(items));
            }
            Some(_) => {}
        }
        items.push(self.value()?);
        loop {
            match self.pop().map(|t| t.0) {
                None => return perr("premature EOI"),
                Some(Tok::RSquare) => return Ok(Json::List(items)),
                Some(Tok::Comma) => items.push(self.value()?),
                Some(_) => return perr("expected separator in list"),
            }
        }
    }
}

fn number(tok: Tok, text: &[u8]) -> Json {
    // The lexer only lets ASCII digits, signs, '.' and exponents through.
    let s = std::str::from_utf8(text).unwrap_or("0");
    if tok == Tok::Integer {
        if let Ok(i) = s.parse::<i64>() {
            return Json::Int(i);
        }
        if !s.starts_with('-') {
            if let Ok(u) = s.parse::<u64>() {
                return Json::Uint(u);
            }
        }
    }
    Json::Float(s.parse::<f64>().unwrap_or(0.0))
}

fn hex4(text: &[u8], at: usize) -> Option<u32> {
    let mut cp = 0;
    for i in 0..4 {
        let d = (*text.get(at + i)? as char).to_digit(16)?;
        cp = cp << 4 | d;
    }
    Some(cp)
}

fn valid_codepoint(cp: u32) -> bool {
    cp <= 0x10FFFF
        && (cp & 0xFFFF_F800) != 0xD800
        && !(0xFDD0..=0xFDEF).contains(&cp)
        && (cp & 0xFFFE) != 0xFFFE
}

/// QEMU's `mod_utf8_codepoint` on `s[i..]` (at most 6 bytes): the code
/// point (`None` if invalid) and where the next one starts.
fn mod_utf8_codepoint(s: &[u8], i: usize) -> (Option<u32>, usize) {
    let at = |k: usize| {
        if k < 6 {
            s.get(i + k).copied().unwrap_or(0)
        } else {
            0
        }
    };
    let first = at(0);
    if first < 0x80 {
        return (Some(u32::from(first)), i + 1);
    }
    if first >= 0xFE || first & 0x40 == 0 {
        return (None, i + 1);
    }
    let len = first.leading_ones() as usize;
    let mut cp = u32::from(first) & ((0x80u32 >> len) - 1);
    for k in 1..len {
        let b = at(k);
        if b & 0xC0 != 0x80 {
            return (None, i + k);
        }
        cp = cp << 6 | u32::from(b & 0x3F);
    }
    const MIN: [u32; 5] = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];
    let ok = valid_codepoint(cp) && (cp >= MIN[len - 2] || (cp == 0 && len == 2));
    (ok.then_some(cp), i + len)
}

/// A string token's value, or QEMU's complaint about it.
fn parse_string(text: &[u8]) -> PResult<String> {
    let quote = text[0];
    let mut out = String::new();
    let mut i = 1;
    while i < text.len() && text[i] != quote {
        if text[i] == b'\\' {
            let beg = i;
            i += 1;
            let c = text.get(i).copied().unwrap_or(0);
            i += 1;
            match c {
                b'"' => out.push('"'),
                b'\'' => out.push('\''),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let mut cp = hex4(text, i);
                    i += 4;
                    if let Some(lead @ 0xD800..=0xDBFF) = cp {
                        if text.get(i) == Some(&b'\\') && text.get(i + 1) == Some(&b'u') {
                            match hex4(text, i + 2) {
                                Some(trail @ 0xDC00..=0xDFFF) => {
                                    cp = Some((0x10000 + ((lead & 0x3FF) << 10)) | (trail & 0x3FF));
                                    i += 6;
                                }
                                _ => cp = None,
                            }
                        }
                    }
                    match cp.filter(|&c| valid_codepoint(c)).and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => {
                            let end = i.min(text.len());
                            return perr(format_args!(
                                "{} is not a valid Unicode character",
                                c_text(&text[beg..end])
                            ));
                        }
                    }
                }
                _ => return perr("invalid escape sequence in string"),
            }
        } else {
            let (cp, next) = mod_utf8_codepoint(text, i);
            match cp.and_then(char::from_u32) {
                Some(ch) => out.push(ch),
                None => return perr("invalid UTF-8 sequence in string"),
            }
            i = next;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Writer

pub use qapi_support::qdict::{bucket as qdict_bucket, order as qdict_order};

/// Appends `s` as QEMU writes a string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Runs of printable ASCII other than `"` and `\\` are copied whole:
    // most strings (every key) are nothing else.
    let plain = |b: u8| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\';
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|&&b| plain(b)).count();
        out.extend_from_slice(&bytes[i..i + run]);
        i += run;
        let Some(ch) = s[i..].chars().next() else {
            break;
        };
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            _ => {
                let mut units = [0u16; 2];
                for u in ch.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{:04X}", u).as_bytes());
                }
            }
        }
        i += ch.len_utf8();
    }
    out.push(b'"');
}

/// Appends a double as C's `%.17g` writes it (what QEMU sends).
pub fn write_double(out: &mut Vec<u8>, x: f64) {
    if x.is_nan() {
        out.extend_from_slice(if x.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return;
    }
    if x.is_infinite() {
        out.extend_from_slice(if x < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if x == 0.0 {
        out.extend_from_slice(if x.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    let sci = format!("{:.16e}", x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    fn trim(s: &str) -> &str {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        }
    }
    if !(-4..17).contains(&exp) {
        out.extend_from_slice(trim(mantissa).as_bytes());
        let sign = if exp < 0 { '-' } else { '+' };
        out.extend_from_slice(format!("e{sign}{:02}", exp.abs()).as_bytes());
    } else {
        let fixed = format!("{:.*}", (16 - exp) as usize, x);
        out.extend_from_slice(trim(&fixed).as_bytes());
    }
}

fn write_int(out: &mut Vec<u8>, n: impl std::fmt::Display) {
    use std::io::Write;
    let _ = write!(out, "{n}");
}

/// Appends an object of `members` (a `QDict` given them in this order)
/// in the order QEMU writes them: `key` names a member, `value` appends
/// its value.
pub fn write_object<T>(
    out: &mut Vec<u8>,
    members: &[T],
    key: impl Fn(&T) -> &str,
    mut value: impl FnMut(&T, &mut Vec<u8>),
) {
    out.push(b'{');
    for (n, i) in qdict_order(members.iter().map(&key)).enumerate() {
        if n > 0 {
            out.extend_from_slice(b", ");
        }
        write_str(out, key(&members[i]));
        out.extend_from_slice(b": ");
        value(&members[i], out);
    }
    out.push(b'}');
}

/// Appends `v` as QEMU writes a `QObject` it received (member order:
/// QDict buckets, later arrivals first within a bucket).
pub fn write_json(out: &mut Vec<u8>, v: &Json) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Int(i) => write_int(out, i),
        Json::Uint(u) => write_int(out, u),
        Json::Float(f) => write_double(out, *f),
        Json::Str(s) => write_str(out, s),
        Json::List(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Json::Dict(members) => {
            out.push(b'{');
            let order = qdict_order(members.iter().map(|(k, _)| k.as_str()));
            for (n, i) in order.enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                let (k, v) = &members[i];
                write_str(out, k);
                out.extend_from_slice(b": ");
                write_json(out, v);
            }
            out.push(b'}');
        }
    }
}

/// Appends a `serde_json::Value` (a command's reply) in QEMU's form.
/// Members are ordered by QDict bucket; within a bucket, where QEMU's
/// order depends on insertion order that a `serde_json::Map` does not
/// keep, by name.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                write_int(out, i)
            } else if let Some(u) = n.as_u64() {
                write_int(out, u)
            } else {
                write_double(out, n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // A map keeps its insertion order (serde_json's
            // `preserve_order`, which qapi-support turns on), so members
            // of one bucket come out as QEMU's QDict gives them: the one
            // inserted last first.
            let members: Vec<(&String, &Value)> = map.iter().collect();
            write_object(
                out,
                &members,
                |(k, _)| k.as_str(),
                |(_, v), o| write_value(o, v),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &str) -> Message {
        let mut s = Streamer::default();
        let mut v = s.feed_collect(format!("{input} ").as_bytes());
        assert_eq!(v.len(), 1, "{input}: {v:?}");
        v.pop().unwrap()
    }

    fn out(v: &Json) -> String {
        let mut o = Vec::new();
        write_json(&mut o, v);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn doubles_print_as_percent_17g() {
        let cases = [
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (-9223372036854775809.0, "-9.2233720368547758e+18"),
            (1e-5, "1.0000000000000001e-05"),
            (123456.0, "123456"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (0.0001, "0.0001"),
            (f64::INFINITY, "inf"),
        ];
        for (x, want) in cases {
            let mut o = Vec::new();
            write_double(&mut o, x);
            assert_eq!(String::from_utf8(o).unwrap(), want, "{x}");
        }
    }

    #[test]
    fn qdict_order_matches_qemu() {
        // {"return": {}, "id": 1} and {"id": 1, "error": ...} as QEMU sends.
        let r = Json::Dict(vec![
            ("return".into(), Json::Dict(vec![])),
            ("id".into(), Json::Int(1)),
        ]);
        assert_eq!(out(&r), r#"{"return": {}, "id": 1}"#);
        let v = Json::Dict(vec![
            ("major".into(), Json::Int(10)),
            ("minor".into(), Json::Int(0)),
            ("micro".into(), Json::Int(2)),
        ]);
        assert_eq!(out(&v), r#"{"micro": 2, "minor": 0, "major": 10}"#);
    }

    #[test]
    fn members_of_one_bucket_come_out_last_inserted_first() {
        // `sse4a` and `vmx-pause-exit` share bucket 291.
        assert_eq!(qdict_bucket("sse4a"), qdict_bucket("vmx-pause-exit"));
        for (first, second) in [("sse4a", "vmx-pause-exit"), ("vmx-pause-exit", "sse4a")] {
            let mut m = serde_json::Map::new();
            m.insert(first.into(), Value::from(1));
            m.insert(second.into(), Value::from(2));
            let mut o = Vec::new();
            write_value(&mut o, &Value::Object(m));
            assert_eq!(
                String::from_utf8(o).unwrap(),
                format!(r#"{{"{second}": 2, "{first}": 1}}"#)
            );
        }
    }

    #[test]
    fn parse_errors_have_qemu_texts() {
        let cases = [
            ("@", "JSON parse error, stray '@'"),
            ("nul", "JSON parse error, invalid keyword 'nul'"),
            ("{\"a\" 1}", "JSON parse error, missing : in object pair"),
            ("{\"a\":1,}", "JSON parse error, expecting value"),
            ("[1 2]", "JSON parse error, expected separator in list"),
            ("{1:2}", "JSON parse error, key is not a string in object"),
            ("{\"a\":1,\"a\":2}", "JSON parse error, duplicate key"),
            (
                "\"\\uD800\"",
                "JSON parse error, \\uD800 is not a valid Unicode character",
            ),
            (
                "\"\\u12\"",
                "JSON parse error, \\u12\" is not a valid Unicode character",
            ),
            (
                "\"\\q\"",
                "JSON parse error, invalid escape sequence in string",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(one(input), Err(want.to_string()), "{input}");
        }
        let mut s = Streamer::default();
        assert_eq!(
            s.feed_collect(b"\"\x80\" \"\xc0\x80\" "),
            vec![
                Err("JSON parse error, invalid UTF-8 sequence in string".to_string()),
                Ok(Json::Str("\0".into()))
            ]
        );
        let v = s.feed_collect(b"{\"a\":\"b\x01\"}");
        assert_eq!(
            v,
            vec![
                Err("JSON parse error, stray '\"b\u{1}'".to_string()),
                Err("JSON parse error, expecting value".to_string())
            ]
        );
    }

    #[test]
    fn values() {
        assert_eq!(one("'it'"), Ok(Json::Str("it".into())));
        assert_eq!(one("18446744073709551615"), Ok(Json::Uint(u64::MAX)));
        assert_eq!(
            one("\"\\u00e9\\ud83d\\ude00\""),
            Ok(Json::Str("é😀".into()))
        );
        assert_eq!(
            out(&Json::Str("é😀/\u{7f}".into())),
            r#""\u00E9\uD83D\uDE00/\u007F""#
        );
    }
}
