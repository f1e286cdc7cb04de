//! QAPI naming rules and QEMU's C name mangling.
//!
//! Small pure functions; the table tests below list the awkward inputs.

/// C keywords and polluted identifiers that QEMU protects with `q_`.
const PROTECTED: &[&str] = &[
    // C89
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "int",
    "long",
    "register",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    // C99
    "inline",
    "restrict",
    "_Bool",
    "_Complex",
    "_Imaginary",
    // C11
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Generic",
    "_Noreturn",
    "_Static_assert",
    "_Thread_local",
    // GCC
    "asm",
    "typeof",
    // C++
    "bool",
    "catch",
    "class",
    "const_cast",
    "delete",
    "dynamic_cast",
    "explicit",
    "false",
    "friend",
    "mutable",
    "namespace",
    "new",
    "operator",
    "private",
    "protected",
    "public",
    "reinterpret_cast",
    "static_cast",
    "template",
    "this",
    "throw",
    "true",
    "try",
    "typeid",
    "typename",
    "using",
    "virtual",
    "wchar_t",
    "and",
    "and_eq",
    "bitand",
    "bitor",
    "compl",
    "not",
    "not_eq",
    "or",
    "or_eq",
    "xor",
    "xor_eq",
    // polluted words
    "unix",
    "errno",
    "mips",
    "sparc",
    "i386",
    "linux",
];

/// One character of a C name: itself if in `[A-Za-z0-9_]`, else `_`.
pub fn c_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || c == '_' {
        c
    } else {
        '_'
    }
}

/// QEMU's `c_name(name, protect)`: every character outside `[A-Za-z0-9_]`
/// becomes `_`; with `protect`, C keywords and names starting with a digit
/// get a `q_` prefix.
pub fn c_name(name: &str, protect: bool) -> String {
    let mapped: String = name.chars().map(c_char).collect();
    if protect
        && (PROTECTED.contains(&mapped.as_str())
            || mapped.starts_with(|c: char| c.is_ascii_digit()))
    {
        format!("q_{mapped}")
    } else {
        mapped
    }
}

/// QEMU's `camel_to_upper`: `MyEnum` → `MY_ENUM`, `QType` → `QTYPE`.
///
/// An `_` goes before an upper-case letter that follows a lower-case letter
/// or digit, and before the last letter of an upper-case run that is
/// followed by a lower-case letter (`IOThread` → `IO_THREAD`), when the run
/// is long enough; then the whole is upper-cased and mangled.
pub fn camel_to_upper(value: &str) -> String {
    let mut chars = value.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut ret: Vec<char> = vec![first];
    let mut upc = first.is_uppercase();
    for ch in chars {
        if ch.is_uppercase() != upc {
            if upc {
                if ret.len() > 2 && ret[ret.len() - 2].is_alphanumeric() {
                    let last = ret.pop().expect("ret holds at least three chars");
                    ret.push('_');
                    ret.push(last);
                }
            } else if ret.last().is_some_and(|c| c.is_alphanumeric()) {
                ret.push('_');
            }
        }
        ret.push(ch);
        upc = ch.is_uppercase();
    }
    let upper: String = ret.into_iter().collect::<String>().to_uppercase();
    c_name(&upper, true).trim_start_matches('_').to_string()
}

/// QEMU's `c_enum_const(type, value, prefix)`.
pub fn c_enum_const(type_name: &str, value: &str, prefix: Option<&str>) -> String {
    let prefix = match prefix {
        Some(p) => p.to_string(),
        None => camel_to_upper(type_name),
    };
    format!("{prefix}_{}", c_name(value, false).to_uppercase())
}

