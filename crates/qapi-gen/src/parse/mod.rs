//! Stage 1: read schema files into top-level expressions and doc blocks.
//!
//! Files are read as QEMU reads them (UTF-8, universal newlines), split into
//! tokens on demand by the byte scanner (`lexer.rs`; the pest grammar
//! `qapi.pest` is the specification, gives the same tokens and can be
//! chosen with [`Lexer::Pest`]), and parsed by a small recursive-descent
//! parser that reports errors where and as QEMU does.
//! `include` directives are followed in place, `pragma` directives are
//! collected, and `##` blocks become [`Doc`]s attached to the definition
//! that follows them.

pub mod doc;
mod doc_modes;
pub mod lexer;
pub mod path;
pub mod value;

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::{strerror, Error, Result};
use crate::release::{DocSyntax, Rules};
use crate::source::{FileId, Info, SourceFile, SourceMap, Span};

pub use doc::{Doc, DocLine, Section, SectionKind};
pub use lexer::Lexer;
use lexer::{TokKind, Token};
pub use value::{Dict, Entry, Name, Node, Value};

/// How deep values may nest.  QEMU's own schemas nest five levels at most;
/// the limit keeps hostile input from exhausting the stack.
pub const MAX_NESTING: usize = 256;

/// The pragmas in force (one set for the whole schema; the last directive
/// that sets a key wins, as in QEMU).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pragma {
    /// `doc-required`: every definition needs a doc block.
    pub doc_required: bool,
    /// `command-name-exceptions`: commands that may use `_`.
    pub command_name_exceptions: Vec<String>,
    /// `command-returns-exceptions`: commands that may return any type.
    pub command_returns_exceptions: Vec<String>,
    /// `documentation-exceptions`: definitions whose members need no docs.
    pub documentation_exceptions: Vec<String>,
    /// `member-name-exceptions`: types whose members may use upper case and `_`.
    pub member_name_exceptions: Vec<String>,
}

/// A top-level expression, in schema order (includes expanded in place).
#[derive(Debug, Clone)]
pub enum TopExpr {
    /// An `include` directive; `path` is joined to the including file's
    /// directory.  Kept even when the file was already included.
    Include {
        /// The joined path.
        path: String,
        /// The directive's line.
        info: Info,
    },
    /// A definition (not yet checked).
    Definition {
        /// The expression.
        expr: Dict,
        /// The line of its opening brace.
        info: Info,
        /// The doc block right before it, as an index into `Parsed::docs`.
        doc: Option<usize>,
    },
}

/// What stage 1 hands to stage 2.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Every file read, and the definitions their lines belong to.
    pub sources: SourceMap,
    /// Top-level expressions in order.
    pub exprs: Vec<TopExpr>,
    /// Doc blocks in order.
    pub docs: Vec<Doc>,
    /// Pragmas in force.
    pub pragma: Pragma,
    /// The rules of the QEMU release being reproduced.
    pub rules: Rules,
    /// The root file's name as given.
    pub root: String,
    /// The current directory when reading started (paths are resolved
    /// against it, as Python's `os.path.abspath` would).
    pub cwd: String,
    /// Absolute path of each file read, by `FileId`.
    abs_paths: Vec<String>,
    /// The same paths as a set (QEMU's `previously_included`).
    included: HashSet<String>,
}

/// Reads the schema rooted at `path`, following includes, with `rules`.
pub fn parse_schema(path: &str, rules: Rules) -> Result<Parsed> {
    parse_schema_with(path, Lexer::default(), rules)
}

/// [`parse_schema`] with a choice of tokenizer.
pub fn parse_schema_with(path: &str, lexer: Lexer, rules: Rules) -> Result<Parsed> {
    parse_root(path, read_root(path)?, lexer, rules)
}

/// The bytes of the root schema file, or QEMU's error for an unreadable
/// one.
pub fn read_root(path: &str) -> Result<Vec<u8>> {
    read_file(path)
        .map_err(|e| Error::bare(format!("can't read schema file '{path}': {}", strerror(&e))))
}

