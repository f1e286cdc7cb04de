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
pub mod doccheck;
pub mod dump;
pub mod error;
pub mod model;
pub mod parse;
pub mod source;

pub use backend::package::Builder;
pub use error::{Error, Result};
pub use model::Schema;

/// Reads, checks and models the schema rooted at `path`.
///
/// `path` is used as given for messages and module names, as QEMU does.
pub fn load(path: &str) -> Result<Schema> {
    load_with(path, parse::Lexer::default())
}

/// Like [`load`], for a root schema held in memory.  `path` names it in
/// messages and anchors its includes, which are read from disk.
pub fn load_source(path: &str, text: impl Into<Vec<u8>>) -> Result<Schema> {
    check_and_model(parse::parse_root(
        path,
        text.into(),
        parse::Lexer::default(),
    )?)
}

/// [`load`] with a choice of tokenizer (both give identical results; the
/// pest grammar is the specification, the scanner the fast path).
pub fn load_with(path: &str, lexer: parse::Lexer) -> Result<Schema> {
    check_and_model(parse::parse_schema_with(path, lexer)?)
}

/// Stages 2–6 on a parsed schema.
fn check_and_model(mut parsed: parse::Parsed) -> Result<Schema> {
    let exprs = check::check_exprs(&mut parsed)?;
    model::build_schema(parsed, exprs)
}