/// QEMU's `valid_name` pattern `(__[a-z0-9.-]+_)?(x-)?([a-z][a-z0-9_-]*)$`
/// (case-insensitive, anchored).  Returns the stem (the last group).
pub fn valid_name_stem(name: &str) -> Option<&str> {
    let b = name.as_bytes();
    let mut rest = 0;
    if b.starts_with(b"__") {
        let run = b[2..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'.' || *c == b'-'))
            .unwrap_or(b.len() - 2);
        if run == 0 || b.get(2 + run) != Some(&b'_') {
            return None;
        }
        rest = 3 + run;
    }
    let stem_ok = |s: &[u8]| {
        matches!(s.first(), Some(c) if c.is_ascii_alphabetic())
            && s[1..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    };
    let r = &b[rest..];
    if r.len() >= 2 && r[..2].eq_ignore_ascii_case(b"x-") && stem_ok(&r[2..]) {
        return Some(&name[rest + 2..]);
    }
    if stem_ok(r) {
        return Some(&name[rest..]);
    }
    None
}

/// Member names QEMU reserves: `u` and `has_*` (after C mangling), which
/// would collide with its generated C.
pub fn is_reserved_member_name(name: &str) -> bool {
    let mut cs = name.chars().map(c_char);
    let first4: Vec<char> = cs.by_ref().take(4).collect();
    (first4 == ['u'] && cs.next().is_none()) || first4 == ['h', 'a', 's', '_']
}

/// Why a name breaks a naming rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Not a valid QAPI name at all (`%s has an invalid name`).
    Invalid,
    /// Event-style rule broken (`name of %s must not use lowercase or '-'`).
    NotUpper,
    /// Member-style rule broken (`name of %s must not use uppercase or '_'`).
    NotLower,
    /// Type-style rule broken (`name of %s must use CamelCase`).
    NotCamel,
}

impl NameError {
    /// QEMU's message for `source` (e.g. `struct`, `'data' member 'x'`).
    pub fn message(self, source: &dyn std::fmt::Display) -> String {
        match self {
            NameError::Invalid => format!("{source} has an invalid name"),
            NameError::NotUpper => format!("name of {source} must not use lowercase or '-'"),
            NameError::NotLower => format!("name of {source} must not use uppercase or '_'"),
            NameError::NotCamel => format!("name of {source} must use CamelCase"),
        }
    }
}

/// QEMU's `check_name_str`: valid, and not in the reserved `q_` namespace.
pub fn check_name_str(name: &str) -> Result<&str, NameError> {
    match valid_name_stem(name) {
        Some(stem) if !c_name_starts_with_q_(name) => Ok(stem),
        _ => Err(NameError::Invalid),
    }
}

/// `c_name(name, false).startswith('q_')`, without building the C name.
fn c_name_starts_with_q_(name: &str) -> bool {
    let mut cs = name.chars();
    cs.next() == Some('q') && cs.next().is_some_and(|c| !c.is_ascii_alphanumeric())
}

/// Event names: no lower case, no `-`.
pub fn check_name_upper(name: &str) -> Result<(), NameError> {
    let stem = check_name_str(name)?;
    if stem.contains(|c: char| c.is_ascii_lowercase() || c == '-') {
        return Err(NameError::NotUpper);
    }
    Ok(())
}

/// Command and member names: no upper case, no `_` (unless permitted).
pub fn check_name_lower(
    name: &str,
    permit_upper: bool,
    permit_underscore: bool,
) -> Result<(), NameError> {
    let stem = check_name_str(name)?;
    if (!permit_upper && stem.contains(|c: char| c.is_ascii_uppercase()))
        || (!permit_underscore && stem.contains('_'))
    {
        return Err(NameError::NotLower);
    }
    Ok(())
}

