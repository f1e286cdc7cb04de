//! Stages 4–6: semantic checks (QEMU's `QAPISchema.check`).
//!
//! Each entity in definition order is checked, then its doc block is
//! connected; then entities are placed in modules, doc blocks are checked
//! for descriptions of things that do not exist, and the number of distinct
//! features is bounded.

use std::collections::HashMap;

use crate::check::names::{c_char, c_name};
use crate::error::{Error, Result};
use crate::source::Info;

use super::*;

/// How deep a chain of bases and branch types may go before we give up.
/// QEMU's own schemas nest three deep; QEMU itself runs out of Python's
/// recursion limit somewhere past 200.  At 100 the recursion fits a 2 MiB
/// thread stack even in a debug build.
const MAX_OBJECT_DEPTH: usize = 100;

/// What a name in a clash check stands for (QEMU's `describe`).
#[derive(Clone, Copy)]
struct Desc<'a> {
    role: &'static str,
    name: &'a str,
    defined_in: &'a str,
    /// Hash of the C name (see [`c_name_key`]): equal C names, equal keys.
    key: u64,
    /// Where the name is written, for the snippet.
    span: Option<crate::source::Span>,
}

impl<'a> Desc<'a> {
    fn new(role: &'static str, name: &'a str, defined_in: &'a str) -> Desc<'a> {
        Desc {
            role,
            name,
            defined_in,
            key: c_name_key(name),
            span: None,
        }
    }

    fn of(m: &'a Member) -> Desc<'a> {
        Desc {
            span: m.span,
            ..Desc::new(m.role.as_str(), &m.name, &m.defined_in)
        }
    }

    fn feature(f: &'a Feature, owner: &'a str) -> Desc<'a> {
        Desc {
            span: f.span,
            ..Desc::new("feature", &f.name, owner)
        }
    }
}

/// A hash of a name's C name that ignores QEMU's `q_` protection prefix:
/// names with the same C name always get the same key, so a key mismatch
/// rules a clash out and only key matches need [`same_c_name`].
fn c_name_key(name: &str) -> u64 {
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
struct Seen<'d> {
    list: Vec<Desc<'d>>,
    keys: Option<rustc_hash::FxHashSet<u64>>,
}

impl<'d> Seen<'d> {
    const INDEX_FROM: usize = 32;

    fn with_capacity(n: usize) -> Self {
        Seen {
            list: Vec::with_capacity(n),
            keys: None,
        }
    }

