//! Checking command arguments the way QEMU's QMP input path does.
//!
//! QEMU unmarshals a command's `arguments` with its QObject input visitor
//! driven by generated `visit_type_*` functions, and stops at the first
//! problem.  This module walks a `serde_json::Value` in the same order and
//! reports the same first error with the same text:
//!
//! * members in schema order (base first, then the members of the union
//!   branch the discriminator selects);
//! * a nested object is checked completely, including its own
//!   unexpected-member check, before the next member;
//! * an object's unexpected members are reported after all its members
//!   were visited — when there are several, the one QEMU's hash table
//!   yields first (see [`first_unexpected`]);
//! * full names are `a.b`, `list[0].c`; range errors, enum errors and
//!   alternate mismatches name only the member itself (`null` inside a
//!   list), as QEMU's core visitors do.
//!
//! The schema arrives as plain static tables ([`Type`], [`Object`],
//! [`Command`], ...) that a generator emits once per schema; no per-type
//! code exists.

use serde_json::{Map, Value};

use crate::error::{ErrorClass, QmpError};
use crate::qdict;

/// A type, as far as checking input needs it.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    /// `any`: every value.
    Any,
    /// `null`.
    Null,
    /// `str`.
    Str,
    /// `bool`.
    Bool,
    /// `number`: every JSON number.
    Number,
    /// One of the integer types.
    Int(Int),
    /// An enum: a string among its values.
    Enum(&'static Enum),
    /// An array.
    List(&'static Type),
    /// A struct or union.
    Object(&'static Object),
    /// An alternate.
    Alternate(&'static Alternate),
}

/// QAPI's integer types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int {
    /// `int8`.
    Int8,
    /// `int16`.
    Int16,
    /// `int32`.
    Int32,
    /// `int` and `int64`.
    Int64,
    /// `uint8`.
    Uint8,
    /// `uint16`.
    Uint16,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `size` (checked exactly like `uint64`).
    Size,
}

/// An enum's values (only those compiled in).
#[derive(Debug, Clone, Copy)]
pub struct Enum {
    /// The values.
    pub values: &'static [&'static str],
}

/// An object member.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    /// Wire name.
    pub name: &'static str,
    /// Its type.
    pub ty: &'static Type,
    /// Whether it may be absent.
    pub optional: bool,
}

/// A struct or union, flattened: base members first.
#[derive(Debug, Clone, Copy)]
pub struct Object {
    /// All members, base first.
    pub members: &'static [Member],
    /// A union's discriminator (one of `members`).
    pub tag: Option<&'static str>,
    /// A union's branches.
    pub cases: &'static [Case],
}

/// One union branch.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The discriminator value selecting it.
    pub value: &'static str,
    /// The branch's members (and branches, for a nested union).
    pub object: &'static Object,
}

/// An alternate.
#[derive(Debug, Clone, Copy)]
pub struct Alternate {
    /// Its QAPI name: QEMU names it when no alternative fits.
    pub name: &'static str,
    /// The alternatives, in schema order.
    pub branches: &'static [&'static Type],
}

/// A command's arguments.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// The QMP command name.
    pub name: &'static str,
    /// Its arguments' object type ([`EMPTY`] when it takes none); `None`
    /// for a command whose arguments QEMU does not check with generated
    /// code (`'gen': false`): anything is accepted.
    pub args: Option<&'static Object>,
}

/// A member (short constructor for generated tables).
pub const fn m(name: &'static str, ty: &'static Type, optional: bool) -> Member {
    Member { name, ty, optional }
}

/// An object (short constructor for generated tables).
pub const fn obj(
    members: &'static [Member],
    tag: Option<&'static str>,
    cases: &'static [Case],
) -> Object {
    Object {
        members,
        tag,
        cases,
    }
}

/// A union case (short constructor for generated tables).
pub const fn case(value: &'static str, object: &'static Object) -> Case {
    Case { value, object }
}

/// A command (short constructor for generated tables).
pub const fn cmd(name: &'static str, args: Option<&'static Object>) -> Command {
    Command { name, args }
}

