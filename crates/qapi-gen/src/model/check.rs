//! Stages 4–6: semantic checks (QEMU's `QAPISchema.check`).
//!
//! Each entity in definition order is checked, then its doc block is
//! connected; then entities are placed in modules, doc blocks are checked
//! for descriptions of things that do not exist, and the number of distinct
//! features is bounded.

use std::collections::HashMap;

use crate::check::names::c_name;
use crate::error::{Error, Result};
use crate::source::Info;

use super::build::module_name;
use super::*;

/// How deep a chain of bases and branch types may go before we give up
/// (QEMU would exhaust Python's recursion limit instead).
const MAX_OBJECT_DEPTH: usize = 500;

/// What a name in a clash check stands for (QEMU's `describe`).
#[derive(Clone)]
struct Desc {
    role: &'static str,
    name: String,
    defined_in: String,
}

impl Desc {
    fn of(m: &Member) -> Desc {
        Desc {
            role: m.role.as_str(),
            name: m.name.clone(),
            defined_in: m.defined_in.clone(),
        }
    }

    fn feature(f: &Feature, owner: &str) -> Desc {
        Desc {
            role: "feature",
            name: f.name.clone(),
            defined_in: owner.to_string(),
        }
    }
}

/// Members seen so far, by C name, in order.
#[derive(Clone, Default)]
struct Seen {
    order: Vec<Member>,
    by_cname: HashMap<String, Desc>,
}

