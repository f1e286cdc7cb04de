//! Stage 7 (in progress): turning the model into Rust.
//!
//! For now this holds the naming rules the Rust backend is built on; the
//! code generator itself comes next (see the bindings issue).

pub mod naming;