/// The object without members (`q_empty`).
pub static EMPTY: Object = Object {
    members: &[],
    tag: None,
    cases: &[],
};

/// Checks the `arguments` of a call of `command`, looked up in `commands`
/// (sorted by name, as generated).
///
/// An unknown command gives QEMU's `CommandNotFound` error; `args` that are
/// not an object give the error QEMU's dispatcher gives.
pub fn check_command(commands: &[Command], command: &str, args: &Value) -> Result<(), QmpError> {
    match commands.binary_search_by(|c| c.name.cmp(command)) {
        Ok(i) => match commands[i].args {
            Some(ty) => check_arguments(ty, args),
            None if args.is_object() => Ok(()),
            None => check_arguments(&EMPTY, args),
        },
        Err(_) => Err(QmpError {
            class: ErrorClass::CommandNotFound,
            desc: format!("The command {command} has not been found"),
        }),
    }
}

/// Checks `args` (a command's `arguments`; pass an empty object when the
/// call has none) against the argument type `ty`, returning the first
/// error QEMU would report.
pub fn check_arguments(ty: &Object, args: &Value) -> Result<(), QmpError> {
    let Some(dict) = args.as_object() else {
        return Err(QmpError::generic(
            "QMP input member 'arguments' must be an object",
        ));
    };
    check_struct(ty, dict, &Path::Root)
}

/// Where a value sits, for QEMU's full names (`a.b[2].c`).
enum Path<'a> {
    /// The arguments object itself.
    Root,
    /// Member `name` of the object at the parent path.
    Member(&'a Path<'a>, &'a str),
    /// Element `index` of the list at the parent path.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Member(parent, name) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Path::Index(parent, index) => {
                parent.render_into(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
}

fn invalid_type(at: &Path, expected: &str) -> QmpError {
    QmpError::generic(format!(
        "Invalid parameter type for '{}', expected: {expected}",
        at.render()
    ))
}

/// QEMU's `Parameter '%s' expects %s`.
fn expects(name: &str, what: &str) -> QmpError {
    QmpError::generic(format!("Parameter '{name}' expects {what}"))
}

/// Visits an object: its members, then the check for unexpected ones.
fn check_struct(ty: &Object, dict: &Map<String, Value>, at: &Path) -> Result<(), QmpError> {
    let mut consumed = Vec::with_capacity(dict.len());
    check_members(ty, dict, at, &mut consumed)?;
    if consumed.len() < dict.len() {
        if let Some(key) = first_unexpected(dict.keys().map(String::as_str), &consumed) {
            return Err(QmpError::generic(format!(
                "Parameter '{}' is unexpected",
                Path::Member(at, key).render()
            )));
        }
    }
    Ok(())
}

/// Visits the members of `ty` (and of the selected branch) found in
/// `dict`, recording the keys consumed in visiting order.
fn check_members<'d>(
    ty: &Object,
    dict: &'d Map<String, Value>,
    at: &Path,
    consumed: &mut Vec<&'d str>,
) -> Result<(), QmpError> {
    for m in ty.members {
        match dict.get_key_value(m.name) {
            None if m.optional => {}
            None => {
                return Err(QmpError::generic(format!(
                    "Parameter '{}' is missing",
                    Path::Member(at, m.name).render()
                )))
            }
            Some((key, value)) => {
                consumed.push(key.as_str());
                check_value(m.ty, value, &Path::Member(at, m.name), Some(m.name))?;
            }
        }
    }
    if let Some(tag) = ty.tag {
        // The tag is a member visited above, so it holds a valid value.
        // A value whose branch was compiled out has no case; QEMU would
        // abort there, we accept the members seen so far.
        let value = dict.get(tag).and_then(Value::as_str);
        if let Some(case) = ty.cases.iter().find(|c| Some(c.value) == value) {
            check_members(case.object, dict, at, consumed)?;
        }
    }
    Ok(())
}

