//! Stage 7: turning the model into Rust.
//!
//! * [`naming`]: QAPI names → Rust identifiers (pure functions).
//! * [`cond`]: `if` conditions → `#[cfg]` or generation-time evaluation.

pub mod cond;
pub mod naming;
