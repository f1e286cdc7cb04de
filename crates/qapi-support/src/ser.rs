//! Encoding and printing generated types from their member walk
//! ([`Members::write`]): one generic function here serves every type,
//! where a derived `Serialize` would be a body per type.
//!
//! Values reach the serializer through [`erased_serde`], so the walk of
//! each type is compiled once, not once per serializer.

use std::any::Any;
use std::fmt;

use serde::ser::{SerializeMap, Serializer};

use crate::members::{Branches, Members};

/// A member's value: anything that encodes, prints and compares (every
/// generated type, the built-in types, `serde_json::Value`).
pub trait Value: erased_serde::Serialize + fmt::Debug + Any {
    /// Whether `other` is a value of the same type, equal to this one.
    fn eq_value(&self, other: &dyn Value) -> bool;
}

impl<T: serde::Serialize + fmt::Debug + PartialEq + Any> Value for T {
    fn eq_value(&self, other: &dyn Value) -> bool {
        let other: &dyn Any = other;
        other.downcast_ref::<T>() == Some(self)
    }
}

/// Where a walk's members go.
trait Sink {
    fn member(&mut self, name: &'static str, value: &dyn Value);
}

/// What [`Members::write`] writes its members to.
pub struct Writer<'a> {
    sink: &'a mut dyn Sink,
}

impl Writer<'_> {
    /// A required member.
    pub fn req(&mut self, name: &'static str, value: &dyn Value) {
        self.sink.member(name, value);
    }

    /// An optional member: written when present.
    pub fn opt<T: Value>(&mut self, name: &'static str, value: &Option<T>) {
        if let Some(v) = value {
            self.sink.member(name, v);
        }
    }
}

/// Counts the members present, for serializers that want the length.
struct Count(usize);

impl Sink for Count {
    fn member(&mut self, _: &'static str, _: &dyn Value) {
        self.0 += 1;
    }
}

/// Writes members to a serializer's map, keeping the first error.
struct MapSink<M: SerializeMap> {
    map: M,
    error: Option<M::Error>,
}

impl<M: SerializeMap> Sink for MapSink<M> {
    fn member(&mut self, name: &'static str, value: &dyn Value) {
        if self.error.is_none() {
            let value: &dyn erased_serde::Serialize = value;
            if let Err(e) = self.map.serialize_entry(name, value) {
                self.error = Some(e);
            }
        }
    }
}

struct DebugSink<'a, 'b>(fmt::DebugStruct<'a, 'b>);

impl Sink for DebugSink<'_, '_> {
    fn member(&mut self, name: &'static str, value: &dyn Value) {
        let value: &dyn fmt::Debug = value;
        self.0.field(name, value);
    }
}

/// A map of what `walk` writes, its length given.
fn map<S: Serializer>(s: S, walk: &dyn Fn(&mut Writer<'_>)) -> Result<S::Ok, S::Error> {
    let mut count = Count(0);
    walk(&mut Writer { sink: &mut count });
    let mut sink = MapSink {
        map: s.serialize_map(Some(count.0))?,
        error: None,
    };
    walk(&mut Writer { sink: &mut sink });
    match sink.error {
        Some(e) => Err(e),
        None => sink.map.end(),
    }
}

/// `Serialize` of an object type: a map of its members in wire order.
pub fn serialize<T: Members, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    map(s, &|w| v.write(w))
}

/// The member walk of a union without common members (or of `Event`):
/// the discriminator, then the branch's members.
pub fn tag_and_branch<T: Branches>(v: &T, w: &mut Writer<'_>) {
    w.req(T::TAG, &v.tag());
    v.write(w)
}

/// `Serialize` of `{}`.
pub fn empty<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_map(Some(0))?.end()
}

/// The name `Debug` gives a type: its Rust name without the path.
fn short_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// `Debug` of an object type: its Rust name, then the members present,
/// by their wire names, in wire order (`CpuModelExpansionInfo { model:
/// ..., static: false, migration-safe: true }`).
pub fn debug<T: Members>(v: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut sink = DebugSink(f.debug_struct(short_name::<T>()));
    v.write(&mut Writer { sink: &mut sink });
    sink.0.finish()
}

/// Compares the `want`-th member of a walk with one given.
struct Nth<'a> {
    want: usize,
    seen: usize,
    name: &'static str,
    value: &'a dyn Value,
    equal: bool,
}

