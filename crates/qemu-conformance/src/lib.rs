//! Bindings of QEMU 10.0.2's QMP schema, generated at build time once per
//! target with that target's conditions (see `build.rs`), and of the other
//! corpus releases' schemas for x86_64, each read with its own release's
//! rules, for the conformance tests.  Empty when `../shared` is absent.

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

/// QEMU 7.2.0's QMP, `qemu-system-x86_64`.
pub mod v7_2 {
    include!(concat!(env!("OUT_DIR"), "/qemu_v7_2_x86_64.rs"));
}

/// QEMU 8.0's QMP, `qemu-system-x86_64`.
pub mod v8_0 {
    include!(concat!(env!("OUT_DIR"), "/qemu_v8_0_x86_64.rs"));
}

/// QEMU 8.1's QMP, `qemu-system-x86_64`.
pub mod v8_1 {
    include!(concat!(env!("OUT_DIR"), "/qemu_v8_1_x86_64.rs"));
}

/// QEMU 9.1's QMP, `qemu-system-x86_64`.
pub mod v9_1 {
    include!(concat!(env!("OUT_DIR"), "/qemu_v9_1_x86_64.rs"));
}

/// Range bindings: QEMU 10.2.2's QMP compatible with 7.2.0, 8.0, 8.1, 9.1
/// and 10.0.2 (`--compatible-with`), `qemu-system-x86_64`.
pub mod range_x86_64 {
    include!(concat!(env!("OUT_DIR"), "/qemu_range_x86_64.rs"));
}

/// The same range, `qemu-system-s390x`.
pub mod range_s390x {
    include!(concat!(env!("OUT_DIR"), "/qemu_range_s390x.rs"));
}
