//! The JSON-like values a schema file is made of.

use crate::source::Span;

/// An object key.  The keys of the QAPI language are shared per thread;
/// other keys (member names) are allocated once and then shared with the
/// definitions built from them.
pub type Key = Name;

const KEYWORDS: [&str; 26] = [
    "type",
    "data",
    "if",
    "name",
    "features",
    "struct",
    "enum",
    "command",
    "event",
    "union",
    "alternate",
    "base",
    "discriminator",
    "returns",
    "prefix",
    "boxed",
    "gen",
    "success-response",
    "allow-oob",
    "allow-preconfig",
    "coroutine",
    "include",
    "pragma",
    "all",
    "any",
    "not",
];

thread_local! {
    static KEYWORD_NAMES: Vec<Name> = KEYWORDS.iter().map(|k| Name::from(*k)).collect();
}

/// Makes a key, without allocating for the keywords of the language.
pub fn intern_key(s: &str) -> Key {
    let i = match s {
        "type" => 0,
        "data" => 1,
        "if" => 2,
        "name" => 3,
        "features" => 4,
        "struct" => 5,
        "enum" => 6,
        "command" => 7,
        "event" => 8,
        "union" => 9,
        "alternate" => 10,
        "base" => 11,
        "discriminator" => 12,
        "returns" => 13,
        "prefix" => 14,
        "boxed" => 15,
        "gen" => 16,
        "success-response" => 17,
        "allow-oob" => 18,
        "allow-preconfig" => 19,
        "coroutine" => 20,
        "include" => 21,
        "pragma" => 22,
        "all" => 23,
        "any" => 24,
        "not" => 25,
        _ => return Name::from(s),
    };
    KEYWORD_NAMES.with(|k| k[i].clone())
}

/// A parsed value and the position of its first token.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it starts.
    pub span: Span,
}

/// A shared, immutable string: names and string values are cloned often
/// (a type name appears in the value tree, the definitions and the model),
/// so they are reference-counted rather than copied.
pub type Name = std::sync::Arc<str>;

/// A QAPI value: the JSON subset QAPI uses (no numbers, no null).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single-quoted string.
    Str(Name),
    /// `true` or `false`.
    Bool(bool),
    /// `[ ... ]`.
    List(Vec<Node>),
    /// `{ ... }`, keys in source order.
    Dict(Dict),
}

/// An object: keys in source order, no duplicates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict {
    /// The members, in source order.
    pub entries: Vec<Entry>,
}

/// One `'key': value` of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: Key,
    /// Where the key's string token starts.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Dict {
    /// The entry of `key`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| &*e.key == key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|e| &*e.key == key)
            .map(|e| &e.value)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.iter().any(|e| &*e.key == key)
    }

    /// The keys, in source order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_ref())
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the object is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Python truthiness, which QEMU's checks rely on in places
    /// (`if not members`, `if boxed`).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Bool(b) => *b,
            Value::List(l) => !l.is_empty(),
            Value::Dict(d) => !d.is_empty(),
        }
    }
}
