//! Stage 2: shape checks of each top-level expression (QEMU's `expr.py`),
//! and the naming rules they use.

pub mod ast;
pub mod exprs;
pub mod names;

pub use exprs::check_exprs;