pub(super) fn check_schema(
    schema: &mut Schema,
    module_index: &HashMap<String, ModuleId>,
    schema_dir: &str,
    feature_infos: &[Option<Info>],
) -> Result<()> {
    let mut c = Checker {
        s: schema,
        depth: 0,
    };
    for i in 0..c.s.entities.len() {
        let id = EntityId(i as u32);
        c.check_entity(id)?;
        c.connect_doc(id)?;
    }
    c.set_modules(module_index, schema_dir);
    c.check_docs()?;
    if c.s.feature_names.len() > 64 {
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

    fn ent(&self, id: EntityId) -> &Entity {
        &self.s.entities[id.0 as usize]
    }

    fn ent_mut(&mut self, id: EntityId) -> &mut Entity {
        &mut self.s.entities[id.0 as usize]
    }

    fn obj_mut(&mut self, id: EntityId) -> &mut ObjectType {
        match &mut self.ent_mut(id).kind {
            EntityKind::Object(o) => o,
            _ => unreachable!("caller checked the entity is an object"),
        }
    }

    /// QEMU's `QAPISchemaMember.describe(info)`.
    fn describe(&self, d: &Desc, info: Info) -> String {
        let mut role = d.role.to_string();
        let mut meta = "type";
        let mut defined_in = d.defined_in.as_str();
        if let Some(rest) = defined_in.strip_prefix("q_obj_") {
            if let Some(cmd) = rest.strip_suffix("-arg") {
                role = "parameter".to_string();
                meta = "command";
                defined_in = cmd;
            } else if let Some(base) = rest.strip_suffix("-base") {
                role = format!("base {role}");
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

    fn clash(&self, info: Info, seen: &mut HashMap<String, Desc>, d: Desc) -> Result<()> {
        let cname = c_name(&d.name, true);
        if let Some(other) = seen.get(&cname) {
            return Err(self.err(
                info,
                &format!(
                    "{} collides with {}",
                    self.describe(&d, info),
                    self.describe(other, info)
                ),
            ));
        }
        seen.insert(cname, d);
        Ok(())
    }

    fn check_feature_clash(&self, info: Info, features: &[Feature], owner: &str) -> Result<()> {
        let mut seen = HashMap::new();
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

    /// Resolves a member's type and checks its features.
    fn check_member(&self, m: &mut Member) -> Result<()> {
        let info = m.info.expect("members of checked types have a location");
        let d = Desc::of(m);
        let id = self.resolve_type(&m.type_name, m.info, || self.describe(&d, info))?;
        m.ty = Some(id);
        self.check_feature_clash(info, &m.features, &m.name)
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
        let mut seen = HashMap::new();
        for m in members {
            let d = Desc {
                role: "value",
                name: m.name.clone(),
                defined_in: e.name.clone(),
            };
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
        if let EntityKind::Array { element, .. } = &mut self.ent_mut(id).kind {
            *element = Some(elem);
        }
        Ok(())
    }

    fn check_object(&mut self, id: EntityId) -> Result<()> {
        let e = self.ent(id);
        let EntityKind::Object(o) = &e.kind else {
            unreachable!()
        };
        if o.members.is_some() {
            return Ok(());
        }
        let name = e.name.clone();
        let info = e.info;
        if o.checking {
            let info = info.expect("q_empty cannot contain itself");
            return Err(self.err(info, &format!("object {name} contains itself")));
        }
        if self.depth >= MAX_OBJECT_DEPTH {
            let info = info.expect("deep objects are user objects");
            return Err(self.err(
                info,
                &format!("type '{name}' nests bases or branches more than {MAX_OBJECT_DEPTH} deep"),
            ));
        }
        self.check_definition_features(id)?;
        self.obj_mut(id).checking = true;
        let Some(info) = info else {
            // q_empty: nothing to check.
            self.obj_mut(id).members = Some(Vec::new());
            return Ok(());
        };
        let mut seen = Seen::default();
        let base_name = self.obj_mut(id).base_name.clone();
        if let Some(base_name) = base_name {
            let base = self.resolve_type(&base_name, Some(info), || "'base'".to_string())?;
            let be = self.ent(base);
            let is_struct = be.as_object().is_some_and(|o| o.branches.is_none());
            if !is_struct {
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
            let base_members = self
                .ent(base)
                .as_object()
                .and_then(|o| o.members.clone())
                .unwrap_or_default();
            for m in base_members {
                self.clash(info, &mut seen.by_cname, Desc::of(&m))?;
                seen.order.push(m);
            }
        }
        let mut locals = std::mem::take(&mut self.obj_mut(id).local_members);
        let mut result = Ok(());
        for m in locals.iter_mut() {
            result = self
                .check_member(m)
                .and_then(|_| self.clash(info, &mut seen.by_cname, Desc::of(m)));
            if result.is_err() {
                break;
            }
            seen.order.push(m.clone());
        }
        self.obj_mut(id).local_members = locals;
        result?;
        if self.obj_mut(id).branches.is_some() {
            self.check_branches(id, info, &seen)?;
        }
        self.obj_mut(id).members = Some(seen.order);
        Ok(())
    }

    fn check_branches(&mut self, id: EntityId, info: Info, seen: &Seen) -> Result<()> {
        let tag_name = self
            .obj_mut(id)
            .branches
            .as_ref()
            .expect("union")
            .tag_name
            .clone();
        let tag = seen
            .order
            .iter()
            .find(|m| c_name(&m.name, true) == c_name(&tag_name, true))
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
        let values: Vec<(String, Option<crate::check::ast::IfCond>)> = values
            .iter()
            .map(|v| (v.name.clone(), v.ifcond.clone()))
            .collect();
        let enum_desc = self.ent(tag_type).describe();
        let mut variants = {
            let b = self.obj_mut(id).branches.as_mut().expect("union");
            b.tag_member = Some(tag.clone());
            std::mem::take(&mut b.variants)
        };
        for (v, ifcond) in &values {
            if !variants.iter().any(|b| &b.name == v) {
                variants.push(Member {
                    name: v.clone(),
                    info: Some(info),
                    type_name: "q_empty".to_string(),
                    ty: None,
                    optional: false,
                    ifcond: ifcond.clone(),
                    features: Vec::new(),
                    defined_in: tag.defined_in.clone(),
                    role: Role::Branch,
                    doc: None,
                });
            }
        }
        let result = self.check_variants(info, &mut variants, &values, &enum_desc, seen);
        self.obj_mut(id).branches.as_mut().expect("union").variants = variants;
        result
    }

    fn check_variants(
        &mut self,
        info: Info,
        variants: &mut [Member],
        values: &[(String, Option<crate::check::ast::IfCond>)],
        enum_desc: &str,
        seen: &Seen,
    ) -> Result<()> {
        if variants.is_empty() {
            return Err(self.err(info, "union has no branches"));
        }
        for v in variants.iter_mut() {
            self.check_member(v)?;
            if !values.iter().any(|(n, _)| *n == v.name) {
                return Err(self.err(
                    info,
                    &format!("branch '{}' is not a value of {enum_desc}", v.name),
                ));
            }
            let ty = v.type_id();
            if self.ent(ty).as_object().is_none() {
                return Err(self.err(
                    info,
                    &format!(
                        "{} cannot use {}",
                        self.describe(&Desc::of(v), info),
                        self.ent(ty).describe()
                    ),
                ));
            }
            self.depth += 1;
            let r = self.check_object(ty);
            self.depth -= 1;
            r?;
        }
        for v in variants.iter() {
            let mut s = seen.by_cname.clone();
            self.check_object_clash(v.type_id(), info, &mut s, 0)?;
        }
        Ok(())
    }

    /// QEMU's `QAPISchemaObjectType.check_clash`: the type's members, and
    /// each of its branches', against `seen`.
    fn check_object_clash(
        &self,
        id: EntityId,
        info: Info,
        seen: &mut HashMap<String, Desc>,
        depth: usize,
    ) -> Result<()> {
        let o = self.ent(id).as_object().expect("branch types are objects");
        for m in o.members.as_deref().unwrap_or_default() {
            self.clash(info, seen, Desc::of(m))?;
        }
        if let Some(b) = &o.branches {
            if depth >= MAX_OBJECT_DEPTH {
                return Ok(());
            }
            for v in &b.variants {
                let mut s = seen.clone();
                self.check_object_clash(v.type_id(), info, &mut s, depth + 1)?;
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
        } = &mut self.ent_mut(id).kind
        else {
            unreachable!()
        };
        let mut tag = tag_member.clone();
        let mut variants = std::mem::take(variants);
        let result = self.check_alternatives(info, &mut tag, &mut variants);
        if let EntityKind::Alternate {
            tag_member,
            variants: v,
        } = &mut self.ent_mut(id).kind
        {
            *tag_member = tag;
            *v = variants;
        }
        result
    }

    fn check_alternatives(
        &mut self,
        info: Info,
        tag: &mut Member,
        variants: &mut [Member],
    ) -> Result<()> {
        self.check_member(tag)?;
        for v in variants.iter_mut() {
            self.check_member(v)?;
        }
        let mut seen = HashMap::new();
        // QType claimed → (index of the branch that claimed it, its name)
        let mut types_seen: HashMap<&'static str, (usize, String)> = HashMap::new();
        for (i, v) in variants.iter().enumerate() {
            self.clash(info, &mut seen, Desc::of(v))?;
            let ty = self.ent(v.type_id());
            let qtype = match ty.json_type() {
                Some("null") => "QTYPE_QNULL",
                Some("string") => "QTYPE_QSTRING",
                Some("number") | Some("int") => "QTYPE_QNUM",
                Some("boolean") => "QTYPE_QBOOL",
                Some("array") => "QTYPE_QLIST",
                Some("object") => "QTYPE_QDICT",
                _ => {
                    return Err(self.err(
                        info,
                        &format!(
                            "{} cannot use {}",
                            self.describe(&Desc::of(v), info),
                            ty.describe()
                        ),
                    ))
                }
            };
            let mut conflicting = vec![qtype];
            if qtype == "QTYPE_QSTRING" {
                if let EntityKind::Enum { members, .. } = &ty.kind {
                    if members.iter().any(|m| m.name == "on" || m.name == "off") {
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
            if let Some((_, other)) = conflicting
                .iter()
                .filter_map(|qt| types_seen.get(qt))
                .min_by_key(|(i, _)| *i)
            {
                return Err(self.err(
                    info,
                    &format!(
                        "{} can't be distinguished from '{other}'",
                        self.describe(&Desc::of(v), info)
                    ),
                ));
            }
            for qt in conflicting {
                types_seen.insert(qt, (i, v.name.clone()));
            }
        }
        Ok(())
    }

    fn has_conditional_members(&self, id: EntityId) -> bool {
        self.ent(id)
            .as_object()
            .and_then(|o| o.members.as_ref())
            .is_some_and(|ms| ms.iter().any(|m| m.ifcond.is_some()))
    }

    /// Shared by commands and events: the argument type.
    fn check_arg_type(
        &mut self,
        id: EntityId,
        what: &str,
        name: Option<String>,
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
            if !self.s.pragma.command_returns_exceptions.contains(&name) {
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
        let excepted = self.s.pragma.documentation_exceptions.contains(&symbol);
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
            EntityKind::Command(c) => match implicit_of(self, c.arg_type) {
                Some(a) => self.connect_object_members(d, excepted, a),
                None => Ok(()),
            },
            EntityKind::Event(e) => match implicit_of(self, e.arg_type) {
                Some(a) => self.connect_object_members(d, excepted, a),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn connect_features(&mut self, d: usize, features: &mut [Feature]) -> Result<()> {
        for f in features.iter_mut() {
            if !self.s.docs[d].connect_feature(&f.name) {
                let info = f
                    .info
                    .expect("features of documented things have a location");
                return Err(self.err(info, &format!("feature '{}' lacks documentation", f.name)));
            }
            f.doc = self.s.docs[d]
                .feature(&f.name)
                .map(|s| s.text.clone())
                .filter(|t| !t.is_empty());
        }
        Ok(())
    }

    fn connect_one(
        &mut self,
        d: usize,
        excepted: bool,
        role: Role,
        name: &str,
        info: Option<Info>,
    ) -> Result<Option<String>> {
        if !self.s.docs[d].connect_member(name, excepted) {
            let info = info.expect("members of documented things have a location");
            return Err(self.err(
                info,
                &format!("{} '{name}' lacks documentation", role.as_str()),
            ));
        }
        Ok(self.s.docs[d]
            .arg(name)
            .map(|s| s.text.clone())
            .filter(|t| !t.is_empty()))
    }

    fn connect_enum_values(
        &mut self,
        d: usize,
        excepted: bool,
        members: &mut [EnumMember],
    ) -> Result<()> {
        for m in members.iter_mut() {
            m.doc = self.connect_one(d, excepted, Role::Value, &m.name, m.info)?;
            self.connect_features(d, &mut m.features)?;
        }
        Ok(())
    }

    fn connect_members(&mut self, d: usize, excepted: bool, members: &mut [Member]) -> Result<()> {
        for m in members.iter_mut() {
            m.doc = self.connect_one(d, excepted, m.role, &m.name, m.info)?;
            self.connect_features(d, &mut m.features)?;
        }
        Ok(())
    }

    fn connect_object_members(&mut self, d: usize, excepted: bool, id: EntityId) -> Result<()> {
        let mut locals = std::mem::take(&mut self.obj_mut(id).local_members);
        let r = self.connect_members(d, excepted, &mut locals);
        // Keep the flattened copies in step with the documented locals.
        let o = self.obj_mut(id);
        if let Some(all) = o.members.as_mut() {
            for m in all.iter_mut() {
                if let Some(l) = locals
                    .iter()
                    .find(|l| l.name == m.name && l.defined_in == m.defined_in)
                {
                    m.doc = l.doc.clone();
                    m.features = l.features.clone();
                }
            }
        }
        o.local_members = locals;
        r
    }

    fn set_modules(&mut self, module_index: &HashMap<String, ModuleId>, schema_dir: &str) {
        let builtin = module_index[&module_name(None, schema_dir)];
        let by_file: Vec<ModuleId> = self
            .s
            .sources
            .files()
            .iter()
            .map(|f| module_index[&module_name(Some(&f.name), schema_dir)])
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
        // Flattened members of objects whose base was documented after
        // they were flattened pick up the base's descriptions now.
        for i in 0..self.s.entities.len() {
            let Some(o) = self.s.entities[i].as_object() else {
                continue;
            };
            let Some(base) = o.base else { continue };
            let base_members = self
                .ent(base)
                .as_object()
                .and_then(|b| b.members.clone())
                .unwrap_or_default();
            if let EntityKind::Object(o) = &mut self.s.entities[i].kind {
                if let Some(all) = o.members.as_mut() {
                    for m in all.iter_mut() {
                        if let Some(b) = base_members
                            .iter()
                            .find(|b| b.name == m.name && b.defined_in == m.defined_in)
                        {
                            if m.doc.is_none() {
                                m.doc = b.doc.clone();
                            }
                        }
                    }
                }
            }
        }
    }

    fn check_docs(&self) -> Result<()> {
        for doc in &self.s.docs {
            for (features, what) in [(false, "member"), (true, "feature")] {
                let bogus = doc.unconnected(features);
                if let Some((_, info)) = bogus.first() {
                    let names: Vec<&str> = bogus.iter().map(|(n, _)| *n).collect();
                    let msg = if names.len() > 1 {
                        format!("documented {what}s '{}' do not exist", names.join("', '"))
                    } else {
                        format!("documented {what} '{}' does not exist", names[0])
                    };
                    return Err(self.err(*info, &msg));
                }
            }
        }
        Ok(())
    }
}
