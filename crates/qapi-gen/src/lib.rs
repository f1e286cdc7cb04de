//! `qapi-gen`: reads QEMU QAPI schemas, checks them exactly as strictly as
//! QEMU's own generator does, and hands a resolved model to backends.
//!
//! ```no_run
//! let schema = qapi_gen::load("qapi/qapi-schema.json")?;
//! for (_, def) in schema.definitions() {
//!     println!("{} {}", def.meta(), def.name);
//! }
//! # Ok::<(), qapi_gen::Error>(())
//! ```
//!
//! The stages (see `docs/ARCHITECTURE.md`): [`parse`] reads files into
//! expressions and doc blocks; [`check`] checks each expression's shape and
//! types it; [`model`] defines every entity, resolves and checks it, and
//! connects the docs.  The first error stops everything and carries QEMU's
//! exact text.

#![warn(missing_docs)]

pub mod backend;
pub mod check;
pub mod compat;
pub mod doccheck;
pub mod dump;
pub mod error;
pub mod model;
pub mod parse;
pub mod release;
pub mod since;
pub mod source;

pub use backend::builder::Builder;
pub use error::{Error, Result};
pub use model::Schema;
pub use release::{QemuVersion, Release, ReleaseSource, Rules};

/// How to read a schema: which QEMU release's rules apply, and which
/// tokenizer to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The QEMU release whose `scripts/qapi` to reproduce.  `None`: the
    /// release named by the `VERSION` file of the QEMU tree the root
    /// schema sits in (see [`release::find_version_file`]), else the
    /// newest supported release.
    pub release: Option<Release>,
    /// The tokenizer (both give identical results; the pest grammar is
    /// the specification, the scanner the fast path).
    pub lexer: parse::Lexer,
}

impl LoadOptions {
    /// Reads with `release`'s rules.
    pub fn release(mut self, release: Release) -> Self {
        self.release = Some(release);
        self
    }

    /// Reads with `lexer`.
    pub fn lexer(mut self, lexer: parse::Lexer) -> Self {
        self.lexer = lexer;
        self
    }
}

/// Reads, checks and models the schema rooted at `path`, with the rules of
/// the QEMU release its tree names (else the newest release).
///
/// `path` is used as given for messages and module names, as QEMU does.
pub fn load(path: &str) -> Result<Schema> {
    load_with_options(path, &LoadOptions::default())
}

/// [`load`] with the release and tokenizer chosen by `opts`.
pub fn load_with_options(path: &str, opts: &LoadOptions) -> Result<Schema> {
    // Read once: a failing schema is read again under other releases (for
    // the note), from these bytes.
    load_source_with_options(path, parse::read_root(path)?, opts)
}

/// Like [`load`], for a root schema held in memory.  `path` names it in
/// messages and anchors its includes, which are read from disk (and its
/// directory is where the release's `VERSION` file is looked for).
pub fn load_source(path: &str, text: impl Into<Vec<u8>>) -> Result<Schema> {
    load_source_with_options(path, text, &LoadOptions::default())
}

/// [`load_source`] with the release and tokenizer chosen by `opts`.
pub fn load_source_with_options(
    path: &str,
    text: impl Into<Vec<u8>>,
    opts: &LoadOptions,
) -> Result<Schema> {
    let text = text.into();
    let (release, source) = release::choose(std::path::Path::new(path), opts.release)?;
    let run = |release: Release| {
        let mut schema = load_parsed(
            parse::parse_root(path, text.clone(), opts.lexer, release.rules())?,
            source.clone(),
        )?;
        schema.release = release;
        Ok(schema)
    };
    run(release).map_err(|err| release::explain_default(err, release, &source, |r| run(r).err()))
}

/// [`load`] with a choice of tokenizer (both give identical results; the
/// pest grammar is the specification, the scanner the fast path).
pub fn load_with(path: &str, lexer: parse::Lexer) -> Result<Schema> {
    load_with_options(path, &LoadOptions::default().lexer(lexer))
}

/// Splits `PATH@X.Y` into the path and the release it names; a spec
/// without `@` after which a version follows is a path.
pub fn split_release_spec(spec: &str) -> Result<(&str, Option<Release>)> {
    match spec.rsplit_once('@') {
        Some((p, r)) if r.parse::<QemuVersion>().is_ok() => Ok((p, Some(r.parse()?))),
        _ => Ok((spec, None)),
    }
}

/// Reads the schemas of a range of releases and merges them into one
/// model for range bindings ([`model::merge`]): `newest` with `opts`, and
/// each of `older` (`PATH`, its release from its tree's `VERSION` file,
/// or `PATH@X.Y`).  The result's `range` says which release has what.
pub fn load_range(newest: &str, opts: &LoadOptions, older: &[String]) -> Result<Schema> {
    let main = load_with_options(newest, opts)?;
    let mut others = Vec::with_capacity(older.len());
    for spec in older {
        let (path, release) = split_release_spec(spec)?;
        let o = LoadOptions { release, ..*opts };
        others.push(load_with_options(path, &o)?);
    }
    model::merge::merge(main, others)
}

/// Stages 2–6 on a parsed schema.
fn load_parsed(mut parsed: parse::Parsed, source: ReleaseSource) -> Result<Schema> {
    let exprs = check::check_exprs(&mut parsed)?;
    let mut schema = model::build_schema(parsed, exprs)?;
    schema.release_source = source;
    Ok(schema)
}
