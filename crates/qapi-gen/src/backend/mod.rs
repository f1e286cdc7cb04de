//! Stage 7: turning the model into Rust.
//!
//! * [`naming`]: QAPI names → Rust identifiers (pure functions).
//! * [`cond`]: `if` conditions → `#[cfg]` or generation-time evaluation.
//! * [`introspect`]: `query-qmp-schema` data and argument-checking tables.
//! * [`docs`]: QAPI doc markup → rustdoc Markdown.
//! * [`rust`]: the model → Rust items, one module per schema file.
//! * [`package`]: formatting, file layout, the `Builder` for `build.rs`.

pub mod builder;
pub mod cond;
pub mod docs;
pub mod introspect;
pub mod naming;
pub mod package;
pub mod rust;