    /// An earlier name with the same C name as `d`.
    fn find(&self, d: Desc<'d>) -> Option<Desc<'d>> {
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

    fn push(&mut self, d: Desc<'d>) {
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
fn same_c_name(a: &str, b: &str) -> bool {
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

pub(super) fn check_schema(
    schema: &mut Schema,
    module_by_path: &HashMap<String, ModuleId>,
    feature_infos: &[Option<Info>],
) -> Result<()> {
    let mut c = Checker {
        s: schema,
        depth: 0,
    };
    let deferred = c.s.rules.doc_errors_at_sections;
    for i in 0..c.s.entities.len() {
        let id = EntityId(i as u32);
        c.check_entity(id)?;
        c.connect_doc(id)?;
        // Until 9.0 each definition's doc is checked right after it, and
        // bogus descriptions are reported at the doc block's first line.
        if !deferred {
            if let Some(d) = c.ent(id).doc {
                c.check_doc(&c.s.docs[d], Some(c.s.docs[d].info))?;
            }
        }
    }
    c.set_modules(module_by_path);
    if deferred {
        for doc in &c.s.docs {
            c.check_doc(doc, None)?;
        }
    }
    if c.s.rules.feature_limit && c.s.feature_names.len() > 64 {
        let info = feature_infos[64].expect("user features have a location");
        return Err(c.err(info, "Maximum of 64 schema features is permitted"));
    }
    Ok(())
}

struct Checker<'a> {
    s: &'a mut Schema,
    depth: usize,
}

impl Checker<'_> {
    fn err(&self, info: Info, msg: &str) -> Error {
        Error::at(&self.s.sources, info, msg)
    }

    /// `err`, its snippet underlining the name at `span`.
    fn err_at(&self, info: Info, span: Option<crate::source::Span>, msg: &str) -> Error {
        let e = self.err(info, msg);
        match span {
            Some(sp) => e.pointing_at(&self.s.sources, sp),
            None => e,
        }
    }

    fn ent(&self, id: EntityId) -> &Entity {
        &self.s.entities[id.0 as usize]
    }

    fn ent_mut(&mut self, id: EntityId) -> &mut Entity {
        &mut self.s.entities[id.0 as usize]
    }

    fn obj(&self, id: EntityId) -> &ObjectType {
        self.ent(id)
            .as_object()
            .expect("caller checked the entity is an object")
    }

    fn obj_mut(&mut self, id: EntityId) -> &mut ObjectType {
        match &mut self.ent_mut(id).kind {
            EntityKind::Object(o) => o,
            _ => unreachable!("caller checked the entity is an object"),
        }
    }

    /// QEMU's `QAPISchemaMember.describe(info)`.
    fn describe(&self, d: Desc<'_>, info: Info) -> String {
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
    fn describe_before_8_1(&self, d: Desc<'_>, info: Info) -> String {
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
    fn collision(&self, info: Info, d: Desc<'_>, other: Desc<'_>) -> Error {
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
    fn clash<'d>(&self, info: Info, seen: &mut Seen<'d>, d: Desc<'d>) -> Result<()> {
        if let Some(other) = seen.find(d) {
            return Err(self.collision(info, d, other));
        }
        seen.push(d);
        Ok(())
    }

    fn check_feature_clash(&self, info: Info, features: &[Feature], owner: &str) -> Result<()> {
        let mut seen = Seen::with_capacity(features.len());
        for f in features {
            self.clash(info, &mut seen, Desc::feature(f, owner))?;
        }
        Ok(())
    }

    /// Features of a definition: no clashes; types take no special ones.
    fn check_definition_features(&self, id: EntityId) -> Result<()> {
        let e = self.ent(id);
        let Some(info) = e.info else { return Ok(()) };
        self.check_feature_clash(info, &e.features, &e.name)?;
        if e.is_type() {
            if let Some(f) = e.features.iter().find(|f| f.is_special()) {
                return Err(self.err(
                    info,
                    &format!("feature '{}' is not supported for types", f.name),
                ));
            }
        }
        Ok(())
    }

    fn resolve_type(
        &self,
        name: &str,
        info: Option<Info>,
        what: impl FnOnce() -> String,
    ) -> Result<EntityId> {
        match self.s.lookup(name).filter(|id| self.ent(*id).is_type()) {
            Some(id) => Ok(id),
            None => {
                let info = info.expect("built-in types always resolve");
                Err(self.err(info, &format!("{} uses unknown type '{name}'", what())))
            }
        }
    }

    /// Resolves a member's type and checks its features (QEMU's
    /// `QAPISchemaObjectTypeMember.check`).
    fn check_member(&self, m: &Member) -> Result<EntityId> {
        let info = m.info.expect("members of checked types have a location");
        let id = self
            .resolve_type(&m.type_name, m.info, || self.describe(Desc::of(m), info))
            .map_err(|e| match m.span {
                Some(sp) => e.pointing_at(&self.s.sources, sp),
                None => e,
            })?;
        self.check_feature_clash(info, &m.features, &m.name)?;
        Ok(id)
    }

    fn check_entity(&mut self, id: EntityId) -> Result<()> {
        match &self.ent(id).kind {
            EntityKind::Include { .. } | EntityKind::Builtin { .. } => Ok(()),
            EntityKind::Enum { .. } => self.check_enum(id),
            EntityKind::Array { .. } => self.check_array(id),
            EntityKind::Object(_) => self.check_object(id),
            EntityKind::Alternate { .. } => self.check_alternate(id),
            EntityKind::Command(_) => self.check_command(id),
            EntityKind::Event(_) => self.check_event(id),
        }
    }

    fn check_enum(&mut self, id: EntityId) -> Result<()> {
        self.check_definition_features(id)?;
        let e = self.ent(id);
        let EntityKind::Enum { members, .. } = &e.kind else {
            unreachable!()
        };
        let Some(info) = e.info else { return Ok(()) };
        let mut seen = Seen::with_capacity(members.len());
        for m in members {
            let d = Desc::new("value", &m.name, &e.name);
            self.clash(info, &mut seen, d)?;
        }
        Ok(())
    }

    fn check_array(&mut self, id: EntityId) -> Result<()> {
        let e = self.ent(id);
        let EntityKind::Array { element_name, .. } = &e.kind else {
            unreachable!()
        };
        let info = e.info;
        let what = info
            .and_then(|i| self.s.sources.defn_meta(i))
            .unwrap_or("array");
        let elem = self.resolve_type(element_name, info, || what.to_string())?;
        if let EntityKind::Array {
            element_name: inner,
            ..
        } = &self.ent(elem).kind
        {
            // QEMU 10.0.2 fails an assertion here; we report the problem.
            let info = info.expect("built-in arrays have built-in elements");
            return Err(self.err(
                info,
                &format!(
                    "{what} uses array type '{}' as an array element; arrays of arrays \
                     are not supported, wrap the inner array ['{inner}'] in a struct",
                    self.ent(elem).name
                ),
            ));
        }
        // An array has its element's condition (QEMU's ifcond property).
        let ifcond = self.ent(elem).ifcond.clone();
        let ent = self.ent_mut(id);
        ent.ifcond = ifcond;
        if let EntityKind::Array { element, .. } = &mut ent.kind {
            *element = Some(elem);
        }
        Ok(())
    }

    /// Flattened members of a checked object (base chain first).
    fn flat(&self, id: EntityId) -> Seen<'_> {
        let mut seen = Seen::default();
        for m in self.s.members(id) {
            seen.push(Desc::of(m));
        }
        seen
    }

    fn check_object(&mut self, id: EntityId) -> Result<()> {
        let e = self.ent(id);
        let EntityKind::Object(o) = &e.kind else {
            unreachable!()
        };
        match o.state {
            CheckState::Checked => return Ok(()),
            CheckState::Checking => {
                let info = e.info.expect("q_empty cannot contain itself");
                return Err(self.err(info, &format!("object {} contains itself", e.name)));
            }
            CheckState::Unchecked => {}
        }
        if self.depth >= MAX_OBJECT_DEPTH {
            let info = e.info.expect("deep objects are user objects");
            return Err(self.err(
                info,
                &format!(
                    "type '{}' nests bases or branches more than {MAX_OBJECT_DEPTH} deep",
                    e.name
                ),
            ));
        }
        let info = e.info;
        self.check_definition_features(id)?;
        self.obj_mut(id).state = CheckState::Checking;
        let Some(info) = info else {
            // q_empty: nothing to check.
            self.obj_mut(id).state = CheckState::Checked;
            return Ok(());
        };
        if let Some(base_name) = self.obj(id).base_name.clone() {
            let base = self.resolve_type(&base_name, Some(info), || "'base'".to_string())?;
            let be = self.ent(base);
            if be.as_object().is_none_or(|o| o.branches.is_some()) {
                return Err(self.err(
                    info,
                    &format!("'base' requires a struct type, {} isn't", be.describe()),
                ));
            }
            self.depth += 1;
            let r = self.check_object(base);
            self.depth -= 1;
            r?;
            self.obj_mut(id).base = Some(base);
        }
        // Each local member: resolve its type, then check it against the
        // members seen so far (base first), as QEMU interleaves the two.
        let types = {
            let o = self.obj(id);
            let mut seen = match o.base {
                Some(b) => self.flat(b),
                None => Seen::default(),
            };
            let mut types = Vec::with_capacity(o.local_members.len());
            for m in &o.local_members {
                types.push(self.check_member(m)?);
                self.clash(info, &mut seen, Desc::of(m))?;
            }
            types
        };
        for (m, t) in self.obj_mut(id).local_members.iter_mut().zip(types) {
            m.ty = Some(t);
        }
        if self.obj(id).branches.is_some() {
            self.check_branches(id, info)?;
        }
        self.obj_mut(id).state = CheckState::Checked;
        Ok(())
    }

    fn check_branches(&mut self, id: EntityId, info: Info) -> Result<()> {
        let tag_name = self
            .obj(id)
            .branches
            .as_ref()
            .expect("union")
            .tag_name
            .clone();
        let tag = self
            .s
            .members(id)
            .into_iter()
            .find(|m| same_c_name(&m.name, &tag_name))
            .filter(|m| m.name == tag_name)
            .cloned();
        let Some(tag) = tag else {
            return Err(self.err(
                info,
                &format!("discriminator '{tag_name}' is not a member of 'base'"),
            ));
        };
        let mut base = "'base'".to_string();
        if let Some(bt) = self.s.lookup(&tag.defined_in) {
            if !self.ent(bt).is_implicit() {
                base = format!("base type '{}'", tag.defined_in);
            }
        }
        let tag_type = tag.type_id();
        let EntityKind::Enum {
            members: values, ..
        } = &self.ent(tag_type).kind
        else {
            return Err(self.err(
                info,
                &format!("discriminator member '{tag_name}' of {base} must be of enum type"),
            ));
        };
        if tag.optional {
            return Err(self.err(
                info,
                &format!("discriminator member '{tag_name}' of {base} must not be optional"),
            ));
        }
        if tag.ifcond.is_some() {
            return Err(self.err(
                info,
                &format!("discriminator member '{tag_name}' of {base} must not be conditional"),
            ));
        }
        let implicit: Vec<Member> = values
            .iter()
            .filter(|v| {
                !self
                    .obj(id)
                    .branches
                    .as_ref()
                    .expect("union")
                    .variants
                    .iter()
                    .any(|b| b.name == v.name)
            })
            .map(|v| Member {
                name: v.name.clone(),
                info: Some(info),
                span: None,
                type_name: Name::from("q_empty"),
                ty: None,
                optional: false,
                ifcond: v.ifcond.clone(),
                features: Vec::new(),
                defined_in: tag.defined_in.clone(),
                role: Role::Branch,
                doc: None,
            })
            .collect();
        {
            let b = self.obj_mut(id).branches.as_mut().expect("union");
            b.variants.extend(implicit);
            b.tag_member = Some(tag);
        }
        let n = self
            .obj(id)
            .branches
            .as_ref()
            .expect("union")
            .variants
            .len();
        if n == 0 {
            return Err(self.err(info, "union has no branches"));
        }
        for i in 0..n {
            let ty = {
                let v = &self.obj(id).branches.as_ref().expect("union").variants[i];
                let ty = self.check_member(v)?;
                let EntityKind::Enum {
                    members: values, ..
                } = &self.ent(tag_type).kind
                else {
                    unreachable!()
                };
                if !values.iter().any(|e| e.name == v.name) {
                    let enum_desc = self.ent(tag_type).describe();
                    return Err(self.err(
                        info,
                        &format!("branch '{}' is not a value of {enum_desc}", v.name),
                    ));
                }
                let usable = match self.ent(ty).as_object() {
                    None => false,
                    Some(o) => o.branches.is_none() || self.s.rules.union_branches_may_be_unions,
                };
                if !usable {
                    return Err(self.err(
                        info,
                        &format!(
                            "{} cannot use {}",
                            self.describe(Desc::of(v), info),
                            self.ent(ty).describe()
                        ),
                    ));
                }
                ty
            };
            self.obj_mut(id).branches.as_mut().expect("union").variants[i].ty = Some(ty);
            self.depth += 1;
            let r = self.check_object(ty);
            self.depth -= 1;
            r?;
        }
        self.check_branch_clash(id, info)?;
        Ok(())
    }

    /// QEMU's `QAPISchemaVariants.check_clash`: the members of every
    /// branch type, and of their branch types at any depth, must not
    /// collide with the union's own members.
    ///
    /// QEMU walks every path through nested unions with a copy of the names
    /// seen so far, which takes time exponential in the nesting when unions
    /// share branch types.  Every type below was checked on its own before,
    /// so along any path only the union's own members can collide; the walk
    /// therefore needs to visit each type once, in QEMU's order (depth
    /// first, branches in order), and meets the same first collision.  An
    /// explicit stack keeps deep chains off the call stack.
    fn check_branch_clash(&self, id: EntityId, info: Info) -> Result<()> {
        let own = self.flat(id);
        let variants = &self.obj(id).branches.as_ref().expect("union").variants;
        let mut stack: Vec<EntityId> = variants.iter().rev().map(Member::type_id).collect();
        let mut visited = rustc_hash::FxHashSet::<EntityId>::default();
        while let Some(t) = stack.pop() {
            if !visited.insert(t) {
                continue;
            }
            for m in self.s.members(t) {
                let d = Desc::of(m);
                if let Some(other) = own.find(d) {
                    return Err(self.collision(info, d, other));
                }
            }
            if let Some(b) = &self.obj(t).branches {
                stack.extend(b.variants.iter().rev().map(Member::type_id));
            }
        }
        Ok(())
    }

    fn check_alternate(&mut self, id: EntityId) -> Result<()> {
        self.check_definition_features(id)?;
        let info = self.ent(id).info.expect("alternates are user definitions");
        let EntityKind::Alternate {
            tag_member,
            variants,
            ..
        } = &self.ent(id).kind
        else {
            unreachable!()
        };
        let tag_ty = self.check_member(tag_member)?;
        let mut types = Vec::with_capacity(variants.len());
        for v in variants {
            types.push(self.check_member(v)?);
        }
        let mut seen = Seen::with_capacity(variants.len());
        // QType claimed → (index of the branch that claimed it, its name)
        let mut types_seen: Vec<(&'static str, usize, &str)> = Vec::new();
        for (i, (v, t)) in variants.iter().zip(&types).enumerate() {
            self.clash(info, &mut seen, Desc::of(v))?;
            let ty = self.ent(*t);
            let Some(qtype) = ty.alternate_qtype() else {
                return Err(self.err(
                    info,
                    &format!(
                        "{} cannot use {}",
                        self.describe(Desc::of(v), info),
                        ty.describe()
                    ),
                ));
            };
            let mut conflicting = vec![qtype];
            if qtype == "QTYPE_QSTRING" {
                if let EntityKind::Enum { members, .. } = &ty.kind {
                    if members
                        .iter()
                        .any(|m| &*m.name == "on" || &*m.name == "off")
                    {
                        conflicting.push("QTYPE_QBOOL");
                    }
                    if members.iter().any(|m| {
                        m.name.starts_with(|c: char| {
                            c == '-' || c == '+' || c == '.' || c.is_ascii_digit()
                        })
                    }) {
                        conflicting.push("QTYPE_QNUM");
                    }
                } else {
                    conflicting.push("QTYPE_QNUM");
                    conflicting.push("QTYPE_QBOOL");
                }
            }
            // QEMU walks a Python set here, so with several earlier
            // conflicts the branch it names depends on the hash seed.  We
            // name the earliest conflicting branch, always.
            let earliest = types_seen
                .iter()
                .filter(|(qt, _, _)| conflicting.contains(qt))
                .min_by_key(|(_, i, _)| *i);
            if let Some((_, _, other)) = earliest {
                return Err(self.err(
                    info,
                    &format!(
                        "{} can't be distinguished from '{other}'",
                        self.describe(Desc::of(v), info)
                    ),
                ));
            }
            for qt in conflicting {
                types_seen.push((qt, i, &v.name));
            }
        }
        if let EntityKind::Alternate {
            tag_member,
            variants,
            ..
        } = &mut self.ent_mut(id).kind
        {
            tag_member.ty = Some(tag_ty);
            for (v, t) in variants.iter_mut().zip(types) {
                v.ty = Some(t);
            }
        }
        Ok(())
    }

    fn has_conditional_members(&self, id: EntityId) -> bool {
        self.s.members(id).iter().any(|m| m.ifcond.is_some())
    }

    /// Shared by commands and events: the argument type.
    fn check_arg_type(
        &mut self,
        id: EntityId,
        what: &str,
        name: Option<Name>,
        boxed: bool,
    ) -> Result<Option<EntityId>> {
        let Some(name) = name else { return Ok(None) };
        let info = self
            .ent(id)
            .info
            .expect("commands and events have a location");
        let arg = self.resolve_type(&name, Some(info), || format!("{what}'s 'data'"))?;
        let ae = self.ent(arg);
        let Some(o) = ae.as_object() else {
            return Err(self.err(
                info,
                &format!("{what}'s 'data' cannot take {}", ae.describe()),
            ));
        };
        if o.branches.is_some() && !boxed {
            return Err(self.err(
                info,
                &format!(
                    "{what}'s 'data' can take {} only with 'boxed': true",
                    ae.describe()
                ),
            ));
        }
        // Until 8.1 the argument type is checked only when the loop over
        // all entities reaches it.
        if !self.s.rules.conditional_args_need_boxed {
            return Ok(Some(arg));
        }
        self.check_object(arg)?;
        if self.has_conditional_members(arg) && !boxed {
            return Err(self.err(
                info,
                &format!("conditional {what} arguments require 'boxed': true"),
            ));
        }
        Ok(Some(arg))
    }

    fn check_command(&mut self, id: EntityId) -> Result<()> {
        self.check_definition_features(id)?;
        let e = self.ent(id);
        let info = e.info.expect("commands have a location");
        let name = e.name.clone();
        let EntityKind::Command(c) = &e.kind else {
            unreachable!()
        };
        let (arg_name, ret_name, boxed) =
            (c.arg_type_name.clone(), c.ret_type_name.clone(), c.boxed);
        let arg = self.check_arg_type(id, "command", arg_name, boxed)?;
        let mut ret = None;
        if let Some(ret_name) = ret_name {
            let r =
                self.resolve_type(&ret_name, Some(info), || "command's 'returns'".to_string())?;
            if !self
                .s
                .pragma
                .command_returns_exceptions
                .iter()
                .any(|e| **e == *name)
            {
                let re = self.ent(r);
                let elem = match &re.kind {
                    EntityKind::Array { element, .. } => *element,
                    _ => Some(r),
                };
                if elem.is_none_or(|t| self.ent(t).as_object().is_none()) {
                    return Err(self.err(
                        info,
                        &format!("command's 'returns' cannot take {}", re.describe()),
                    ));
                }
            }
            ret = Some(r);
        }
        if let EntityKind::Command(c) = &mut self.ent_mut(id).kind {
            c.arg_type = arg;
            c.ret_type = ret;
        }
        Ok(())
    }

    fn check_event(&mut self, id: EntityId) -> Result<()> {
        self.check_definition_features(id)?;
        let EntityKind::Event(ev) = &self.ent(id).kind else {
            unreachable!()
        };
        let (arg_name, boxed) = (ev.arg_type_name.clone(), ev.boxed);
        let arg = self.check_arg_type(id, "event", arg_name, boxed)?;
        if let EntityKind::Event(ev) = &mut self.ent_mut(id).kind {
            ev.arg_type = arg;
        }
        Ok(())
    }

    /// Connects the entity's doc block to its features and members (QEMU's
    /// `connect_doc`), and copies the descriptions into the model.
    fn connect_doc(&mut self, id: EntityId) -> Result<()> {
        let Some(d) = self.ent(id).doc else {
            return Ok(());
        };
        let symbol = self.s.docs[d].symbol.clone().unwrap_or_default();
        // Before 9.0 an undocumented member just gets an empty description.
        let excepted = !self.s.rules.member_docs_required
            || self.s.pragma.documentation_exceptions.contains(&symbol);
        let mut features = std::mem::take(&mut self.ent_mut(id).features);
        let r = self.connect_features(d, &mut features);
        self.ent_mut(id).features = features;
        r?;
        let implicit_of =
            |c: &Checker<'_>, t: Option<EntityId>| t.filter(|t| c.ent(*t).is_implicit());
        match &self.ent(id).kind {
            EntityKind::Enum { .. } => {
                let EntityKind::Enum { members, .. } = &mut self.ent_mut(id).kind else {
                    unreachable!()
                };
                let mut members = std::mem::take(members);
                let r = self.connect_enum_values(d, excepted, &mut members);
                if let EntityKind::Enum { members: m, .. } = &mut self.ent_mut(id).kind {
                    *m = members;
                }
                r
            }
            EntityKind::Object(o) => {
                let base = implicit_of(self, o.base);
                if let Some(b) = base {
                    self.connect_object_members(d, excepted, b)?;
                }
                self.connect_object_members(d, excepted, id)
            }
            EntityKind::Alternate { .. } => {
                let EntityKind::Alternate { variants, .. } = &mut self.ent_mut(id).kind else {
                    unreachable!()
                };
                let mut vs = std::mem::take(variants);
                let r = self.connect_members(d, excepted, &mut vs);
                if let EntityKind::Alternate { variants, .. } = &mut self.ent_mut(id).kind {
                    *variants = vs;
                }
                r
            }
            EntityKind::Command(c) => {
                let (arg, returns) = (c.arg_type, c.ret_type.is_some());
                if let Some(a) = implicit_of(self, arg) {
                    self.connect_object_members(d, excepted, a)?;
                }
                if returns && self.s.rules.returns_stub {
                    let info = self.ent(id).info.expect("commands have a location");
                    self.s.docs[d].ensure_returns(info);
                }
                Ok(())
            }
            EntityKind::Event(e) => match implicit_of(self, e.arg_type) {
                Some(a) => self.connect_object_members(d, excepted, a),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn connect_features(&mut self, d: usize, features: &mut [Feature]) -> Result<()> {
        for f in features.iter_mut() {
            let Some(i) = self.s.docs[d].connect_feature(&f.name) else {
                let info = f
                    .info
                    .expect("features of documented things have a location");
                let msg = format!("feature '{}' lacks documentation", f.name);
                return Err(self.err_at(info, f.span, &msg));
            };
            f.doc = Some(DocRef {
                doc: d as u32,
                section: i as u32,
            });
        }
        Ok(())
    }

    fn connect_one(
        &mut self,
        d: usize,
        excepted: bool,
        role: Role,
        name: &str,
        (info, span): (Option<Info>, Option<crate::source::Span>),
    ) -> Result<Option<DocRef>> {
        let Some(i) = self.s.docs[d].connect_member(name, excepted) else {
            let info = info.expect("members of documented things have a location");
            let msg = format!("{} '{name}' lacks documentation", role.as_str());
            return Err(self.err_at(info, span, &msg));
        };
        Ok(Some(DocRef {
            doc: d as u32,
            section: i as u32,
        }))
    }

    fn connect_enum_values(
        &mut self,
        d: usize,
        excepted: bool,
        members: &mut [EnumMember],
    ) -> Result<()> {
        for m in members.iter_mut() {
            m.doc = self.connect_one(d, excepted, Role::Value, &m.name, (m.info, m.span))?;
            self.connect_features(d, &mut m.features)?;
        }
        Ok(())
    }

    fn connect_members(&mut self, d: usize, excepted: bool, members: &mut [Member]) -> Result<()> {
        for m in members.iter_mut() {
            m.doc = self.connect_one(d, excepted, m.role, &m.name, (m.info, m.span))?;
            self.connect_features(d, &mut m.features)?;
        }
        Ok(())
    }

    fn connect_object_members(&mut self, d: usize, excepted: bool, id: EntityId) -> Result<()> {
        let mut locals = std::mem::take(&mut self.obj_mut(id).local_members);
        let r = self.connect_members(d, excepted, &mut locals);
        self.obj_mut(id).local_members = locals;
        r
    }

    /// Places each entity in the module of the file that defines it (arrays
    /// in their element's); built-ins in `./builtin`, the first module.
    fn set_modules(&mut self, module_by_path: &HashMap<String, ModuleId>) {
        let builtin = ModuleId(0);
        let by_file: Vec<ModuleId> = self
            .s
            .sources
            .files()
            .iter()
            .map(|f| module_by_path[&f.name])
            .collect();
        for i in 0..self.s.entities.len() {
            let e = &self.s.entities[i];
            let info = match &e.kind {
                EntityKind::Array { element, .. } => element.and_then(|el| self.ent(el).info),
                _ => e.info,
            };
            let m = info.map_or(builtin, |i| by_file[i.file.0 as usize]);
            self.s.entities[i].module = m;
            self.s.modules[m.0 as usize]
                .entities
                .push(EntityId(i as u32));
        }
    }

    /// QEMU's `QAPIDoc.check`: descriptions nothing claimed, reported at
    /// `at` or else at the first of them.
    fn check_doc(&self, doc: &crate::parse::Doc, at: Option<Info>) -> Result<()> {
        for (features, what) in [(false, "member"), (true, "feature")] {
            let bogus = doc.unconnected(features);
            if let Some((_, info)) = bogus.first() {
                let names: Vec<&str> = bogus.iter().map(|(n, _)| *n).collect();
                let msg = if names.len() > 1 {
                    format!("documented {what}s '{}' do not exist", names.join("', '"))
                } else {
                    format!("documented {what} '{}' does not exist", names[0])
                };
                return Err(self.err(at.unwrap_or(*info), &msg));
            }
        }
        Ok(())
    }
}

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
