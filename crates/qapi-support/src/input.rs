//! Checking command arguments with QEMU's error texts: filled in by the introspection work.
