//! The typed definitions that the shape checks produce: every sugar
//! normalised (`'a': 'int'` → a member with a type, `'v'` → an enum value,
//! `'*x'` → optional member `x`), every value of the right JSON type.

use crate::parse::Name;
use crate::source::{Info, Span};

/// A condition: `'if': COND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfCond {
    /// A configuration symbol, e.g. `CONFIG_KVM`.
    Name(Name),
    /// `{'all': [...]}`: every operand holds.
    All(Vec<IfCond>),
    /// `{'any': [...]}`: some operand holds.
    Any(Vec<IfCond>),
    /// `{'not': COND}`.
    Not(Box<IfCond>),
}

impl IfCond {
    /// The condition as QEMU's test harness prints it: a bare name, or the
    /// Python repr of the condition's dict (`{'all': ['A', 'B']}`).
    pub fn python_repr(&self) -> String {
        let mut out = String::new();
        self.repr_into(&mut out, true);
        out
    }

    fn repr_into(&self, out: &mut String, top: bool) {
        match self {
            IfCond::Name(n) => {
                if top {
                    out.push_str(n);
                } else {
                    out.push('\'');
                    out.push_str(n);
                    out.push('\'');
                }
            }
            IfCond::All(ops) | IfCond::Any(ops) => {
                let key = if matches!(self, IfCond::All(_)) {
                    "all"
                } else {
                    "any"
                };
                out.push_str("{'");
                out.push_str(key);
                out.push_str("': [");
                for (i, op) in ops.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    op.repr_into(out, false);
                }
                out.push_str("]}");
            }
            IfCond::Not(op) => {
                out.push_str("{'not': ");
                op.repr_into(out, false);
                out.push('}');
            }
        }
    }

    /// Calls `f` with every symbol the condition names, in order.
    pub fn symbols(&self, f: &mut impl FnMut(&str)) {
        match self {
            IfCond::Name(n) => f(n),
            IfCond::All(ops) | IfCond::Any(ops) => ops.iter().for_each(|o| o.symbols(f)),
            IfCond::Not(op) => op.symbols(f),
        }
    }

    /// The C preprocessor expression QEMU generates (`defined(A) && ...`).
    pub fn c_expr(&self) -> String {
        match self {
            IfCond::Name(n) => format!("defined({n})"),
            IfCond::Not(op) => format!("!{}", op.c_operand()),
            IfCond::All(ops) => ops
                .iter()
                .map(|o| o.c_operand())
                .collect::<Vec<_>>()
                .join(" && "),
            IfCond::Any(ops) => ops
                .iter()
                .map(|o| o.c_operand())
                .collect::<Vec<_>>()
                .join(" || "),
        }
    }

    fn c_operand(&self) -> String {
        match self {
            IfCond::All(_) | IfCond::Any(_) => format!("({})", self.c_expr()),
            _ => self.c_expr(),
        }
    }
}

/// `features: [...]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDef {
    /// Feature name.
    pub name: Name,
    /// Where the name is written.
    pub span: Span,
    /// Its condition.
    pub ifcond: Option<IfCond>,
}

/// A reference to a type: a name, or `['Name']` for an array of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// `'Name'`.
    Named(Name),
    /// `['Name']`.
    Array(Name),
}

/// A member of a struct, union base, or command/event arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDef {
    /// Name without the `*` marker.
    pub name: Name,
    /// Where its key is written.
    pub span: Span,
    /// Whether it was written `*name`.
    pub optional: bool,
    /// Its type.
    pub ty: TypeRef,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<FeatureDef>,
}

/// An enum value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValueDef {
    /// Value name.
    pub name: Name,
    /// Where the name is written.
    pub span: Span,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<FeatureDef>,
}

/// A union branch or alternate alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchDef {
    /// Branch name.
    pub name: Name,
    /// Where its key is written.
    pub span: Span,
    /// Branch type.
    pub ty: TypeRef,
    /// Its condition.
    pub ifcond: Option<IfCond>,
}

/// An object given either by name or inline as members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    /// A named type.
    Named(Name),
    /// Inline members (becomes an implicit `q_obj_*` type when non-empty).
    Members(Vec<MemberDef>),
}

/// What a definition defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefKind {
    /// `enum`.
    Enum {
        /// Values in order.
        values: Vec<EnumValueDef>,
        /// C constant prefix.
        prefix: Option<Name>,
    },
    /// `struct`.
    Struct {
        /// Base type name.
        base: Option<Name>,
        /// Local members.
        members: Vec<MemberDef>,
    },
    /// `union`.
    Union {
        /// Base: a struct name or inline members.
        base: ObjectRef,
        /// Discriminator member name.
        discriminator: Name,
        /// Explicit branches.
        branches: Vec<BranchDef>,
    },
    /// `alternate`.
    Alternate {
        /// Alternatives.
        branches: Vec<BranchDef>,
    },
    /// `command`.
    Command {
        /// Arguments.
        data: Option<ObjectRef>,
        /// Return type.
        returns: Option<TypeRef>,
        /// `boxed`.
        boxed: bool,
        /// `gen`.
        gen: bool,
        /// `success-response`.
        success_response: bool,
        /// `allow-oob`.
        allow_oob: bool,
        /// `allow-preconfig`.
        allow_preconfig: bool,
        /// `coroutine`.
        coroutine: bool,
    },
    /// `event`.
    Event {
        /// Data.
        data: Option<ObjectRef>,
        /// `boxed`.
        boxed: bool,
    },
}

impl DefKind {
    /// `enum`, `struct`, `union`, `alternate`, `command` or `event`.
    pub fn meta(&self) -> &'static str {
        match self {
            DefKind::Enum { .. } => "enum",
            DefKind::Struct { .. } => "struct",
            DefKind::Union { .. } => "union",
            DefKind::Alternate { .. } => "alternate",
            DefKind::Command { .. } => "command",
            DefKind::Event { .. } => "event",
        }
    }
}

/// A definition that passed the shape checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// Its name.
    pub name: Name,
    /// Where the name is written.
    pub name_span: Span,
    /// Line of its opening brace.
    pub info: Info,
    /// Its doc block (index into the schema's docs).
    pub doc: Option<usize>,
    /// Its condition.
    pub ifcond: Option<IfCond>,
    /// Its features.
    pub features: Vec<FeatureDef>,
    /// What it defines.
    pub kind: DefKind,
}

/// A checked top-level expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// An include directive (joined path).
    Include {
        /// The joined path.
        path: String,
        /// Its line.
        info: Info,
    },
    /// A definition.
    Definition(Definition),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IfCond {
        IfCond::Name(s.into())
    }

    #[test]
    fn conditions_print_like_python_and_c() {
        let cases = [
            (n("IFONE"), "IFONE", "defined(IFONE)"),
            (
                IfCond::All(vec![n("A"), n("B")]),
                "{'all': ['A', 'B']}",
                "defined(A) && defined(B)",
            ),
            (
                IfCond::Not(Box::new(IfCond::Any(vec![n("A"), n("B")]))),
                "{'not': {'any': ['A', 'B']}}",
                "!(defined(A) || defined(B))",
            ),
            (
                IfCond::Any(vec![n("A"), IfCond::All(vec![n("B"), n("C")])]),
                "{'any': ['A', {'all': ['B', 'C']}]}",
                "defined(A) || (defined(B) && defined(C))",
            ),
            (IfCond::Not(Box::new(n("A"))), "{'not': 'A'}", "!defined(A)"),
        ];
        for (cond, repr, c) in cases {
            assert_eq!(cond.python_repr(), repr);
            assert_eq!(cond.c_expr(), c);
        }
    }
}