/// Type names: CamelCase, `[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*`.
pub fn check_name_camel(name: &str) -> Result<(), NameError> {
    let stem = check_name_str(name)?.as_bytes();
    let first_upper = stem.first().is_some_and(u8::is_ascii_uppercase);
    let rest = stem.get(1..).unwrap_or_default();
    if !first_upper
        || !rest.iter().all(u8::is_ascii_alphanumeric)
        || !rest.iter().any(u8::is_ascii_lowercase)
    {
        return Err(NameError::NotCamel);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_names() {
        let cases = [
            ("static", true, "q_static"),
            ("default", true, "q_default"),
            ("wchar-t", true, "q_wchar_t"),
            ("1x", true, "q_1x"),
            ("x-foo", true, "x_foo"),
            ("__org.qemu_x-member1", true, "__org_qemu_x_member1"),
            ("Static", true, "Static"),
            ("type", true, "type"),
            ("static", false, "static"),
            ("", true, ""),
        ];
        for (name, protect, want) in cases {
            assert_eq!(c_name(name, protect), want, "{name}");
        }
    }

    #[test]
    fn camel_to_upper_like_qemu() {
        let cases = [
            ("MyEnum", "MY_ENUM"),
            ("QType", "QTYPE"),
            ("QKeyCode", "QKEY_CODE"),
            ("IOThreadInfo", "IO_THREAD_INFO"),
            ("X86CPURegister32", "X86_CPU_REGISTER32"),
            ("PCIELinkSpeed", "PCIE_LINK_SPEED"),
            ("HmatLBDataType", "HMAT_LB_DATA_TYPE"),
            ("__org.qemu_x-Enum", "ORG_QEMU_X_ENUM"),
            ("ENUM_NAME", "ENU_M_NAME"),
        ];
        for (name, want) in cases {
            assert_eq!(camel_to_upper(name), want, "{name}");
        }
        assert_eq!(
            c_enum_const("PCIELinkSpeed", "2_5", None),
            "PCIE_LINK_SPEED_2_5"
        );
        assert_eq!(
            c_enum_const("__org.qemu_x-Enum", "__org.qemu_x-value", None),
            "ORG_QEMU_X_ENUM___ORG_QEMU_X_VALUE"
        );
    }

    #[test]
    fn valid_names() {
        let cases = [
            ("foo", Some("foo")),
            ("x-foo", Some("foo")),
            ("X-Foo", Some("Foo")),
            ("x-1a", Some("x-1a")),
            ("__org.qemu_x-foo", Some("foo")),
            ("__com.redhat_foo", Some("foo")),
            ("__ORG.QEMU_Foo", Some("Foo")),
            ("__foo", None),
            ("_foo", None),
            ("1foo", None),
            ("foo bar", None),
            ("*foo", None),
            ("", None),
            ("not\\possible", None),
        ];
        for (name, want) in cases {
            assert_eq!(valid_name_stem(name), want, "{name}");
        }
    }

    #[test]
    fn reserved_member_names() {
        let cases = [
            ("u", true),
            ("has-x", true),
            ("has_x", true),
            ("has", false),
            ("hasx", false),
            ("us", false),
            ("x", false),
        ];
        for (name, want) in cases {
            assert_eq!(is_reserved_member_name(name), want, "{name}");
        }
    }

    #[test]
    fn name_rules() {
        assert_eq!(check_name_str("q-unix"), Err(NameError::Invalid));
        assert_eq!(check_name_str("q_unix"), Err(NameError::Invalid));
        assert_eq!(check_name_str("Q-unix"), Ok("Q-unix"));
        assert_eq!(check_name_str("q.x"), Err(NameError::Invalid));
        assert_eq!(check_name_str("qx"), Ok("qx"));
        assert_eq!(check_name_upper("EVENT_A"), Ok(()));
        assert_eq!(check_name_upper("oops"), Err(NameError::NotUpper));
        assert_eq!(check_name_lower("a-b", false, false), Ok(()));
        assert_eq!(
            check_name_lower("a_b", false, false),
            Err(NameError::NotLower)
        );
        assert_eq!(check_name_lower("a_b", false, true), Ok(()));
        assert_eq!(
            check_name_lower("Arg", false, false),
            Err(NameError::NotLower)
        );
        assert_eq!(check_name_camel("FooBar"), Ok(()));
        assert_eq!(check_name_camel("FOO"), Err(NameError::NotCamel));
        assert_eq!(check_name_camel("not-a-camel"), Err(NameError::NotCamel));
        assert_eq!(check_name_camel("X86CPU"), Err(NameError::NotCamel));
    }
}
