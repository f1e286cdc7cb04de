//! Introspection data: what `query-qmp-schema` returns.
//!
//! The types mirror QEMU's `SchemaInfo` union (`qapi/introspect.json`) as
//! plain static data, so a generated crate can hold its whole schema in one
//! `static` slice without running any code at start-up.  Serializing a
//! value gives exactly QEMU's wire form:
//!
//! * keys are QEMU's (`meta-type`, `json-type`, `element-type`, `arg-type`,
//!   `ret-type`, `allow-oob`, `type`, `case`, ...);
//! * `features` appears only when there are some;
//! * an optional object member carries `"default": null`;
//! * `allow-oob` appears only when true;
//! * an enum lists its values twice, as `members` (with features) and as the
//!   older `values` list of plain names.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// One entry of `query-qmp-schema`'s reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaInfo {
    /// The entity's name; for types usually a masked number such as `"12"`,
    /// for arrays `"[T]"`.
    pub name: &'static str,
    /// The entity's features (left out of the JSON when empty).
    pub features: &'static [&'static str],
    /// What kind of entity this is, with the data for that kind.
    pub meta: SchemaMeta,
}

/// The part of a [`SchemaInfo`] that depends on its `meta-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaMeta {
    /// `builtin`: a built-in type.
    Builtin {
        /// Its JSON type: `string`, `number`, `int`, `boolean`, `null`,
        /// `object`, `array` or `value`.
        json_type: &'static str,
    },
    /// `enum`.
    Enum {
        /// The values.
        members: &'static [EnumMember],
    },
    /// `array`.
    Array {
        /// The element type's name.
        element_type: &'static str,
    },
    /// `object`: a struct or union.
    Object {
        /// All members, base members first.
        members: &'static [ObjectMember],
        /// A union's discriminator.
        tag: Option<&'static str>,
        /// A union's branches (only written when `tag` is set).
        variants: &'static [ObjectVariant],
    },
    /// `alternate`.
    Alternate {
        /// The alternatives.
        members: &'static [AlternateMember],
    },
    /// `command`.
    Command {
        /// The arguments' object type.
        arg_type: &'static str,
        /// The return type.
        ret_type: &'static str,
        /// Whether the command may run out of band.
        allow_oob: bool,
    },
    /// `event`.
    Event {
        /// The data's object type.
        arg_type: &'static str,
    },
}

impl SchemaMeta {
    /// The `meta-type` string.
    pub fn meta_type(&self) -> &'static str {
        match self {
            SchemaMeta::Builtin { .. } => "builtin",
            SchemaMeta::Enum { .. } => "enum",
            SchemaMeta::Array { .. } => "array",
            SchemaMeta::Object { .. } => "object",
            SchemaMeta::Alternate { .. } => "alternate",
            SchemaMeta::Command { .. } => "command",
            SchemaMeta::Event { .. } => "event",
        }
    }
}

/// An enum value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumMember {
    /// The value.
    pub name: &'static str,
    /// Its features.
    pub features: &'static [&'static str],
}

/// An object member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectMember {
    /// The wire name.
    pub name: &'static str,
    /// Its type's name (JSON key `type`).
    pub ty: &'static str,
    /// Whether it may be left out (JSON: `"default": null`).
    pub optional: bool,
    /// Its features.
    pub features: &'static [&'static str],
}

/// A union branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectVariant {
    /// The discriminator value.
    pub case: &'static str,
    /// The branch's object type (JSON key `type`).
    pub ty: &'static str,
}

/// An alternative of an alternate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlternateMember {
    /// Its type's name (JSON key `type`).
    pub ty: &'static str,
}

/// Serializes a list of names given as a closure over the elements.
/// Short constructors for generated tables: one call per entry keeps the
/// generated source small, which makes it quicker to format and compile.
pub mod build {
    use super::*;

    /// A built-in type.
    pub const fn builtin(name: &'static str, json_type: &'static str) -> SchemaInfo {
        SchemaInfo {
            name,
            features: &[],
            meta: SchemaMeta::Builtin { json_type },
        }
    }