/// Parses a root schema given as bytes; `path` names it in messages and
/// anchors its includes, which are read from disk.
pub fn parse_root(path: &str, bytes: Vec<u8>, lexer: Lexer, rules: Rules) -> Result<Parsed> {
    let mut ctx = Parsed {
        root: path.to_string(),
        cwd: path::current_dir(),
        rules,
        ..Parsed::default()
    };
    let abs = path::abspath_from(&ctx.cwd, path);
    let file = load_file(&mut ctx, path, abs, None, bytes)?;
    FileParser::new(&mut ctx, file, lexer).parse_file()?;
    Ok(ctx)
}

/// Reads a whole file, leaving room for the newline QEMU appends.
///
/// Only regular files (and directories, which fail with `Is a directory`
/// as in QEMU) are opened: QEMU blocks forever on a FIFO and reads
/// `/dev/zero` until memory runs out; we refuse such files instead.
fn read_file(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = open_regular(path)?;
    let len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut buf = Vec::with_capacity(len + 1);
    f.read_to_end(&mut buf)?;
    Ok(buf)
}

/// Opens `path` for reading if it is a regular file or a directory.
#[cfg(target_os = "linux")]
fn open_regular(path: &str) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it has no
    // effect on regular files.  Then one fstat tells what was opened.
    const O_NONBLOCK: i32 = 0o4000;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(not_regular());
    }
    Ok(f)
}

/// Opens `path` for reading if it is a regular file or a directory.
#[cfg(not(target_os = "linux"))]
fn open_regular(path: &str) -> std::io::Result<std::fs::File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(not_regular());
    }
    std::fs::File::open(path)
}

fn not_regular() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")
}

/// Registers a file's text (normalised as Python would read it).
fn load_file(
    ctx: &mut Parsed,
    name: &str,
    abs: String,
    included_from: Option<Info>,
    bytes: Vec<u8>,
) -> Result<FileId> {
    let (text, bad) = match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let byte = bytes[at];
            (
                String::from_utf8_lossy(&bytes[..at]).into_owned(),
                Some((at, byte)),
            )
        }
    };
    let mut text = if lexer::contains_byte(text.as_bytes(), b'\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    };
    let bad_at = bad.map(|(at, byte)| (text.len().min(at), byte));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    ctx.included.insert(abs.clone());
    ctx.abs_paths.push(abs);
    let id = ctx.sources.add_file(SourceFile {
        name: name.to_string(),
        included_from,
        text: Arc::new(text),
    });
    if let Some((at, byte)) = bad_at {
        let text = &ctx.sources.file(id).text;
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line = text[..at].matches('\n').count() as u32 + 1;
        let span = Span {
            info: Info { file: id, line },
            offset: at as u32,
            line_start: line_start as u32,
        };
        return Err(Error::at_span(
            &ctx.sources,
            span,
            &format!("invalid UTF-8 (byte 0x{byte:02x}); schema files must be UTF-8 text"),
        ));
    }
    Ok(id)
}

/// Where the parser's tokens come from.
enum TokenStream {
    /// Scanned on demand.
    Scan(lexer::Scanner),
    /// Produced up front (the pest grammar).
    List(std::vec::IntoIter<Token>),
}

impl TokenStream {
    fn next(&mut self, src: &str) -> Token {
        match self {
            TokenStream::Scan(s) => s.next_token(src),
            // The list ends with `Eof`, which is never consumed.
            TokenStream::List(it) => {
                let t = it.as_slice()[0];
                if t.kind != TokKind::Eof {
                    it.next();
                }
                t
            }
        }
    }
}

/// Parser state for one file.
pub(crate) struct FileParser<'a> {
    ctx: &'a mut Parsed,
    file: FileId,
    src: Arc<String>,
    tokens: TokenStream,
    cur: Token,
    lexer: Lexer,
    scratch_entries: Vec<value::Entry>,
    scratch_nodes: Vec<Node>,
    /// Reused by every doc block for its not-yet-joined lines.
    doc_lines: Vec<(u32, u32)>,
    /// 10.2's literal-block state while reading doc lines: `Some(indent)`
    /// inside one (0 until its first non-blank line sets it).
    literal: Option<usize>,
    /// The comment lines of the doc block being read.
    doc_raw: Vec<doc::DocLine>,
}

