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

mod clash;
mod connect;
mod modules;

use clash::{same_c_name, Desc, Seen};

/// How deep a chain of bases and branch types may go before we give up.
/// QEMU's own schemas nest three deep; QEMU itself runs out of Python's
/// recursion limit somewhere past 200.  At 100 the recursion fits a 2 MiB
/// thread stack even in a debug build.
const MAX_OBJECT_DEPTH: usize = 100;

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
}