/// Visits one value of type `ty` at `at`; `name` is the name QEMU's visitor
/// was given (`None` for list elements).
fn check_value(ty: &Type, v: &Value, at: &Path, name: Option<&str>) -> Result<(), QmpError> {
    let bare = name.unwrap_or("null");
    match ty {
        Type::Any => Ok(()),
        Type::Null if v.is_null() => Ok(()),
        Type::Null => Err(invalid_type(at, "null")),
        Type::Str if v.is_string() => Ok(()),
        Type::Str => Err(invalid_type(at, "string")),
        Type::Bool if v.is_boolean() => Ok(()),
        Type::Bool => Err(invalid_type(at, "boolean")),
        Type::Number if v.is_number() => Ok(()),
        Type::Number => Err(invalid_type(at, "number")),
        Type::Int(kind) => check_int(*kind, v, at, bare),
        Type::Enum(e) => {
            let Some(s) = v.as_str() else {
                return Err(invalid_type(at, "string"));
            };
            if e.values.contains(&s) {
                Ok(())
            } else {
                Err(QmpError::generic(format!(
                    "Parameter '{bare}' does not accept value '{s}'"
                )))
            }
        }
        Type::List(element) => {
            let Some(items) = v.as_array() else {
                return Err(invalid_type(at, "array"));
            };
            for (i, item) in items.iter().enumerate() {
                check_value(element, item, &Path::Index(at, i), None)?;
            }
            Ok(())
        }
        Type::Object(o) => match v.as_object() {
            Some(dict) => check_struct(o, dict, at),
            None => Err(invalid_type(at, "object")),
        },
        Type::Alternate(alt) => {
            let kind = json_kind(v);
            match alt.branches.iter().find(|b| wire_kind(b) == Some(kind)) {
                Some(branch) => check_value(branch, v, at, name),
                None => Err(QmpError::generic(format!(
                    "Invalid parameter type for '{bare}', expected: {}",
                    alt.name
                ))),
            }
        }
    }
}

/// Integers: QEMU reads signed types as int64 and unsigned ones as uint64
/// (accepting negative numbers, which wrap), then checks the range.
fn check_int(kind: Int, v: &Value, at: &Path, bare: &str) -> Result<(), QmpError> {
    let (min, max, what): (i128, i128, &str) = match kind {
        Int::Int8 => (i8::MIN.into(), i8::MAX.into(), "int8_t"),
        Int::Int16 => (i16::MIN.into(), i16::MAX.into(), "int16_t"),
        Int::Int32 => (i32::MIN.into(), i32::MAX.into(), "int32_t"),
        Int::Int64 => (i64::MIN.into(), i64::MAX.into(), "int64"),
        Int::Uint8 => (0, u8::MAX.into(), "uint8_t"),
        Int::Uint16 => (0, u16::MAX.into(), "uint16_t"),
        Int::Uint32 => (0, u32::MAX.into(), "uint32_t"),
        Int::Uint64 | Int::Size => (0, u64::MAX.into(), "uint64"),
    };
    let value: i128 = if min < 0 {
        match v.as_i64() {
            Some(n) => n.into(),
            None => return Err(invalid_type(at, "integer")),
        }
    } else if let Some(n) = v.as_u64() {
        n.into()
    } else if let Some(n) = v.as_i64() {
        // Negative: QEMU takes the int64 and stores it as uint64.
        (n as u64).into()
    } else {
        return Err(expects(&at.render(), "uint64"));
    };
    if value < min || value > max {
        return Err(expects(bare, what));
    }
    Ok(())
}

/// The kinds of JSON value an alternate tells apart (QEMU's QType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Number,
    String,
    Bool,
    Array,
    Object,
}

fn json_kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

/// The kind of JSON value an alternative accepts.
fn wire_kind(ty: &Type) -> Option<Kind> {
    Some(match ty {
        Type::Null => Kind::Null,
        Type::Str | Type::Enum(_) => Kind::String,
        Type::Bool => Kind::Bool,
        Type::Number | Type::Int(_) => Kind::Number,
        Type::List(_) => Kind::Array,
        Type::Object(_) => Kind::Object,
        Type::Any | Type::Alternate(_) => return None,
    })
}