impl<'a> FileParser<'a> {
    fn new(ctx: &'a mut Parsed, file: FileId, lexer: Lexer) -> Self {
        let src = Arc::clone(&ctx.sources.file(file).text);
        let mut tokens = match lexer {
            Lexer::Scanner => TokenStream::Scan(lexer::Scanner::new()),
            Lexer::Pest => TokenStream::List(lexer::tokenize_pest(&src).into_iter()),
        };
        let cur = tokens.next(&src);
        FileParser {
            ctx,
            file,
            src,
            tokens,
            cur,
            lexer,
            scratch_entries: Vec::with_capacity(32),
            scratch_nodes: Vec::with_capacity(16),
            doc_lines: Vec::with_capacity(64),
            literal: None,
            doc_raw: Vec::new(),
        }
    }

    fn tok(&self) -> &Token {
        &self.cur
    }

    fn info(&self) -> Info {
        Info {
            file: self.file,
            line: self.tok().line,
        }
    }

    fn span(&self) -> Span {
        self.tok().span(self.file)
    }

    /// A parse error at the current token (QEMU prints its column).
    fn err_here(&self, msg: &str) -> Error {
        Error::at_span(&self.ctx.sources, self.span(), msg)
    }

    /// An error on a line (no column).
    fn sem_err(&self, info: Info, msg: &str) -> Error {
        Error::at(&self.ctx.sources, info, msg)
    }

    /// Moves to the next token.  Plain comments are skipped unless
    /// `skip_comment` is false (inside doc blocks); comments starting `##`
    /// are always returned.  Reaching a malformed token is an error, raised
    /// here as QEMU's lexer raises it.
    fn accept(&mut self, skip_comment: bool) -> Result<()> {
        self.cur = self.tokens.next(&self.src);
        self.settle(skip_comment)
    }

    fn settle(&mut self, skip_comment: bool) -> Result<()> {
        loop {
            let tok = self.cur;
            match tok.kind {
                TokKind::Comment => {
                    if !skip_comment || tok.text(&self.src).starts_with("##") {
                        return Ok(());
                    }
                    self.cur = self.tokens.next(&self.src);
                }
                TokKind::BadStr => {
                    let msg = lexer::bad_string_message(tok.text(&self.src));
                    return Err(self.err_here(&msg));
                }
                TokKind::Stray => {
                    let text = tok.text(&self.src);
                    let msg = lexer::stray_message(text, self.ctx.rules.stray_text_takes_dquote);
                    return Err(self.err_here(&msg));
                }
                _ => return Ok(()),
            }
        }
    }

    fn is_punct(&self, c: u8) -> bool {
        self.tok().kind == TokKind::Punct(c)
    }