    /// An enum.
    pub const fn enumeration(
        name: &'static str,
        features: &'static [&'static str],
        members: &'static [EnumMember],
    ) -> SchemaInfo {
        SchemaInfo {
            name,
            features,
            meta: SchemaMeta::Enum { members },
        }
    }

    /// An array type.
    pub const fn array(name: &'static str, element_type: &'static str) -> SchemaInfo {
        SchemaInfo {
            name,
            features: &[],
            meta: SchemaMeta::Array { element_type },
        }
    }

    /// An object type.
    pub const fn object(
        name: &'static str,
        features: &'static [&'static str],
        members: &'static [ObjectMember],
        tag: Option<&'static str>,
        variants: &'static [ObjectVariant],
    ) -> SchemaInfo {
        SchemaInfo {
            name,
            features,
            meta: SchemaMeta::Object {
                members,
                tag,
                variants,
            },
        }
    }

    /// An alternate.
    pub const fn alternate(
        name: &'static str,
        features: &'static [&'static str],
        members: &'static [AlternateMember],
    ) -> SchemaInfo {
        SchemaInfo {
            name,
            features,
            meta: SchemaMeta::Alternate { members },
        }
    }

    /// A command.
    pub const fn command(
        name: &'static str,
        features: &'static [&'static str],
        arg_type: &'static str,
        ret_type: &'static str,
        allow_oob: bool,
    ) -> SchemaInfo {
        SchemaInfo {
            name,
            features,
            meta: SchemaMeta::Command {
                arg_type,
                ret_type,
                allow_oob,
            },
        }
    }

    /// An event.
    pub const fn event(
        name: &'static str,
        features: &'static [&'static str],
        arg_type: &'static str,
    ) -> SchemaInfo {
        SchemaInfo {
            name,
            features,
            meta: SchemaMeta::Event { arg_type },
        }
    }

    /// An enum value.
    pub const fn value(name: &'static str, features: &'static [&'static str]) -> EnumMember {
        EnumMember { name, features }
    }

    /// An object member.
    pub const fn member(
        name: &'static str,
        ty: &'static str,
        optional: bool,
        features: &'static [&'static str],
    ) -> ObjectMember {
        ObjectMember {
            name,
            ty,
            optional,
            features,
        }
    }

    /// A union variant.
    pub const fn variant(case: &'static str, ty: &'static str) -> ObjectVariant {
        ObjectVariant { case, ty }
    }

    /// An alternate's alternative.
    pub const fn alt(ty: &'static str) -> AlternateMember {
        AlternateMember { ty }
    }
}

struct Names<'a, T>(&'a [T], fn(&T) -> &'static str);

impl<T> Serialize for Names<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(self.1))
    }
}

impl Serialize for SchemaInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("meta-type", self.meta.meta_type())?;
        match &self.meta {
            SchemaMeta::Builtin { json_type } => map.serialize_entry("json-type", json_type)?,
            SchemaMeta::Enum { members } => {
                map.serialize_entry("members", members)?;
                map.serialize_entry("values", &Names(members, |m| m.name))?;
            }
            SchemaMeta::Array { element_type } => {
                map.serialize_entry("element-type", element_type)?
            }
            SchemaMeta::Object {
                members,
                tag,
                variants,
            } => {
                map.serialize_entry("members", members)?;
                if let Some(tag) = tag {
                    map.serialize_entry("tag", tag)?;
                    map.serialize_entry("variants", variants)?;
                }
            }
            SchemaMeta::Alternate { members } => map.serialize_entry("members", members)?,
            SchemaMeta::Command {
                arg_type,
                ret_type,
                allow_oob,
            } => {
                map.serialize_entry("arg-type", arg_type)?;
                map.serialize_entry("ret-type", ret_type)?;
                if *allow_oob {
                    map.serialize_entry("allow-oob", &true)?;
                }
            }
            SchemaMeta::Event { arg_type } => map.serialize_entry("arg-type", arg_type)?,
        }
        if !self.features.is_empty() {
            map.serialize_entry("features", self.features)?;
        }
        map.end()
    }
}

impl Serialize for EnumMember {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", self.name)?;
        if !self.features.is_empty() {
            map.serialize_entry("features", self.features)?;
        }
        map.end()
    }
}

impl Serialize for ObjectMember {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("type", self.ty)?;
        if self.optional {
            map.serialize_entry("default", &())?;
        }
        if !self.features.is_empty() {
            map.serialize_entry("features", self.features)?;
        }
        map.end()
    }
}

