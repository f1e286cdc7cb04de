//! What generated structs and unions implement instead of deriving
//! `Serialize`, `Deserialize` and `Debug`: a walk over their members,
//! written once per type and shared by all three.
//!
//! Derived serde impls are most of the compile time of a large schema's
//! bindings: each is a body of generic code per type, type-checked and
//! borrow-checked on every build.  A walk is one line per member, and the
//! impls on top of it are one call each into this crate, which does the
//! work once for every type ([`crate::ser`], [`crate::de`]).

use crate::de::Reader;
use crate::ser::Writer;

/// A QAPI object type (struct, union, or a command's or event's
/// arguments): its members in wire order.
pub trait Members: Sized {
    /// Writes each member that is present, in wire order: required
    /// members always, optional ones when `Some`.
    fn write(&self, w: &mut Writer<'_>);

    /// Takes the members out of `r`.  `None` means one was missing or did
    /// not decode; `r` holds the reason.
    fn read(r: &mut Reader) -> Option<Self>;
}

/// The branches of a union: selected by the discriminator member `TAG`,
/// each adding the members of its type.
pub trait Branches: Sized {
    /// The discriminator's wire name.
    const TAG: &'static str;

    /// The discriminator's value for this branch, as on the wire.
    fn tag(&self) -> &'static str;

    /// Writes the branch's own members (not the discriminator).
    fn write(&self, w: &mut Writer<'_>);

    /// Reads the branch that discriminator value `tag` selects.
    fn read(tag: &str, r: &mut Reader) -> Option<Self>;
}

/// A boxed member type (a type that holds itself, through a branch).
impl<T: Members> Members for Box<T> {
    fn write(&self, w: &mut Writer<'_>) {
        (**self).write(w)
    }

    fn read(r: &mut Reader) -> Option<Self> {
        T::read(r).map(Box::new)
    }
}

/// The `Serialize` and `Deserialize` impls of a generated object type, on
/// top of its [`Members`] walk: `serde_impls!(CpuModelInfo,
/// "CpuModelInfo")` (the type, and its QAPI name, which decoding errors
/// show).  Generated code invokes this rather than spelling the impls out
/// for each of hundreds of types.
#[macro_export]
macro_rules! serde_impls {
    ($t:ty, $name:literal) => {
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::ser::serialize(self, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::de::deserialize(d, $name)
            }
        }
    };
}

/// [`serde_impls!`], and `Debug` and `PartialEq` on the same walk:
/// `Debug` shows the members present by their wire names, and values are
/// equal when the same members are present with equal values.
#[macro_export]
macro_rules! object_impls {
    ($t:ty, $name:literal) => {
        $crate::serde_impls!($t, $name);

        impl ::core::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::ser::debug(self, f)
            }
        }

        impl ::core::cmp::PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                $crate::ser::eq(self, other)
            }
        }
    };
}
