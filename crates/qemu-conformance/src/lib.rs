//! Bindings of QEMU 10.0.2's QMP schema, generated at build time once per
//! target with that target's conditions (see `build.rs`), for the
//! conformance tests.  Empty when `../shared` is absent.

#![allow(missing_docs)]

/// `qemu-system-x86_64`'s QMP.
pub mod x86_64 {
    include!(concat!(env!("OUT_DIR"), "/qemu_x86_64.rs"));
}

/// `qemu-system-s390x`'s QMP.
pub mod s390x {
    include!(concat!(env!("OUT_DIR"), "/qemu_s390x.rs"));
}

/// `qemu-system-aarch64`'s QMP.
pub mod aarch64 {
    include!(concat!(env!("OUT_DIR"), "/qemu_aarch64.rs"));
}