impl Serialize for ObjectVariant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("case", self.case)?;
        map.serialize_entry("type", self.ty)?;
        map.end()
    }
}

impl Serialize for AlternateMember {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("type", self.ty)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(info: &SchemaInfo) -> serde_json::Value {
        serde_json::to_value(info).expect("static data serializes")
    }

    #[test]
    fn every_meta_type_serializes_as_qemu_does() {
        let cases = [
            (
                SchemaInfo {
                    name: "str",
                    features: &[],
                    meta: SchemaMeta::Builtin {
                        json_type: "string",
                    },
                },
                json!({"name": "str", "meta-type": "builtin", "json-type": "string"}),
            ),
            (
                SchemaInfo {
                    name: "3",
                    features: &["unstable"],
                    meta: SchemaMeta::Enum {
                        members: &[
                            EnumMember {
                                name: "a",
                                features: &[],
                            },
                            EnumMember {
                                name: "b",
                                features: &["deprecated"],
                            },
                        ],
                    },
                },
                json!({"name": "3", "meta-type": "enum", "features": ["unstable"],
                       "members": [{"name": "a"}, {"name": "b", "features": ["deprecated"]}],
                       "values": ["a", "b"]}),
            ),
            (
                SchemaInfo {
                    name: "[int]",
                    features: &[],
                    meta: SchemaMeta::Array {
                        element_type: "int",
                    },
                },
                json!({"name": "[int]", "meta-type": "array", "element-type": "int"}),
            ),
            (
                SchemaInfo {
                    name: "7",
                    features: &[],
                    meta: SchemaMeta::Object {
                        members: &[
                            ObjectMember {
                                name: "type",
                                ty: "3",
                                optional: false,
                                features: &[],
                            },
                            ObjectMember {
                                name: "x",
                                ty: "int",
                                optional: true,
                                features: &["deprecated"],
                            },
                        ],
                        tag: Some("type"),
                        variants: &[ObjectVariant { case: "a", ty: "0" }],
                    },
                },
                json!({"name": "7", "meta-type": "object",
                       "members": [{"name": "type", "type": "3"},
                                   {"name": "x", "type": "int", "default": null,
                                    "features": ["deprecated"]}],
                       "tag": "type", "variants": [{"case": "a", "type": "0"}]}),
            ),
            (
                SchemaInfo {
                    name: "0",
                    features: &[],
                    meta: SchemaMeta::Object {
                        members: &[],
                        tag: None,
                        variants: &[],
                    },
                },
                json!({"name": "0", "meta-type": "object", "members": []}),
            ),
            (
                SchemaInfo {
                    name: "9",
                    features: &[],
                    meta: SchemaMeta::Alternate {
                        members: &[
                            AlternateMember { ty: "str" },
                            AlternateMember { ty: "null" },
                        ],
                    },
                },
                json!({"name": "9", "meta-type": "alternate",
                       "members": [{"type": "str"}, {"type": "null"}]}),
            ),
            (
                SchemaInfo {
                    name: "query-status",
                    features: &[],
                    meta: SchemaMeta::Command {
                        arg_type: "0",
                        ret_type: "1",
                        allow_oob: false,
                    },
                },
                json!({"name": "query-status", "meta-type": "command",
                       "arg-type": "0", "ret-type": "1"}),
            ),
            (
                SchemaInfo {
                    name: "x-oob-test",
                    features: &["unstable"],
                    meta: SchemaMeta::Command {
                        arg_type: "0",
                        ret_type: "0",
                        allow_oob: true,
                    },
                },
                json!({"name": "x-oob-test", "meta-type": "command", "arg-type": "0",
                       "ret-type": "0", "allow-oob": true, "features": ["unstable"]}),
            ),
            (
                SchemaInfo {
                    name: "SHUTDOWN",
                    features: &[],
                    meta: SchemaMeta::Event { arg_type: "2" },
                },
                json!({"name": "SHUTDOWN", "meta-type": "event", "arg-type": "2"}),
            ),
        ];
        for (info, want) in cases {
            assert_eq!(wire(&info), want, "{info:?}");
        }
    }
}