impl Sink for Nth<'_> {
    fn member(&mut self, name: &'static str, value: &dyn Value) {
        if self.seen == self.want {
            self.equal = name == self.name && self.value.eq_value(value);
        }
        self.seen += 1;
    }
}

/// Walks `a`, comparing each member with the same member of `b`'s walk.
struct EqSink<'a> {
    b: &'a dyn Fn(&mut Writer<'_>),
    index: usize,
    equal: bool,
}

impl Sink for EqSink<'_> {
    fn member(&mut self, name: &'static str, value: &dyn Value) {
        if self.equal {
            let mut nth = Nth {
                want: self.index,
                seen: 0,
                name,
                value,
                equal: false,
            };
            (self.b)(&mut Writer { sink: &mut nth });
            self.equal = nth.equal;
        }
        self.index += 1;
    }
}

/// `PartialEq` of an object type: the same members present, with equal
/// values, in the same order (what a derived `PartialEq` decides for
/// these types).  It walks `b` once per member of `a` instead of
/// collecting either walk, so that comparing never allocates; object
/// types have tens of members at most.
pub fn eq<T: Members>(a: &T, b: &T) -> bool {
    let (mut na, mut nb) = (Count(0), Count(0));
    a.write(&mut Writer { sink: &mut na });
    b.write(&mut Writer { sink: &mut nb });
    if na.0 != nb.0 {
        return false;
    }
    let walk_b = |w: &mut Writer<'_>| b.write(w);
    let mut sink = EqSink {
        b: &walk_b,
        index: 0,
        equal: true,
    };
    a.write(&mut Writer { sink: &mut sink });
    sink.equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::Reader;

    struct Point {
        x: i64,
        label: Option<String>,
        q_static: bool,
    }

    impl Members for Point {
        fn write(&self, w: &mut Writer<'_>) {
            w.req("x", &self.x);
            w.opt("label", &self.label);
            w.req("static", &self.q_static);
        }
        fn read(r: &mut Reader) -> Option<Self> {
            Some(Point {
                x: r.req("x")?,
                label: r.opt("label")?,
                q_static: r.req("static")?,
            })
        }
    }

    impl serde::Serialize for Point {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize(self, s)
        }
    }

    impl fmt::Debug for Point {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            debug(self, f)
        }
    }

    impl PartialEq for Point {
        fn eq(&self, other: &Self) -> bool {
            eq(self, other)
        }
    }

    fn point(x: i64, label: Option<&str>, q_static: bool) -> Point {
        Point {
            x,
            label: label.map(String::from),
            q_static,
        }
    }

    #[test]
    fn equal_when_every_member_is() {
        let cases = [
            (point(1, None, true), point(1, None, true), true),
            (point(1, Some("a"), true), point(1, Some("a"), true), true),
            (point(1, None, true), point(2, None, true), false),
            (point(1, None, true), point(1, None, false), false),
            (point(1, Some("a"), true), point(1, None, true), false),
            (point(1, None, true), point(1, Some("a"), true), false),
            (point(1, Some("a"), true), point(1, Some("b"), true), false),
        ];
        for (a, b, want) in cases {
            assert_eq!(a == b, want, "{a:?} == {b:?}");
        }
    }

    #[test]
    fn members_in_order_absent_ones_left_out() {
        let cases = [
            (
                Point {
                    x: 1,
                    label: None,
                    q_static: true,
                },
                r#"{"x":1,"static":true}"#,
                "Point { x: 1, static: true }",
            ),
            (
                Point {
                    x: -2,
                    label: Some("a\"b".into()),
                    q_static: false,
                },
                r#"{"x":-2,"label":"a\"b","static":false}"#,
                r#"Point { x: -2, label: "a\"b", static: false }"#,
            ),
        ];
        for (p, json, dbg) in cases {
            assert_eq!(serde_json::to_string(&p).expect("encodes"), json);
            assert_eq!(format!("{p:?}"), dbg);
        }
    }

    #[test]
    fn the_count_is_the_members_present() {
        let p = Point {
            x: 1,
            label: Some("l".into()),
            q_static: true,
        };
        let v = serde_json::to_value(&p).expect("encodes");
        assert_eq!(v.as_object().map(|m| m.len()), Some(3));
        let mut count = Count(0);
        p.write(&mut Writer { sink: &mut count });
        assert_eq!(count.0, 3);
    }
}
