//! Clash checks: which names collide once QEMU makes C names of them, and
//! how QEMU describes the two (`member 'a-b' collides with member 'a_b'`).

use super::*;

/// What a name in a clash check stands for (QEMU's `describe`).
#[derive(Clone, Copy)]
pub(super) struct Desc<'a> {
    role: &'static str,
    name: &'a str,
    defined_in: &'a str,
    /// Hash of the C name (see [`c_name_key`]): equal C names, equal keys.
    key: u64,
    /// Where the name is written, for the snippet.
    span: Option<crate::source::Span>,
}

impl<'a> Desc<'a> {
    pub(super) fn new(role: &'static str, name: &'a str, defined_in: &'a str) -> Desc<'a> {
        Desc {
            role,
            name,
            defined_in,
            key: c_name_key(name),
            span: None,
        }
    }

    pub(super) fn of(m: &'a Member) -> Desc<'a> {
        Desc {
            span: m.span,
            ..Desc::new(m.role.as_str(), &m.name, &m.defined_in)
        }
    }

    pub(super) fn feature(f: &'a Feature, owner: &'a str) -> Desc<'a> {
        Desc {
            span: f.span,
            ..Desc::new("feature", &f.name, owner)
        }
    }
}

/// A hash of a name's C name that ignores QEMU's `q_` protection prefix:
/// names with the same C name always get the same key, so a key mismatch
/// rules a clash out and only key matches need [`same_c_name`].
pub(super) fn c_name_key(name: &str) -> u64 {
    let mut chars = name.chars().map(c_char);
    let mut first = [chars.next(), chars.next()];
    if first == [Some('q'), Some('_')] {
        first = [None, None];
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in first.into_iter().flatten().chain(chars) {
        h = (h ^ u64::from(u32::from(c))).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Names seen so far in a clash check.  Small sets (most objects) are
/// scanned; past [`Seen::INDEX_FROM`] names a hash set of keys keeps wide
/// unions and huge enums linear.
#[derive(Clone, Default)]
pub(super) struct Seen<'d> {
    list: Vec<Desc<'d>>,
    keys: Option<rustc_hash::FxHashSet<u64>>,
}

impl<'d> Seen<'d> {
    const INDEX_FROM: usize = 32;

    pub(super) fn with_capacity(n: usize) -> Self {
        Seen {
            list: Vec::with_capacity(n),
            keys: None,
        }
    }

    /// An earlier name with the same C name as `d`.
    pub(super) fn find(&self, d: Desc<'d>) -> Option<Desc<'d>> {
        if let Some(keys) = &self.keys {
            if !keys.contains(&d.key) {
                return None;
            }
        }
        self.list
            .iter()
            .find(|o| o.key == d.key && same_c_name(o.name, d.name))
            .copied()
    }

    pub(super) fn push(&mut self, d: Desc<'d>) {
        self.list.push(d);
        match &mut self.keys {
            Some(keys) => {
                keys.insert(d.key);
            }
            None if self.list.len() >= Self::INDEX_FROM => {
                self.keys = Some(self.list.iter().map(|d| d.key).collect());
            }
            None => {}
        }
    }
}

/// Whether two names have the same C name (`c_name(a) == c_name(b)`),
/// without building either.
pub(super) fn same_c_name(a: &str, b: &str) -> bool {
    if !(a.is_ascii() && b.is_ascii()) {
        return c_name(a, true) == c_name(b, true);
    }
    if a.len() == b.len() {
        return a.chars().map(c_char).eq(b.chars().map(c_char));
    }
    // Protection adds `q_`, so `static` and `q-static` meet as `q_static`.
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    short.len() + 2 == long.len() && long.starts_with('q') && c_name(a, true) == c_name(b, true)
}

impl Checker<'_> {
    /// QEMU's `QAPISchemaMember.describe(info)`.
    pub(super) fn describe(&self, d: Desc<'_>, info: Info) -> String {
        if !self.s.rules.member_owner_described {
            return self.describe_before_8_1(d, info);
        }
        let mut role = std::borrow::Cow::Borrowed(d.role);
        let mut meta = "type";
        let mut defined_in = d.defined_in;
        if let Some(rest) = defined_in.strip_prefix("q_obj_") {
            if let Some(cmd) = rest.strip_suffix("-arg") {
                role = "parameter".into();
                meta = "command";
                defined_in = cmd;
            } else if let Some(base) = rest.strip_suffix("-base") {
                role = format!("base {role}").into();
                defined_in = base;
            } else {
                defined_in = rest;
            }
        }
        if Some(defined_in) != self.s.sources.defn_name(info) {
            return format!("{role} '{}' of {meta} '{defined_in}'", d.name);
        }
        format!("{role} '{}'", d.name)
    }

    /// `describe` until 8.1: members of implicit types name no owner.
    pub(super) fn describe_before_8_1(&self, d: Desc<'_>, info: Info) -> String {
        if let Some(rest) = d.defined_in.strip_prefix("q_obj_") {
            let role = if rest.ends_with("-arg") {
                "parameter".to_string()
            } else if rest.ends_with("-base") {
                format!("base {}", d.role)
            } else {
                d.role.to_string()
            };
            return format!("{role} '{}'", d.name);
        }
        if Some(d.defined_in) != self.s.sources.defn_name(info) {
            return format!("{} '{}' of type '{}'", d.role, d.name, d.defined_in);
        }
        format!("{} '{}'", d.role, d.name)
    }

    /// QEMU's `%s collides with %s`.
    pub(super) fn collision(&self, info: Info, d: Desc<'_>, other: Desc<'_>) -> Error {
        self.err_at(
            info,
            d.span,
            &format!(
                "{} collides with {}",
                self.describe(d, info),
                self.describe(other, info)
            ),
        )
    }

    /// Adds `d` to `seen`, failing when a name with the same C name is
    /// there already.
    pub(super) fn clash<'d>(&self, info: Info, seen: &mut Seen<'d>, d: Desc<'d>) -> Result<()> {
        if let Some(other) = seen.find(d) {
            return Err(self.collision(info, d, other));
        }
        seen.push(d);
        Ok(())
    }

    pub(super) fn check_feature_clash(
        &self,
        info: Info,
        features: &[Feature],
        owner: &str,
    ) -> Result<()> {
        let mut seen = Seen::with_capacity(features.len());
        for f in features {
            self.clash(info, &mut seen, Desc::feature(f, owner))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_c_names_have_equal_keys() {
        let pairs = [
            ("a-b", "a_b", true),
            ("a.b", "a-b", true),
            ("static", "q-static", true),
            ("1x", "q_1x", true),
            ("\u{e9}", "_", true),
            ("ab", "a_b", false),
            ("static", "Static", false),
        ];
        for (a, b, same) in pairs {
            assert_eq!(same_c_name(a, b), same, "{a} {b}");
            assert_eq!(c_name(a, true) == c_name(b, true), same, "{a} {b}");
            if same {
                assert_eq!(c_name_key(a), c_name_key(b), "{a} {b}");
            }
        }
    }
}
