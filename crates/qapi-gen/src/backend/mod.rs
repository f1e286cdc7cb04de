//! Stage 7: turning the model into Rust.
//!
//! * [`naming`]: QAPI names → Rust identifiers (pure functions).
//! * [`cond`]: `if` conditions → `#[cfg]` or generation-time evaluation.
//! * [`introspect`]: `query-qmp-schema` data and argument-checking tables.

pub mod cond;
pub mod introspect;
pub mod naming;