/// The unexpected key QEMU reports first.
///
/// QEMU copies the argument dictionary's keys — in the order its `QDict`
/// iterates them — into a GLib string hash table, removes each key as its
/// member is visited, and reports the first key the hash table's iterator
/// still yields.  With two or more unexpected keys that order is GLib's
/// bucket order, which this reproduces (`QDict`'s 512 buckets and its
/// `tdb_hash`, GLib's `g_str_hash`, probing, tombstones and resizes).
/// `keys` come in the map's order, taken as the order the keys were sent
/// in (exact with serde_json's `preserve_order`; otherwise only keys
/// sharing a `QDict` bucket may come out differently).
pub fn first_unexpected<'k>(
    keys: impl Iterator<Item = &'k str>,
    consumed: &[&str],
) -> Option<&'k str> {
    let keys: Vec<&'k str> = keys.collect();
    let unexpected = keys
        .iter()
        .filter(|k| !consumed.contains(k))
        .copied()
        .collect::<Vec<_>>();
    match unexpected.len() {
        0 => return None,
        1 => return Some(unexpected[0]),
        _ => {}
    }
    let mut table = crate::ghash::StrHashTable::new();
    for i in qdict::order(keys.iter().copied()) {
        table.insert(keys[i]);
    }
    for k in consumed {
        table.remove(k);
    }
    table.first()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdict::tdb_hash;
    use serde_json::json;

    // A small schema by hand, shaped like QEMU's:
    //
    //   enum Kind [ 'a', 'b', 'c' ]
    //   struct Model { name: str, '*count': uint8, '*level': int8 }
    //   alternate StrOrInt { s: str, i: int }
    //   union U { base: { kind: Kind, '*id': str }, discriminator: kind,
    //             data: { a: BranchA, b: BranchB } }   (c: implicit empty)
    //   struct BranchA { x: int }
    //   struct BranchB { base: BranchBase, data: { y: bool } }
    //   struct BranchBase { '*w': number }
    //   command test { type: Kind, model: Model, '*list': [Model],
    //                  '*nums': [uint16], '*alt': StrOrInt, '*u': U,
    //                  '*any': any, '*nothing': null, '*size': size,
    //                  '*i64': int, '*u64': uint64, '*kinds': [Kind],
    //                  '*alts': [StrOrInt], '*i32': int32, '*u32': uint32,
    //                  '*i16': int16 }
    static KIND_ENUM: Enum = Enum {
        values: &["a", "b", "c"],
    };
    static KIND: Type = Type::Enum(&KIND_ENUM);
    static MODEL_OBJ: Object = Object {
        members: &[
            Member {
                name: "name",
                ty: &Type::Str,
                optional: false,
            },
            Member {
                name: "count",
                ty: &Type::Int(Int::Uint8),
                optional: true,
            },
            Member {
                name: "level",
                ty: &Type::Int(Int::Int8),
                optional: true,
            },
        ],
        tag: None,
        cases: &[],
    };
    static MODEL: Type = Type::Object(&MODEL_OBJ);
    static MODEL_LIST: Type = Type::List(&MODEL);
    static U16_LIST: Type = Type::List(&Type::Int(Int::Uint16));
    static KIND_LIST: Type = Type::List(&KIND);
    static STR_OR_INT_ALT: Alternate = Alternate {
        name: "StrOrInt",
        branches: &[&Type::Str, &Type::Int(Int::Int64)],
    };
    static STR_OR_INT: Type = Type::Alternate(&STR_OR_INT_ALT);
    static ALT_LIST: Type = Type::List(&STR_OR_INT);
    static BRANCH_A: Object = Object {
        members: &[Member {
            name: "x",
            ty: &Type::Int(Int::Int64),
            optional: false,
        }],
        tag: None,
        cases: &[],
    };
    static BRANCH_B: Object = Object {
        members: &[
            Member {
                name: "w",
                ty: &Type::Number,
                optional: true,
            },
            Member {
                name: "y",
                ty: &Type::Bool,
                optional: false,
            },
        ],
        tag: None,
        cases: &[],
    };
    static UNION_OBJ: Object = Object {
        members: &[
            Member {
                name: "kind",
                ty: &KIND,
                optional: false,
            },
            Member {
                name: "id",
                ty: &Type::Str,
                optional: true,
            },
        ],
        tag: Some("kind"),
        cases: &[
            Case {
                value: "a",
                object: &BRANCH_A,
            },
            Case {
                value: "b",
                object: &BRANCH_B,
            },
            Case {
                value: "c",
                object: &EMPTY,
            },
        ],
    };
    static UNION: Type = Type::Object(&UNION_OBJ);
    static ARGS: Object = Object {
        members: &[
            Member {
                name: "type",
                ty: &KIND,
                optional: false,
            },
            Member {
                name: "model",
                ty: &MODEL,
                optional: false,
            },
            Member {
                name: "list",
                ty: &MODEL_LIST,
                optional: true,
            },
            Member {
                name: "nums",
                ty: &U16_LIST,
                optional: true,
            },
            Member {
                name: "alt",
                ty: &STR_OR_INT,
                optional: true,
            },
            Member {
                name: "u",
                ty: &UNION,
                optional: true,
            },
            Member {
                name: "any",
                ty: &Type::Any,
                optional: true,
            },
            Member {
                name: "nothing",
                ty: &Type::Null,
                optional: true,
            },
            Member {
                name: "size",
                ty: &Type::Int(Int::Size),
                optional: true,
            },
            Member {
                name: "i64",
                ty: &Type::Int(Int::Int64),
                optional: true,
            },
            Member {
                name: "u64",
                ty: &Type::Int(Int::Uint64),
                optional: true,
            },
            Member {
                name: "kinds",
                ty: &KIND_LIST,
                optional: true,
            },
            Member {
                name: "alts",
                ty: &ALT_LIST,
                optional: true,
            },
            Member {
                name: "i32",
                ty: &Type::Int(Int::Int32),
                optional: true,
            },
            Member {
                name: "u32",
                ty: &Type::Int(Int::Uint32),
                optional: true,
            },
            Member {
                name: "i16",
                ty: &Type::Int(Int::Int16),
                optional: true,
            },
        ],
        tag: None,
        cases: &[],
    };
    static COMMANDS: &[Command] = &[
        Command {
            name: "device_add",
            args: None,
        },
        Command {
            name: "query-status",
            args: Some(&EMPTY),
        },
        Command {
            name: "test",
            args: Some(&ARGS),
        },
    ];

    /// The error for `test` called with the base arguments plus `extra`.
    fn check(extra: Value) -> Result<(), String> {
        let mut args = json!({"type": "a", "model": {"name": "m"}});
        if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                a.insert(k.clone(), v.clone());
            }
        }
        check_command(COMMANDS, "test", &args).map_err(|e| e.desc)
    }

    fn raw(args: Value) -> Result<(), String> {
        check_command(COMMANDS, "test", &args).map_err(|e| e.desc)
    }

    #[test]
    fn valid_arguments_pass() {
        let ok = [
            json!({}),
            json!({"list": [{"name": "a"}, {"name": "b", "count": 255, "level": -128}]}),
            json!({"nums": [0, 65535]}),
            json!({"alt": "s"}),
            json!({"alt": 3}),
            json!({"u": {"kind": "a", "x": 1}}),
            json!({"u": {"kind": "b", "y": true, "w": 1.5, "id": "x"}}),
            json!({"u": {"kind": "c"}}),
            json!({"any": {"whatever": [1, null]}}),
            json!({"nothing": null}),
            json!({"size": 18446744073u64, "u64": -5, "i64": -9223372036854775808i64}),
            json!({"kinds": ["a", "c"], "alts": ["x", 1]}),
            json!({"i32": -2147483648i64, "u32": 4294967295u64, "i16": 32767}),
        ];
        for extra in ok {
            assert_eq!(check(extra.clone()), Ok(()), "{extra}");
        }
        assert_eq!(check_command(COMMANDS, "query-status", &json!({})), Ok(()));
    }

    #[test]
    fn every_error_text() {
        let cases: &[(Value, &str)] = &[
            // Missing, top level and nested.
            (
                json!({"model": {"name": "m"}}),
                "Parameter 'type' is missing",
            ),
            (
                json!({"type": "a", "model": {}}),
                "Parameter 'model.name' is missing",
            ),
            // Unexpected, top level and nested.
            (
                json!({"type": "a", "model": {"name": "m"}, "foo": 1}),
                "Parameter 'foo' is unexpected",
            ),
            (
                json!({"type": "a", "model": {"name": "m", "foo": 1}}),
                "Parameter 'model.foo' is unexpected",
            ),
            // Wrong JSON types.
            (
                json!({"type": "a", "model": {"name": 1}}),
                "Invalid parameter type for 'model.name', expected: string",
            ),
            (
                json!({"type": "a", "model": []}),
                "Invalid parameter type for 'model', expected: object",
            ),
            (
                json!({"type": 7, "model": {"name": "m"}}),
                "Invalid parameter type for 'type', expected: string",
            ),
            (
                json!({"type": "bogus", "model": {"name": "m"}}),
                "Parameter 'type' does not accept value 'bogus'",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(raw(args.clone()), Err(want.to_string()), "{args}");
        }
        let extras: &[(Value, &str)] = &[
            (
                json!({"list": {}}),
                "Invalid parameter type for 'list', expected: array",
            ),
            (
                json!({"list": [{"name": "a"}, {}]}),
                "Parameter 'list[1].name' is missing",
            ),
            (
                json!({"list": [{"name": "a", "zz": 1}]}),
                "Parameter 'list[0].zz' is unexpected",
            ),
            (
                json!({"list": [{"name": true}]}),
                "Invalid parameter type for 'list[0].name', expected: string",
            ),
            (
                json!({"list": [{"name": "a", "count": 256}]}),
                "Parameter 'count' expects uint8_t",
            ),
            (
                json!({"list": [{"name": "a", "level": -129}]}),
                "Parameter 'level' expects int8_t",
            ),
            (
                json!({"list": [{"name": "a", "level": 1.5}]}),
                "Invalid parameter type for 'list[0].level', expected: integer",
            ),
            (
                json!({"list": [{"name": "a", "count": "x"}]}),
                "Parameter 'list[0].count' expects uint64",
            ),
            (
                json!({"nums": [1, 65536]}),
                "Parameter 'null' expects uint16_t",
            ),
            (
                json!({"nums": [1, 2.5]}),
                "Parameter 'nums[1]' expects uint64",
            ),
            // Negative numbers wrap to huge unsigned ones.
            (json!({"nums": [-1]}), "Parameter 'null' expects uint16_t"),
            (
                json!({"alt": true}),
                "Invalid parameter type for 'alt', expected: StrOrInt",
            ),
            (
                json!({"alt": 1.5}),
                "Invalid parameter type for 'alt', expected: integer",
            ),
            (
                json!({"alts": ["x", null]}),
                "Invalid parameter type for 'null', expected: StrOrInt",
            ),
            (
                json!({"kinds": ["a", "d"]}),
                "Parameter 'null' does not accept value 'd'",
            ),
            (
                json!({"kinds": ["a", 1]}),
                "Invalid parameter type for 'kinds[1]', expected: string",
            ),
            (json!({"u": {"kind": "a"}}), "Parameter 'u.x' is missing"),
            (
                json!({"u": {"kind": "z"}}),
                "Parameter 'kind' does not accept value 'z'",
            ),
            (json!({"u": {"x": 1}}), "Parameter 'u.kind' is missing"),
            (
                json!({"u": {"kind": "b", "y": 1}}),
                "Invalid parameter type for 'u.y', expected: boolean",
            ),
            (
                json!({"u": {"kind": "b", "y": true, "w": "1"}}),
                "Invalid parameter type for 'u.w', expected: number",
            ),
            (
                json!({"u": {"kind": "c", "x": 1}}),
                "Parameter 'u.x' is unexpected",
            ),
            (
                json!({"nothing": 0}),
                "Invalid parameter type for 'nothing', expected: null",
            ),
            (json!({"size": "1k"}), "Parameter 'size' expects uint64"),
            (json!({"size": 1e3}), "Parameter 'size' expects uint64"),
            (
                json!({"i64": 9223372036854775808u64}),
                "Invalid parameter type for 'i64', expected: integer",
            ),
            (
                json!({"i32": 2147483648u64}),
                "Parameter 'i32' expects int32_t",
            ),
            (
                json!({"u32": 4294967296u64}),
                "Parameter 'u32' expects uint32_t",
            ),
            (json!({"u32": -1}), "Parameter 'u32' expects uint32_t"),
            (json!({"i16": -32769}), "Parameter 'i16' expects int16_t"),
            (json!({"u64": 1.0}), "Parameter 'u64' expects uint64"),
        ];
        for (extra, want) in extras {
            assert_eq!(check(extra.clone()), Err(want.to_string()), "{extra}");
        }
    }

    #[test]
    fn visiting_order() {
        // A nested object is finished (incl. its unexpected check) before
        // the next member; the top level's unexpected member comes last.
        let args = json!({"type": "a", "model": {"name": "m", "zz": 1}, "nums": "x", "foo": 1});
        assert_eq!(raw(args), Err("Parameter 'model.zz' is unexpected".into()));
        let args = json!({"type": "a", "model": {"name": "m"}, "nums": "x", "foo": 1});
        assert_eq!(
            raw(args),
            Err("Invalid parameter type for 'nums', expected: array".into())
        );
        // Base members before branch members; missing before unexpected.
        let args = json!({"type": "a", "model": {"name": "m"},
                          "u": {"kind": "b", "zz": 0, "id": 5}});
        assert_eq!(
            raw(args),
            Err("Invalid parameter type for 'u.id', expected: string".into())
        );
        let args = json!({"type": "a", "model": {"name": "m"}, "u": {"kind": "b", "zz": 0}});
        assert_eq!(raw(args), Err("Parameter 'u.y' is missing".into()));
        // Schema order, not the order of the keys sent.
        let args = json!({"model": {"name": 1}, "type": 2});
        assert_eq!(
            raw(args),
            Err("Invalid parameter type for 'type', expected: string".into())
        );
    }

    #[test]
    fn dispatcher_errors() {
        let e = check_command(COMMANDS, "nope", &json!({})).expect_err("unknown");
        assert_eq!(e.class, ErrorClass::CommandNotFound);
        assert_eq!(e.desc, "The command nope has not been found");
        let e = check_command(COMMANDS, "query-status", &json!({"x": 1})).expect_err("extra");
        assert_eq!(e.desc, "Parameter 'x' is unexpected");
        assert_eq!(e.class, ErrorClass::GenericError);
        assert_eq!(
            check_command(COMMANDS, "device_add", &json!({"driver": 1, "x": []})),
            Ok(())
        );
        let e = check_command(COMMANDS, "query-status", &json!([])).expect_err("not object");
        assert_eq!(e.desc, "QMP input member 'arguments' must be an object");
    }

    #[test]
    fn hashes_match_the_c_functions() {
        // Values computed by hand from QEMU's tdb_hash and GLib's g_str_hash.
        assert_eq!(crate::ghash::g_str_hash(""), 5381);
        assert_eq!(crate::ghash::g_str_hash("a"), 5381 * 33 + 97);
        assert_eq!(
            crate::ghash::g_str_hash("\u{e9}"),
            ((5381u32 * 33).wrapping_add(0xc3u8 as i8 as u32))
                .wrapping_mul(33)
                .wrapping_add(0xa9u8 as i8 as u32)
        );
        assert_eq!(tdb_hash(""), 12345);
        let v = 0x238F_13AFu32.wrapping_add(u32::from(b'a'));
        assert_eq!(
            tdb_hash("a"),
            v.wrapping_mul(1_103_515_243).wrapping_add(12345)
        );
    }

    #[test]
    fn unexpected_keys_agree_with_glib() {
        // Answers of GLib 2.74's own GHashTable (a C driver inserting the
        // keys in QDict order, removing the consumed ones, taking the
        // iterator's first key); the emulation agreed on 4,000 random cases.
        let cases: &[(&[&str], &[&str], &str)] = &[
            (&["c", "a", "c64", "foo96"], &[], "foo96"),
            (
                &["locking", "model", "auto-read-only15", "y70"],
                &["y70", "model"],
                "locking",
            ),
            (
                &[
                    "force-share67",
                    "filename",
                    "y",
                    "driver99",
                    "filename81",
                    "a71",
                    "locking",
                    "detect-zeroes",
                    "locking52",
                    "read-only97",
                    "cache",
                    "force-share87",
                    "x86",
                    "type92",
                ],
                &[
                    "filename81",
                    "a71",
                    "driver99",
                    "cache",
                    "type92",
                    "x86",
                    "detect-zeroes",
                    "force-share87",
                    "locking",
                    "read-only97",
                    "force-share67",
                    "y",
                ],
                "filename",
            ),
            (
                &[
                    "a51",
                    "model56",
                    "file92",
                    "model78",
                    "filename",
                    "driver36",
                    "model65",
                    "mode",
                    "y1",
                    "locking22",
                    "node-name",
                    "type56",
                ],
                &[
                    "node-name",
                    "driver36",
                    "locking22",
                    "model78",
                    "mode",
                    "a51",
                    "filename",
                    "file92",
                    "y1",
                ],
                "type56",
            ),
            (
                &[
                    "force-share",
                    "name68",
                    "baz7",
                    "file",
                    "x53",
                    "name70",
                    "locking72",
                    "cache80",
                    "model73",
                    "model28",
                    "size17",
                    "driver69",
                    "read-only71",
                    "node-name",
                    "baz81",
                    "id70",
                    "baz",
                    "file63",
                    "x99",
                    "baz58",
                    "cache23",
                    "cache10",
                ],
                &[
                    "model28",
                    "baz",
                    "id70",
                    "size17",
                    "baz81",
                    "cache10",
                    "baz7",
                    "name68",
                    "model73",
                    "locking72",
                    "baz58",
                    "name70",
                    "driver69",
                    "cache80",
                    "read-only71",
                    "force-share",
                    "x99",
                    "node-name",
                ],
                "cache23",
            ),
        ];
        for (keys, consumed, want) in cases {
            assert_eq!(
                first_unexpected(keys.iter().copied(), consumed),
                Some(*want),
                "{keys:?}"
            );
        }
    }

    #[test]
    fn unexpected_keys_come_in_hash_table_order() {
        // One unexpected key: no ordering question.
        assert_eq!(first_unexpected(["a", "b"].into_iter(), &["a"]), Some("b"));
        assert_eq!(first_unexpected(["a", "b"].into_iter(), &["b", "a"]), None);
        // Several: the answer depends on the hashes only, not on which of
        // the keys the caller lists first (no two share a QDict bucket).
        let keys = ["foo", "bar", "baz", "qux"];
        let a = first_unexpected(keys.into_iter(), &[]);
        let b = first_unexpected(keys.into_iter().rev(), &[]);
        assert_eq!(a, b);
        // Many keys, most consumed (the table grows and shrinks; see
        // `ghash.rs` for the table itself).
        let many: Vec<String> = (0..40).map(|i| format!("key-{i}")).collect();
        let consumed: Vec<&str> = many[..38].iter().map(String::as_str).collect();
        let first = first_unexpected(many.iter().map(String::as_str), &consumed);
        assert!(matches!(first, Some("key-38" | "key-39")), "{first:?}");
    }
}
