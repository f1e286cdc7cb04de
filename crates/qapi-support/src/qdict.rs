//! The order in which QEMU's `QDict` iterates its keys.  QEMU visits
//! arguments, reports the first of several errors, and writes its replies
//! in that order, so code that reproduces QEMU byte for byte needs it.
//!
//! A `QDict` has 512 buckets chosen by `tdb_hash`; iteration goes through
//! the buckets in order and, within a bucket, from the most recently
//! inserted key.

/// How many buckets a `QDict` has.
pub const BUCKETS: u32 = 512;

/// QEMU's `QDict` key hash (gdbm's `tdb_hash`).
pub fn tdb_hash(key: &str) -> u32 {
    let mut value = 0x238F_13AFu32.wrapping_mul(key.len() as u32);
    for (i, &b) in key.as_bytes().iter().enumerate() {
        value = value.wrapping_add(u32::from(b) << ((i * 5) % 24));
    }
    value.wrapping_mul(1_103_515_243).wrapping_add(12345)
}

/// The bucket of `key`.
pub fn bucket(key: &str) -> u32 {
    tdb_hash(key) % BUCKETS
}

/// The order in which a `QDict` built by inserting `keys` (in that order)
/// iterates them, as indices into `keys`.
pub fn order<'a>(keys: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = usize> {
    let mut order: Vec<(u32, std::cmp::Reverse<usize>)> = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| (bucket(k), std::cmp::Reverse(i)))
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, std::cmp::Reverse(i))| i)
}
