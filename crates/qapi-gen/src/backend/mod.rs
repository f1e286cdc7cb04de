//! Stage 7: turning the model into Rust.
//!
//! What is here knows the target language's rules but builds no syntax:
//!
//! * [`naming`]: QAPI names → Rust identifiers (pure functions).
//! * [`introspect`]: `query-qmp-schema` data (QEMU's list, as JSON values).
//! * [`docs`]: QAPI doc markup → rustdoc Markdown.
//! * [`builder`]: the `Builder` for `build.rs`.
//!
//! [`rust`] holds everything that makes `syn` trees and formats them: the
//! emitters, `#[cfg]` conditions ([`cond`]), the introspection and
//! argument tables as items, and the package layout ([`package`]).
//! Architecture invariant: nothing outside `backend/rust/` imports `syn`,
//! `quote`, `proc_macro2` or `prettyplease` (`tests/tidy.rs` checks it).

pub mod builder;
pub mod docs;
pub mod introspect;
pub mod naming;
pub mod rust;

pub use rust::cond;
pub use rust::package;