    fn parse_file(&mut self) -> Result<()> {
        self.settle(true)?;
        let mut cur_doc: Option<usize> = None;
        while self.tok().kind != TokKind::Eof {
            let info = self.info();
            if self.tok().kind == TokKind::Comment {
                self.reject_expr_doc(cur_doc)?;
                match self.ctx.rules.doc_syntax {
                    DocSyntax::Paragraphs => {
                        let doc = self.get_doc()?;
                        self.ctx.docs.push(doc);
                    }
                    DocSyntax::LineModes => {
                        let docs = self.get_doc_line_modes()?;
                        self.ctx.docs.extend(docs);
                    }
                }
                cur_doc = Some(self.ctx.docs.len() - 1);
                continue;
            }
            let node = self.get_expr(0)?;
            let Value::Dict(expr) = node.value else {
                return Err(self.sem_err(info, "top-level expression must be an object"));
            };
            if expr.contains("include") {
                self.reject_expr_doc(cur_doc)?;
                if expr.len() != 1 {
                    return Err(self.sem_err(info, "invalid 'include' directive"));
                }
                let Some(include) = expr.get("include").and_then(|n| n.value.as_str()) else {
                    return Err(self.sem_err(info, "value of 'include' must be a string"));
                };
                let fname = &self.ctx.sources.file(self.file).name;
                let incl_fname = path::join(&path::dirname(fname), include);
                self.ctx.exprs.push(TopExpr::Include {
                    path: incl_fname.clone(),
                    info,
                });
                self.include(include, info, &incl_fname)?;
            } else if expr.contains("pragma") {
                self.reject_expr_doc(cur_doc)?;
                if expr.len() != 1 {
                    return Err(self.sem_err(info, "invalid 'pragma' directive"));
                }
                let Some(Value::Dict(pragma)) = expr.get("pragma").map(|n| &n.value) else {
                    return Err(self.sem_err(info, "value of 'pragma' must be an object"));
                };
                for e in &pragma.entries {
                    self.pragma(&e.key, &e.value.value, info)?;
                }
            } else {
                if let Some(d) = cur_doc {
                    if self.ctx.docs[d].symbol.is_none() {
                        let doc_info = self.ctx.docs[d].info;
                        return Err(self.sem_err(doc_info, "definition documentation required"));
                    }
                }
                self.ctx.exprs.push(TopExpr::Definition {
                    expr,
                    info,
                    doc: cur_doc,
                });
            }
            cur_doc = None;
        }
        self.reject_expr_doc(cur_doc)
    }

    fn reject_expr_doc(&self, doc: Option<usize>) -> Result<()> {
        if let Some(d) = doc {
            let doc = &self.ctx.docs[d];
            if let Some(symbol) = &doc.symbol {
                return Err(self.sem_err(
                    doc.info,
                    &format!("documentation for '{symbol}' is not followed by the definition"),
                ));
            }
        }
        Ok(())
    }

    fn include(&mut self, include: &str, info: Info, incl_fname: &str) -> Result<()> {
        let incl_abs = path::abspath_from(&self.ctx.cwd, incl_fname);
        let mut inf = Some(info);
        while let Some(i) = inf {
            if self.ctx.abs_paths[i.file.0 as usize] == incl_abs {
                return Err(self.sem_err(info, &format!("inclusion loop for {include}")));
            }
            inf = self.ctx.sources.file(i.file).included_from;
        }
        if self.ctx.included.contains(&incl_abs) {
            return Ok(());
        }
        let bytes = read_file(incl_fname).map_err(|e| {
            self.sem_err(
                info,
                &format!("can't read include file '{incl_fname}': {}", strerror(&e)),
            )
        })?;
        let file = load_file(self.ctx, incl_fname, incl_abs, Some(info), bytes)?;
        FileParser::new(self.ctx, file, self.lexer).parse_file()
    }

