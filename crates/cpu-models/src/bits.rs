//! A fixed-size set of feature indexes, one bit each: both targets keep
//! their models' feature sets this way (at most [`Bits::CAPACITY`]
//! features, checked when a catalogue is loaded).

const WORDS: usize = 8;

/// A set of features, indexed by the target's feature order.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Bits([u64; WORDS]);

impl Bits {
    /// How many features a set can hold.
    pub(crate) const CAPACITY: usize = WORDS * 64;

    pub(crate) fn set(&mut self, i: usize, v: bool) {
        if v {
            self.0[i / 64] |= 1 << (i % 64);
        } else {
            self.0[i / 64] &= !(1 << (i % 64));
        }
    }

    pub(crate) fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// The features in both.
    #[must_use]
    pub(crate) fn and(&self, o: &Bits) -> Bits {
        self.zip(o, |a, b| a & b)
    }

    /// The features in `self` but not in `o`.
    #[must_use]
    pub(crate) fn and_not(&self, o: &Bits) -> Bits {
        self.zip(o, |a, b| a & !b)
    }

    /// The features in either.
    #[must_use]
    pub(crate) fn or(&self, o: &Bits) -> Bits {
        self.zip(o, |a, b| a | b)
    }

    fn zip(&self, o: &Bits, f: impl Fn(u64, u64) -> u64) -> Bits {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(o.0) {
            *a = f(*a, b);
        }
        r
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    pub(crate) fn is_subset(&self, o: &Bits) -> bool {
        self.and_not(o).is_empty()
    }

    /// The indexes in the set, ascending.
    pub(crate) fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            let mut b = bits;
            std::iter::from_fn(move || {
                if b == 0 {
                    return None;
                }
                let i = b.trailing_zeros() as usize;
                b &= b - 1;
                Some(w * 64 + i)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let mut a = Bits::default();
        let mut b = Bits::default();
        for i in [0, 3, 64, 511] {
            a.set(i, true);
        }
        for i in [3, 64, 200] {
            b.set(i, true);
        }
        assert_eq!(a.and(&b).ones().collect::<Vec<_>>(), [3, 64]);
        assert_eq!(a.and_not(&b).ones().collect::<Vec<_>>(), [0, 511]);
        assert_eq!(a.or(&b).ones().collect::<Vec<_>>(), [0, 3, 64, 200, 511]);
        assert!(a.and(&b).is_subset(&a));
        assert!(!a.is_subset(&b));
        a.set(511, false);
        assert!(!a.get(511) && a.get(0));
        assert!(Bits::default().is_empty());
    }
}
