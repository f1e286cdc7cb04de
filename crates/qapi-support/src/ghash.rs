//! Just enough of GLib's `GHashTable` (with `g_str_hash`) to know the
//! order it iterates string keys in: QEMU reports the first of several
//! unexpected arguments in that order (`qobject_input_check_struct`
//! walks such a table), so reproducing QEMU's choice needs it.  Written
//! here because no crate reproduces GLib's probing and resizing.  Beside
//! `qdict.rs`, which does the same for QEMU's `QDict`.

/// GLib's `g_str_hash` (djb2 over *signed* chars).
pub(crate) fn g_str_hash(key: &str) -> u32 {
    key.as_bytes().iter().fold(5381u32, |h, &b| {
        h.wrapping_shl(5)
            .wrapping_add(h)
            .wrapping_add(b as i8 as i32 as u32)
    })
}

/// The moduli GLib pairs with each table size `1 << shift`.
const PRIME_MOD: [u32; 32] = [
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
    262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689,
    268435399, 536870909, 1073741789, 2147483647,
];
const MIN_SHIFT: u32 = 3;
const UNUSED: u32 = 0;
const TOMBSTONE: u32 = 1;

/// Just enough of GLib's `GHashTable` to know its iteration order.
pub(crate) struct StrHashTable<'k> {
    hashes: Vec<u32>,
    keys: Vec<Option<&'k str>>,
    modulus: u32,
    mask: usize,
    nnodes: usize,
    noccupied: usize,
}

impl<'k> StrHashTable<'k> {
    pub(crate) fn new() -> Self {
        let mut t = StrHashTable {
            hashes: Vec::new(),
            keys: Vec::new(),
            modulus: 0,
            mask: 0,
            nnodes: 0,
            noccupied: 0,
        };
        t.set_shift(MIN_SHIFT);
        t.hashes.resize(t.size(), UNUSED);
        t.keys.resize(t.size(), None);
        t
    }

    fn size(&self) -> usize {
        self.mask + 1
    }

    fn set_shift(&mut self, shift: u32) {
        self.modulus = PRIME_MOD[shift as usize];
        self.mask = (1usize << shift) - 1;
    }

    fn hash(key: &str) -> u32 {
        let h = g_str_hash(key);
        if h < 2 {
            2
        } else {
            h
        }
    }

    fn home(&self, hash: u32) -> usize {
        (hash.wrapping_mul(11) % self.modulus) as usize
    }

    /// GLib's lookup: the key's slot, else the first tombstone passed,
    /// else the empty slot that ended the probe.
    fn lookup(&self, key: &str, hash: u32) -> usize {
        let mut index = self.home(hash);
        let mut tombstone = None;
        let mut step = 0;
        while self.hashes[index] != UNUSED {
            if self.hashes[index] == hash && self.keys[index] == Some(key) {
                return index;
            }
            if self.hashes[index] == TOMBSTONE && tombstone.is_none() {
                tombstone = Some(index);
            }
            step += 1;
            index = (index + step) & self.mask;
        }
        tombstone.unwrap_or(index)
    }

    pub(crate) fn insert(&mut self, key: &'k str) {
        let hash = Self::hash(key);
        let index = self.lookup(key, hash);
        let old = self.hashes[index];
        self.hashes[index] = hash;
        self.keys[index] = Some(key);
        if old < 2 {
            self.nnodes += 1;
            if old == UNUSED {
                self.noccupied += 1;
                self.maybe_resize();
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        let index = self.lookup(key, Self::hash(key));
        if self.hashes[index] < 2 {
            return;
        }
        self.hashes[index] = TOMBSTONE;
        self.keys[index] = None;
        self.nnodes -= 1;
        self.maybe_resize();
    }

    fn maybe_resize(&mut self) {
        let size = self.size();
        if (size > self.nnodes * 4 && size > 1 << MIN_SHIFT)
            || size <= self.noccupied + self.noccupied / 16
        {
            self.resize();
        }
    }

    /// GLib's in-place rehash: walk the old slots in order, moving each
    /// entry to its new home and carrying along whatever it displaces.
    fn resize(&mut self) {
        let old_size = self.size();
        let target = (self.nnodes as f64 * 1.333) as u32;
        let shift = (u32::BITS - target.leading_zeros()).max(MIN_SHIFT);
        self.set_shift(shift);
        let new_size = self.size();
        if new_size > old_size {
            self.hashes.resize(new_size, UNUSED);
            self.keys.resize(new_size, None);
        }
        let mut placed = vec![false; new_size.max(old_size)];
        for i in 0..old_size {
            let hash = self.hashes[i];
            if hash < 2 {
                self.hashes[i] = UNUSED;
                continue;
            }
            if placed[i] {
                continue;
            }
            self.hashes[i] = UNUSED;
            let mut hash = hash;
            let mut key = self.keys[i].take();
            loop {
                let mut index = self.home(hash);
                let mut step = 0;
                while placed[index] {
                    step += 1;
                    index = (index + step) & self.mask;
                }
                placed[index] = true;
                let displaced = self.hashes[index];
                self.hashes[index] = hash;
                key = std::mem::replace(&mut self.keys[index], key);
                if displaced < 2 {
                    break;
                }
                hash = displaced;
            }
        }
        self.hashes.truncate(new_size);
        self.keys.truncate(new_size);
        self.noccupied = self.nnodes;
    }

    pub(crate) fn first(&self) -> Option<&'k str> {
        self.hashes
            .iter()
            .zip(&self.keys)
            .find(|(h, _)| **h >= 2)
            .and_then(|(_, k)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_survives_growth_and_shrinking() {
        // Every key is found again and removed keys never come back.
        let many: Vec<String> = (0..40).map(|i| format!("key-{i}")).collect();
        let mut t = StrHashTable::new();
        for k in &many {
            t.insert(k);
        }
        assert_eq!(t.nnodes, 40);
        for k in &many {
            assert!(t.keys[t.lookup(k, StrHashTable::hash(k))] == Some(k.as_str()));
        }
        for k in &many[..39] {
            t.remove(k);
        }
        assert_eq!(t.first(), Some("key-39"));
        assert_eq!(t.size(), 8);
    }
}