    fn pragma(&mut self, name: &str, value: &Value, info: Info) -> Result<()> {
        let list = |this: &Self| -> Result<Vec<String>> {
            match value {
                Value::List(items) => items
                    .iter()
                    .map(|n| n.value.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        this.sem_err(info, &format!("pragma {name} must be a list of strings"))
                    }),
                _ => Err(this.sem_err(info, &format!("pragma {name} must be a list of strings"))),
            }
        };
        match name {
            "doc-required" => match value {
                Value::Bool(b) => self.ctx.pragma.doc_required = *b,
                _ => return Err(self.sem_err(info, "pragma 'doc-required' must be boolean")),
            },
            "command-name-exceptions" => self.ctx.pragma.command_name_exceptions = list(self)?,
            "command-returns-exceptions" => {
                self.ctx.pragma.command_returns_exceptions = list(self)?
            }
            "documentation-exceptions" if self.ctx.rules.member_docs_required => {
                self.ctx.pragma.documentation_exceptions = list(self)?
            }
            "member-name-exceptions" => self.ctx.pragma.member_name_exceptions = list(self)?,
            _ => return Err(self.sem_err(info, &format!("unknown pragma '{name}'"))),
        }
        Ok(())
    }

    /// `value = object | array | string | true | false`
    fn get_expr(&mut self, depth: usize) -> Result<Node> {
        let span = self.span();
        if depth >= MAX_NESTING {
            return Err(self.err_here(&format!(
                "expression nests too deeply (more than {MAX_NESTING} levels); \
                 flatten it"
            )));
        }
        let value = match self.tok().kind {
            TokKind::Punct(b'{') => {
                self.accept(true)?;
                Value::Dict(self.get_members(depth)?)
            }
            TokKind::Punct(b'[') => {
                self.accept(true)?;
                Value::List(self.get_values(depth)?)
            }
            TokKind::Str => {
                let v = Name::from(&*lexer::string_body(self.tok().text(&self.src)));
                self.accept(true)?;
                Value::Str(v)
            }
            TokKind::True => {
                self.accept(true)?;
                Value::Bool(true)
            }
            TokKind::False => {
                self.accept(true)?;
                Value::Bool(false)
            }
            _ => return Err(self.err_here("expected '{', '[', string, or boolean")),
        };
        Ok(Node { value, span })
    }

    /// `object = '{' [ STRING ':' value ( ',' STRING ':' value )* ] '}'`
    ///
    /// Members collect on a stack shared by all nesting levels and move
    /// into an exactly-sized vector at the closing brace.
    fn get_members(&mut self, depth: usize) -> Result<Dict> {
        if self.is_punct(b'}') {
            self.accept(true)?;
            return Ok(Dict::default());
        }
        if self.tok().kind != TokKind::Str {
            return Err(self.err_here("expected string or '}'"));
        }
        let base = self.scratch_entries.len();
        let result = self.get_members_into(depth, base);
        let entries: Vec<_> = self.scratch_entries.drain(base..).collect();
        result.map(|()| Dict { entries })
    }

    fn get_members_into(&mut self, depth: usize, base: usize) -> Result<()> {
        loop {
            let key = value::intern_key(&lexer::string_body(self.tok().text(&self.src)));
            let key_span = self.span();
            self.accept(true)?;
            if !self.is_punct(b':') {
                return Err(self.err_here("expected ':'"));
            }
            self.accept(true)?;
            let (kb, klen) = (key.as_bytes(), key.len());
            let dup = self.scratch_entries[base..].iter().any(|e| {
                let k = &e.key;
                // Cheap tests first: most keys differ in length or ends.
                k.len() == klen
                    && k.as_bytes().first() == kb.first()
                    && k.as_bytes().last() == kb.last()
                    && **k == *key
            });
            if dup {
                return Err(self.err_here(&format!("duplicate key '{key}'")));
            }
            let value = self.get_expr(depth + 1)?;
            self.scratch_entries.push(value::Entry {
                key,
                key_span,
                value,
            });
            if self.is_punct(b'}') {
                self.accept(true)?;
                return Ok(());
            }
            if !self.is_punct(b',') {
                return Err(self.err_here("expected ',' or '}'"));
            }
            self.accept(true)?;
            if self.tok().kind != TokKind::Str {
                return Err(self.err_here("expected string"));
            }
        }
    }

    /// `array = '[' [ value ( ',' value )* ] ']'`
    fn get_values(&mut self, depth: usize) -> Result<Vec<Node>> {
        if self.is_punct(b']') {
            self.accept(true)?;
            return Ok(Vec::new());
        }
        if !matches!(
            self.tok().kind,
            TokKind::Punct(b'{')
                | TokKind::Punct(b'[')
                | TokKind::Str
                | TokKind::True
                | TokKind::False
        ) {
            return Err(self.err_here("expected '{', '[', ']', string, or boolean"));
        }
        let base = self.scratch_nodes.len();
        let result = self.get_values_into(depth);
        let list: Vec<_> = self.scratch_nodes.drain(base..).collect();
        result.map(|()| list)
    }

    fn get_values_into(&mut self, depth: usize) -> Result<()> {
        loop {
            let node = self.get_expr(depth + 1)?;
            self.scratch_nodes.push(node);
            if self.is_punct(b']') {
                self.accept(true)?;
                return Ok(());
            }
            if !self.is_punct(b',') {
                return Err(self.err_here("expected ',' or ']'"));
            }
            self.accept(true)?;
        }
    }
}
