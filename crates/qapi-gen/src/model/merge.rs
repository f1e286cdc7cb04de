//! Range bindings: one model for several QEMU releases
//! (`qapi-gen generate NEW --compatible-with OLD...`).
//!
//! [`merge`] folds the checked schemas of older releases into the newest
//! one, so that one set of Rust types decodes what every release sends
//! and says what each release accepts.  Names are the identity: an entity
//! of an older release that the merged schema has by name is merged into
//! it, the others are added.  What merging does, part by part:
//!
//! * **enum values, union branches, alternatives**: the union of the
//!   releases' (an older release's value is appended);
//! * **object members**: the union; a member stays required only if every
//!   release in which its type exists requires it, else it becomes
//!   optional ([`merge`]'s last step);
//! * **a member whose type differs** between releases: when both types
//!   are of one kind that can absorb the other (enum and enum, object and
//!   object, arrays of such), the older type is merged into the newer one,
//!   which then decodes both forms (QEMU renames types often:
//!   `QCryptoCipherAlgorithm` became `QCryptoCipherAlgo`); otherwise the
//!   member's type becomes a *forms* type ([`EntityKind::Alternate`] with
//!   `forms: true`) whose alternatives are the releases' types, newest
//!   first, a value taking the first that decodes it (`str` in 7.2,
//!   `JobType` later);
//! * **commands and events** of every release; a command whose arguments
//!   appeared later (or went away) gets arguments that are all optional.
//!
//! The [`Range`] attached to the result records, for each entity and each
//! member, value and branch, the releases that have it, for the docs and
//! for the constants clients read.  What cannot be merged (an older
//! release's union where the newest has a struct, a discriminator that
//! was a string) keeps the newest form and is listed in
//! [`Range::unmerged`].

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use super::{
    Branches, DocRef, Entity, EntityId, EntityKind, EnumMember, Feature, Member, Module, ModuleId,
    Role, Schema,
};
use crate::check::ast::IfCond;
use crate::error::Error;
use crate::parse::Name;
use crate::release::Release;
use crate::source::{FileId, Info, Span};

/// A set of the releases of a [`Range`]: bit `i` is `Range::releases[i]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReleaseSet(pub u32);

impl ReleaseSet {
    /// The release with index `i`.
    pub fn single(i: usize) -> Self {
        ReleaseSet(1 << i)
    }

    /// Whether release `i` is in the set.
    pub fn contains(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }

    /// Adds the releases of `other`.
    pub fn insert(&mut self, other: ReleaseSet) {
        self.0 |= other.0;
    }

    /// Whether every release of `self` is in `other`.
    pub fn is_subset(self, other: ReleaseSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What the releases of range bindings say of one member, enum value,
/// branch or alternative.
#[derive(Clone, Debug, Default)]
pub struct PartInfo {
    /// The releases whose form of the owner has it.
    pub present: ReleaseSet,
    /// For members: the releases in which it is required.
    pub required: ReleaseSet,
    /// Other types it had, newest first, with the releases that gave it
    /// each (the merged type absorbed them, or they are its forms).
    pub other_types: Vec<(Name, ReleaseSet)>,
}

/// Which release has what, in a merged schema.
#[derive(Clone, Debug, Default)]
pub struct Range {
    /// The releases, oldest first.
    pub releases: Vec<Release>,
    /// Per entity: the releases that have it (by name, or merged into it).
    entities: Vec<ReleaseSet>,
    /// Per (owner entity, wire name) of a member, value, branch or
    /// alternative.
    parts: FxHashMap<(EntityId, Name), PartInfo>,
    /// What could not be merged, one sentence each.
    pub unmerged: Vec<String>,
}

impl Range {
    /// Every release of the range.
    pub fn all(&self) -> ReleaseSet {
        ReleaseSet((1u32 << self.releases.len()) - 1)
    }

    /// The releases that have entity `id`.
    pub fn of_entity(&self, id: EntityId) -> ReleaseSet {
        self.entities
            .get(id.0 as usize)
            .copied()
            .unwrap_or_default()
    }

    /// What the releases say of part `name` of `owner`.
    pub fn of_part(&self, owner: EntityId, name: &str) -> Option<&PartInfo> {
        self.parts.get(&(owner, Name::from(name)))
    }

    /// The releases of `set`, oldest first (`["7.2", "8.0"]`).
    pub fn names(&self, set: ReleaseSet) -> Vec<String> {
        (0..self.releases.len())
            .filter(|i| set.contains(*i))
            .map(|i| self.releases[i].to_string())
            .collect()
    }

    /// `set` for a reader: runs of neighbouring releases of the range
    /// joined with `–` (`QEMU 7.2–8.1 and 10.2`).
    pub fn describe(&self, set: ReleaseSet) -> String {
        let mut runs: Vec<String> = Vec::new();
        let mut i = 0;
        let n = self.releases.len();
        while i < n {
            if !set.contains(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i + 1 < n && set.contains(i + 1) {
                i += 1;
            }
            runs.push(if start == i {
                self.releases[i].to_string()
            } else {
                format!("{}–{}", self.releases[start], self.releases[i])
            });
            i += 1;
        }
        match runs.len() {
            0 => "no release of the range".to_string(),
            1 => format!("QEMU {}", runs[0]),
            k => format!("QEMU {} and {}", runs[..k - 1].join(", "), runs[k - 1]),
        }
    }
}

/// Merges the `older` schemas into `newest` (see the module docs).  Each
/// schema must be of a different release.  The result keeps `newest`'s
/// docs, conditions and order, with what only older releases have added
/// after it (older releases' docs, newest first).
pub fn merge(newest: Schema, mut older: Vec<Schema>) -> Result<Schema, Error> {
    let mut releases: Vec<Release> = older.iter().map(|s| s.release).collect();
    releases.push(newest.release);
    releases.sort();
    if let Some(w) = releases.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::bare(format!(
            "QEMU {} is listed twice: give each release of the range once",
            w[0]
        )));
    }
    if releases.len() > 32 {
        return Err(Error::bare("at most 32 releases make one range"));
    }
    let bit = |r: Release| releases.iter().position(|x| *x == r).unwrap_or(0);
    let mut m = Merger {
        range: Range {
            releases: releases.clone(),
            ..Range::default()
        },
        cur: ReleaseSet::single(bit(newest.release)),
        s: newest,
        visited: HashSet::new(),
        imported: Vec::new(),
    };
    m.start();
    // Newest first: an entity only older releases have takes the docs of
    // the latest of them.
    older.sort_by_key(|s| std::cmp::Reverse(s.release));
    for o in &older {
        m.cur = ReleaseSet::single(bit(o.release));
        m.add_release(o);
    }
    m.finish();
    let Merger { mut s, range, .. } = m;
    s.range = Some(Box::new(range));
    Ok(s)
}

struct Merger {
    s: Schema,
    range: Range,
    /// The release being merged.
    cur: ReleaseSet,
    /// (older entity, merged entity) pairs merged for the current release.
    visited: HashSet<(EntityId, EntityId)>,
    /// Entities added for the current release, whose type references are
    /// still the older schema's ids.
    imported: Vec<EntityId>,
}

/// How an older schema's positions move into the merged one.
#[derive(Clone, Copy)]
struct Shift {
    files: u32,
    docs: u32,
}

impl Shift {
    fn info(self, i: Info) -> Info {
        Info {
            file: FileId(i.file.0 + self.files),
            line: i.line,
        }
    }

    fn span(self, s: Span) -> Span {
        Span {
            info: self.info(s.info),
            ..s
        }
    }

    fn doc(self, d: DocRef) -> DocRef {
        DocRef {
            doc: d.doc + self.docs,
            section: d.section,
        }
    }

    fn feature(self, f: &Feature) -> Feature {
        Feature {
            info: f.info.map(|i| self.info(i)),
            span: f.span.map(|s| self.span(s)),
            doc: f.doc.map(|d| self.doc(d)),
            ..f.clone()
        }
    }

    /// A member of the older schema; its `ty` is resolved by name later.
    fn member(self, m: &Member) -> Member {
        Member {
            info: m.info.map(|i| self.info(i)),
            span: m.span.map(|s| self.span(s)),
            features: m.features.iter().map(|f| self.feature(f)).collect(),
            doc: m.doc.map(|d| self.doc(d)),
            ty: None,
            ..m.clone()
        }
    }

    fn value(self, v: &EnumMember) -> EnumMember {
        EnumMember {
            info: v.info.map(|i| self.info(i)),
            span: v.span.map(|s| self.span(s)),
            features: v.features.iter().map(|f| self.feature(f)).collect(),
            doc: v.doc.map(|d| self.doc(d)),
            ..v.clone()
        }
    }
}

/// `a or b`: unconditional when either is.
fn either(a: &Option<IfCond>, b: &Option<IfCond>) -> Option<IfCond> {
    match (a, b) {
        (Some(a), Some(b)) if a == b => Some(a.clone()),
        (Some(a), Some(b)) => {
            let mut any = match a {
                IfCond::Any(v) => v.clone(),
                a => vec![a.clone()],
            };
            if !any.contains(b) {
                any.push(b.clone());
            }
            Some(IfCond::Any(any))
        }
        _ => None,
    }
}

/// Whether a value of one type can be decoded by the other once merged:
/// both enums, both objects, or arrays of such.
fn absorbs(a: &Schema, at: EntityId, b: &Schema, bt: EntityId) -> bool {
    match (&a.entity(at).kind, &b.entity(bt).kind) {
        (EntityKind::Enum { .. }, EntityKind::Enum { .. }) => {
            &*a.entity(at).name != "QType" && &*b.entity(bt).name != "QType"
        }
        (EntityKind::Object(_), EntityKind::Object(_)) => true,
        (
            EntityKind::Array {
                element: Some(x), ..
            },
            EntityKind::Array {
                element: Some(y), ..
            },
        ) => a.entity(*x).name == b.entity(*y).name || absorbs(a, *x, b, *y),
        _ => false,
    }
}

impl Merger {
    fn part(&mut self, owner: EntityId, name: &Name) -> &mut PartInfo {
        self.range.parts.entry((owner, name.clone())).or_default()
    }

    fn mark_entity(&mut self, id: EntityId) {
        let n = self.s.entities.len();
        if self.range.entities.len() < n {
            self.range.entities.resize(n, ReleaseSet::default());
        }
        self.range.entities[id.0 as usize].insert(self.cur);
    }

    /// Records the current release as having every part of entity `id`
    /// as it stands (the newest schema, and entities added from an older
    /// one).
    fn mark_all(&mut self, id: EntityId) {
        self.mark_entity(id);
        let cur = self.cur;
        let mut parts: Vec<(Name, bool)> = Vec::new();
        match &self.s.entity(id).kind {
            EntityKind::Enum { members, .. } => {
                parts.extend(members.iter().map(|v| (v.name.clone(), false)))
            }
            EntityKind::Object(o) => {
                parts.extend(
                    o.local_members
                        .iter()
                        .map(|m| (m.name.clone(), !m.optional)),
                );
                if let Some(b) = &o.branches {
                    parts.extend(b.variants.iter().map(|v| (v.name.clone(), false)));
                }
            }
            EntityKind::Alternate { variants, .. } => {
                parts.extend(variants.iter().map(|v| (v.name.clone(), false)))
            }
            _ => {}
        }
        for (name, required) in parts {
            let p = self.part(id, &name);
            p.present.insert(cur);
            if required {
                p.required.insert(cur);
            }
        }
    }

    fn start(&mut self) {
        for i in 0..self.s.entities.len() {
            self.mark_all(EntityId(i as u32));
        }
    }

    fn add_release(&mut self, o: &Schema) {
        let shift = Shift {
            files: self.s.sources.append(&o.sources),
            docs: self.s.docs.len() as u32,
        };
        self.s.docs.extend(o.docs.iter().cloned().map(|mut d| {
            d.shift_files(shift.files);
            d
        }));
        self.visited.clear();
        self.imported.clear();
        let mut pairs = Vec::new();
        for (i, e) in o.entities.iter().enumerate() {
            if matches!(e.kind, EntityKind::Include { .. }) {
                continue;
            }
            let oid = EntityId(i as u32);
            match self.s.lookup(&e.name) {
                Some(sid) => pairs.push((oid, sid)),
                None => self.import(o, oid, shift),
            }
        }
        for id in std::mem::take(&mut self.imported) {
            self.resolve(id);
        }
        for (oid, sid) in pairs {
            self.merge_entity(o, oid, sid, shift);
        }
    }

    /// Adds entity `oid` of `o`, which the merged schema lacks.
    fn import(&mut self, o: &Schema, oid: EntityId, shift: Shift) {
        let e = o.entity(oid);
        let module = self.module_for(&o.modules[e.module.0 as usize]);
        let kind = match &e.kind {
            EntityKind::Enum { members, prefix } => EntityKind::Enum {
                members: members.iter().map(|v| shift.value(v)).collect(),
                prefix: prefix.clone(),
            },
            EntityKind::Object(ob) => {
                let mut ob = ob.clone();
                ob.base = None;
                ob.local_members = ob.local_members.iter().map(|m| shift.member(m)).collect();
                if let Some(b) = &mut ob.branches {
                    b.tag_member = b.tag_member.as_ref().map(|m| shift.member(m));
                    b.variants = b.variants.iter().map(|m| shift.member(m)).collect();
                }
                EntityKind::Object(ob)
            }
            EntityKind::Alternate {
                tag_member,
                variants,
                forms,
            } => EntityKind::Alternate {
                tag_member: shift.member(tag_member),
                variants: variants.iter().map(|m| shift.member(m)).collect(),
                forms: *forms,
            },
            EntityKind::Array { element_name, .. } => EntityKind::Array {
                element_name: element_name.clone(),
                element: None,
            },
            EntityKind::Command(c) => EntityKind::Command(super::Command {
                arg_type: None,
                ret_type: None,
                ..c.clone()
            }),
            EntityKind::Event(ev) => EntityKind::Event(super::Event {
                arg_type: None,
                ..ev.clone()
            }),
            k => k.clone(),
        };
        let id = self.push_entity(Entity {
            name: e.name.clone(),
            info: e.info.map(|i| shift.info(i)),
            span: e.span.map(|s| shift.span(s)),
            doc: e.doc.map(|d| d + shift.docs as usize),
            ifcond: e.ifcond.clone(),
            features: e.features.iter().map(|f| shift.feature(f)).collect(),
            module,
            kind,
        });
        self.imported.push(id);
        self.mark_all(id);
    }

    fn push_entity(&mut self, e: Entity) -> EntityId {
        let id = EntityId(self.s.entities.len() as u32);
        self.s.index.insert(e.name.clone(), id);
        let module = e.module;
        self.s.entities.push(e);
        self.s.modules[module.0 as usize].entities.push(id);
        self.range.entities.push(ReleaseSet::default());
        id
    }

    /// The merged schema's module of `m`'s name (created when new).
    fn module_for(&mut self, m: &Module) -> ModuleId {
        if let Some(i) = self.s.modules.iter().position(|x| x.name == m.name) {
            return ModuleId(i as u32);
        }
        self.s.modules.push(Module {
            name: m.name.clone(),
            path: m.path.clone(),
            entities: Vec::new(),
        });
        ModuleId(self.s.modules.len() as u32 - 1)
    }

    /// Resolves the type references of an added entity by name.
    fn resolve(&mut self, id: EntityId) {
        let index = &self.s.index;
        let look = |n: &Option<Name>| n.as_ref().and_then(|n| index.get(n).copied());
        let fix = |m: &mut Member| m.ty = index.get(&m.type_name).copied();
        match &mut self.s.entities[id.0 as usize].kind {
            EntityKind::Object(ob) => {
                ob.base = look(&ob.base_name);
                ob.local_members.iter_mut().for_each(fix);
                if let Some(b) = &mut ob.branches {
                    b.tag_member.iter_mut().for_each(fix);
                    b.variants.iter_mut().for_each(fix);
                }
            }
            EntityKind::Alternate {
                tag_member,
                variants,
                ..
            } => {
                fix(tag_member);
                variants.iter_mut().for_each(fix);
            }
            EntityKind::Array {
                element_name,
                element,
            } => *element = index.get(element_name).copied(),
            EntityKind::Command(c) => {
                c.arg_type = look(&c.arg_type_name);
                c.ret_type = look(&c.ret_type_name);
            }
            EntityKind::Event(ev) => ev.arg_type = look(&ev.arg_type_name),
            _ => {}
        }
    }

    /// The merged id of the entity `o` calls `name`.
    fn counterpart(&self, o: &Schema, oid: EntityId) -> Option<EntityId> {
        self.s.lookup(&o.entity(oid).name)
    }

    /// Merges entity `oid` of `o` into merged entity `sid`.
    fn merge_entity(&mut self, o: &Schema, oid: EntityId, sid: EntityId, shift: Shift) {
        if !self.visited.insert((oid, sid)) {
            return;
        }
        self.mark_entity(sid);
        let oe = o.entity(oid);
        let cond = either(&self.s.entity(sid).ifcond, &oe.ifcond);
        self.s.entities[sid.0 as usize].ifcond = cond;
        match (&oe.kind, &self.s.entity(sid).kind) {
            (EntityKind::Enum { members, .. }, EntityKind::Enum { .. }) => {
                for v in members {
                    self.merge_value(sid, v, shift);
                }
            }
            (EntityKind::Object(_), EntityKind::Object(_)) => self.merge_object(o, oid, sid, shift),
            (EntityKind::Alternate { variants, .. }, EntityKind::Alternate { .. }) => {
                for v in variants {
                    self.merge_alternative(o, sid, v, shift);
                }
            }
            (
                EntityKind::Array {
                    element: Some(x), ..
                },
                EntityKind::Array {
                    element: Some(y), ..
                },
            ) => {
                let (x, y) = (*x, *y);
                if self.counterpart(o, x) != Some(y) && absorbs(&self.s, y, o, x) {
                    self.merge_entity(o, x, y, shift);
                }
            }
            (EntityKind::Command(oc), EntityKind::Command(sc)) => {
                let (oa, sa, or, sr) = (oc.arg_type, sc.arg_type, oc.ret_type, sc.ret_type);
                self.merge_signature(o, sid, oa, sa, shift, true);
                self.merge_signature(o, sid, or, sr, shift, false);
            }
            (EntityKind::Event(oev), EntityKind::Event(sev)) => {
                let (oa, sa) = (oev.arg_type, sev.arg_type);
                self.merge_signature(o, sid, oa, sa, shift, true);
            }
            (EntityKind::Builtin { .. }, EntityKind::Builtin { .. }) => {}
            _ => {
                let msg = format!(
                    "{} of QEMU {} is {} in QEMU {}: the newest form is kept",
                    oe.describe(),
                    o.release,
                    self.s.entity(sid).describe(),
                    self.s.release
                );
                self.range.unmerged.push(msg);
            }
        }
    }

    fn merge_value(&mut self, sid: EntityId, v: &EnumMember, shift: Shift) {
        let cur = self.cur;
        let EntityKind::Enum { members, .. } = &mut self.s.entities[sid.0 as usize].kind else {
            return;
        };
        match members.iter_mut().find(|x| x.name == v.name) {
            Some(x) => x.ifcond = either(&x.ifcond, &v.ifcond),
            None => members.push(shift.value(v)),
        }
        self.part(sid, &v.name).present.insert(cur);
    }

    /// Arguments, data or return of a command or event: an older
    /// release's type merged into the merged one, or taken when the
    /// merged one has none.
    fn merge_signature(
        &mut self,
        o: &Schema,
        sid: EntityId,
        old: Option<EntityId>,
        merged: Option<EntityId>,
        shift: Shift,
        args: bool,
    ) {
        match (old, merged) {
            (Some(ot), Some(st)) => {
                if self.counterpart(o, ot) == Some(st) || absorbs(&self.s, st, o, ot) {
                    self.merge_entity(o, ot, st, shift);
                } else {
                    let msg = format!(
                        "{} {} {} in QEMU {} and {} in QEMU {}: the newest is kept",
                        self.s.entity(sid).describe(),
                        if args { "takes" } else { "returns" },
                        o.entity(ot).name,
                        o.release,
                        self.s.entity(st).name,
                        self.s.release
                    );
                    self.range.unmerged.push(msg);
                }
            }
            (Some(ot), None) => {
                let Some(t) = self.counterpart(o, ot) else {
                    return;
                };
                let name = o.entity(ot).name.clone();
                match &mut self.s.entities[sid.0 as usize].kind {
                    EntityKind::Command(c) if args => {
                        c.arg_type = Some(t);
                        c.arg_type_name = Some(name);
                    }
                    EntityKind::Command(c) => {
                        c.ret_type = Some(t);
                        c.ret_type_name = Some(name);
                    }
                    EntityKind::Event(ev) => {
                        ev.arg_type = Some(t);
                        ev.arg_type_name = Some(name);
                    }
                    _ => {}
                }
            }
            // No arguments in this release: every one is optional (the
            // last step sees the type present where its members are not).
            (None, Some(st)) if self.s.entity(st).as_object().is_some() => {
                self.mark_chain(st);
            }
            _ => {}
        }
    }

    /// Marks the current release as having object `id` and its bases
    /// (a value of the older form decodes into all of them).
    fn mark_chain(&mut self, id: EntityId) {
        let mut cur = Some(id);
        let mut n = 0;
        while let Some(c) = cur {
            self.mark_entity(c);
            cur = self.s.entity(c).as_object().and_then(|o| o.base);
            n += 1;
            if n > self.s.entities.len() {
                break;
            }
        }
    }

    /// Where the merged object `sid` (or one of its bases) declares
    /// member `name`: (declaring entity, index in its local members).
    fn find_member(&self, sid: EntityId, name: &str) -> Option<(EntityId, usize)> {
        let mut cur = Some(sid);
        let mut n = 0;
        while let Some(c) = cur {
            let o = self.s.entity(c).as_object()?;
            if let Some(i) = o.local_members.iter().position(|m| &*m.name == name) {
                return Some((c, i));
            }
            cur = o.base;
            n += 1;
            if n > self.s.entities.len() {
                break;
            }
        }
        None
    }

    fn merge_object(&mut self, o: &Schema, oid: EntityId, sid: EntityId, shift: Shift) {
        self.mark_chain(sid);
        let cur = self.cur;
        let sname = self.s.entity(sid).name.clone();
        let tag = self
            .s
            .entity(sid)
            .as_object()
            .and_then(|b| b.branches.as_ref())
            .map(|b| b.tag_name.clone());
        for om in o.members(oid) {
            match self.find_member(sid, &om.name) {
                Some((owner, i)) => {
                    let p = self.part(owner, &om.name);
                    p.present.insert(cur);
                    if !om.optional {
                        p.required.insert(cur);
                    }
                    let is_tag = tag.as_deref() == Some(&*om.name);
                    self.merge_member_type(o, owner, i, om, is_tag, shift);
                }
                None => {
                    let mut m = shift.member(om);
                    m.ty = self.s.lookup(&m.type_name);
                    m.defined_in = sname.clone();
                    let p = self.part(sid, &om.name);
                    p.present.insert(cur);
                    if !om.optional {
                        p.required.insert(cur);
                    }
                    if let EntityKind::Object(ob) = &mut self.s.entities[sid.0 as usize].kind {
                        ob.local_members.push(m);
                    }
                }
            }
        }
        let old_branches = o.entity(oid).as_object().and_then(|b| b.branches.as_ref());
        let has_branches = tag.is_some();
        match old_branches {
            Some(ob) if has_branches => {
                for v in &ob.variants {
                    self.merge_branch(o, sid, v, shift);
                }
            }
            Some(_) => {
                let msg = format!(
                    "{} of QEMU {} has branches, QEMU {}'s has none: they are left out",
                    o.entity(oid).describe(),
                    o.release,
                    self.s.release
                );
                self.range.unmerged.push(msg);
            }
            None => {}
        }
    }

    fn merge_branch(&mut self, o: &Schema, sid: EntityId, v: &Member, shift: Shift) {
        let cur = self.cur;
        self.part(sid, &v.name).present.insert(cur);
        let Some(b) = self.branches(sid) else {
            return;
        };
        match b.variants.iter().position(|x| x.name == v.name) {
            Some(i) => {
                let st = b.variants[i].type_id();
                let ot = v.type_id();
                if self.counterpart(o, ot) == Some(st) {
                    return;
                }
                if absorbs(&self.s, st, o, ot) {
                    self.note_type(sid, &v.name, &o.entity(ot).name);
                    self.merge_entity(o, ot, st, shift);
                }
            }
            None => {
                let mut m = shift.member(v);
                m.ty = self.s.lookup(&m.type_name);
                if let Some(b) = self.branches_mut(sid) {
                    b.variants.push(m);
                }
            }
        }
    }

    fn merge_alternative(&mut self, o: &Schema, sid: EntityId, v: &Member, shift: Shift) {
        let cur = self.cur;
        self.part(sid, &v.name).present.insert(cur);
        let EntityKind::Alternate { variants, .. } = &self.s.entity(sid).kind else {
            return;
        };
        match variants.iter().position(|x| x.name == v.name) {
            Some(i) => {
                let st = variants[i].type_id();
                let ot = v.type_id();
                if self.counterpart(o, ot) != Some(st) && absorbs(&self.s, st, o, ot) {
                    self.note_type(sid, &v.name, &o.entity(ot).name);
                    self.merge_entity(o, ot, st, shift);
                }
            }
            None => {
                let mut m = shift.member(v);
                m.ty = self.s.lookup(&m.type_name);
                if let EntityKind::Alternate { variants, .. } =
                    &mut self.s.entities[sid.0 as usize].kind
                {
                    variants.push(m);
                }
            }
        }
    }

    fn branches(&self, id: EntityId) -> Option<&Branches> {
        self.s.entity(id).as_object()?.branches.as_ref()
    }

    fn branches_mut(&mut self, id: EntityId) -> Option<&mut Branches> {
        match &mut self.s.entities[id.0 as usize].kind {
            EntityKind::Object(o) => o.branches.as_mut(),
            _ => None,
        }
    }

    /// Records that member `name` of `owner` had type `ty` in the current
    /// release.
    fn note_type(&mut self, owner: EntityId, name: &Name, ty: &Name) {
        let cur = self.cur;
        let p = self.part(owner, name);
        match p.other_types.iter_mut().find(|(t, _)| t == ty) {
            Some((_, set)) => set.insert(cur),
            None => p.other_types.push((ty.clone(), cur)),
        }
    }

    /// Member `i` of merged object `owner` had type `om`'s in an older
    /// release: absorb it, or make the member's type a forms type.
    fn merge_member_type(
        &mut self,
        o: &Schema,
        owner: EntityId,
        i: usize,
        om: &Member,
        is_tag: bool,
        shift: Shift,
    ) {
        let ot = om.type_id();
        let member = &self
            .s
            .entity(owner)
            .as_object()
            .expect("an object")
            .local_members[i];
        let st = member.type_id();
        let cond = either(&member.ifcond, &om.ifcond);
        self.set_member(owner, i, |m| m.ifcond = cond);
        if self.counterpart(o, ot) == Some(st) {
            return;
        }
        let forms = matches!(
            self.s.entity(st).kind,
            EntityKind::Alternate { forms: true, .. }
        );
        if forms {
            self.add_form(o, st, ot, shift);
            return;
        }
        self.note_type(owner, &om.name, &o.entity(ot).name);
        if absorbs(&self.s, st, o, ot) {
            self.merge_entity(o, ot, st, shift);
        } else if is_tag {
            let msg = format!(
                "discriminator '{}' of {} is of type '{}' in QEMU {}: decoded as '{}'",
                om.name,
                self.s.entity(owner).describe(),
                o.entity(ot).name,
                o.release,
                self.s.entity(st).name
            );
            self.range.unmerged.push(msg);
        } else {
            let f = self.new_forms(owner, i);
            self.add_form(o, f, ot, shift);
        }
    }

    fn set_member(&mut self, owner: EntityId, i: usize, f: impl FnOnce(&mut Member)) {
        if let EntityKind::Object(ob) = &mut self.s.entities[owner.0 as usize].kind {
            f(&mut ob.local_members[i]);
        }
    }

    /// Gives member `i` of `owner` a forms type whose first form is its
    /// current type (present wherever the member was so far).
    fn new_forms(&mut self, owner: EntityId, i: usize) -> EntityId {
        let oe = self.s.entity(owner);
        let module = oe.module;
        let m = oe.as_object().expect("an object").local_members[i].clone();
        let present = self
            .range
            .of_part(owner, &m.name)
            .map(|p| p.present)
            .unwrap_or_default();
        let present = ReleaseSet(present.0 & !self.cur.0);
        let name: Name = format!("q_forms_{}-{}", oe.name, m.name).into();
        let form = |ty: &Member| Member {
            name: ty.type_name.clone(),
            span: None,
            optional: false,
            features: Vec::new(),
            role: Role::Branch,
            doc: None,
            ..ty.clone()
        };
        let first = form(&m);
        let tag_member = Member {
            name: "type".into(),
            type_name: "QType".into(),
            ty: self.s.lookup("QType"),
            ..first.clone()
        };
        let id = self.push_entity(Entity {
            name: name.clone(),
            info: m.info,
            span: None,
            doc: None,
            ifcond: m.ifcond.clone(),
            features: Vec::new(),
            module,
            kind: EntityKind::Alternate {
                tag_member,
                variants: vec![first.clone()],
                forms: true,
            },
        });
        self.range.entities[id.0 as usize] = self.range.of_entity(owner);
        self.part(id, &first.name).present.insert(present);
        self.set_member(owner, i, |m| {
            m.ty = Some(id);
            m.type_name = name;
        });
        id
    }

    /// Adds `o`'s type `ot` as a form of forms type `f` (merged into a
    /// form it absorbs into, when there is one).
    fn add_form(&mut self, o: &Schema, f: EntityId, ot: EntityId, shift: Shift) {
        let cur = self.cur;
        self.mark_entity(f);
        let EntityKind::Alternate { variants, .. } = &self.s.entity(f).kind else {
            return;
        };
        let oname = &o.entity(ot).name;
        let same = variants.iter().position(|v| &v.type_name == oname);
        let absorbing = variants
            .iter()
            .position(|v| absorbs(&self.s, v.type_id(), o, ot));
        match (same, absorbing) {
            (Some(k), _) => {
                let n = variants[k].name.clone();
                self.part(f, &n).present.insert(cur);
            }
            (None, Some(k)) => {
                let (n, st) = (variants[k].name.clone(), variants[k].type_id());
                self.part(f, &n).present.insert(cur);
                self.note_type(f, &n, oname);
                self.merge_entity(o, ot, st, shift);
            }
            (None, None) => {
                let Some(t) = self.s.lookup(oname) else {
                    return;
                };
                let first = variants[0].clone();
                let v = Member {
                    name: oname.clone(),
                    type_name: oname.clone(),
                    ty: Some(t),
                    ..first
                };
                self.part(f, oname).present.insert(cur);
                if let EntityKind::Alternate { variants, .. } =
                    &mut self.s.entities[f.0 as usize].kind
                {
                    variants.push(v);
                }
            }
        }
    }

    /// The last step: what is not required everywhere becomes optional;
    /// arguments and data types exist wherever their command or event
    /// does; unions get empty branches for the values their
    /// discriminator gained.
    fn finish(&mut self) {
        let n = self.s.entities.len();
        self.range.entities.resize(n, ReleaseSet::default());
        for i in 0..n {
            let id = EntityId(i as u32);
            let present = self.range.of_entity(id);
            let (args, ret) = match &self.s.entity(id).kind {
                EntityKind::Command(c) => (c.arg_type, c.ret_type),
                EntityKind::Event(e) => (e.arg_type, None),
                _ => continue,
            };
            for t in [args, ret].into_iter().flatten() {
                if self.s.entity(t).as_object().is_some() {
                    let mut cur = Some(t);
                    while let Some(c) = cur {
                        self.range.entities[c.0 as usize].insert(present);
                        cur = self.s.entity(c).as_object().and_then(|o| o.base);
                    }
                }
            }
        }
        for i in 0..n {
            let id = EntityId(i as u32);
            let present = self.range.of_entity(id);
            let parts = &self.range.parts;
            if let EntityKind::Object(ob) = &mut self.s.entities[i].kind {
                for m in &mut ob.local_members {
                    let required = parts
                        .get(&(id, m.name.clone()))
                        .map(|p| p.required)
                        .unwrap_or_default();
                    if !present.is_subset(required) {
                        m.optional = true;
                    }
                }
            }
        }
        // Refresh the copies of discriminators, and complete branches.
        let q_empty = self.s.lookup("q_empty");
        for i in 0..n {
            let id = EntityId(i as u32);
            let Some(tag_name) = self.branches(id).map(|b| b.tag_name.clone()) else {
                continue;
            };
            let tag = self.find_member(id, &tag_name).map(|(o, k)| {
                self.s.entity(o).as_object().expect("object").local_members[k].clone()
            });
            let values: Vec<(Name, Option<IfCond>)> = tag
                .as_ref()
                .and_then(|t| t.ty)
                .and_then(|t| match &self.s.entity(t).kind {
                    EntityKind::Enum { members, .. } => Some(
                        members
                            .iter()
                            .map(|v| (v.name.clone(), v.ifcond.clone()))
                            .collect(),
                    ),
                    _ => None,
                })
                .unwrap_or_default();
            let info = self.s.entity(id).info;
            let sname = self.s.entity(id).name.clone();
            let present = self.range.of_entity(id);
            let mut added = Vec::new();
            if let Some(b) = self.branches_mut(id) {
                if let Some(t) = tag {
                    b.tag_member = Some(t);
                }
                for (v, cond) in values {
                    if b.variants.iter().any(|x| x.name == v) {
                        continue;
                    }
                    b.variants.push(Member {
                        name: v.clone(),
                        info,
                        span: None,
                        type_name: "q_empty".into(),
                        ty: q_empty,
                        optional: false,
                        ifcond: cond,
                        features: Vec::new(),
                        defined_in: sname.clone(),
                        role: Role::Branch,
                        doc: None,
                    });
                    added.push(v);
                }
            }
            for v in added {
                self.part(id, &v).present.insert(present);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(rs: &[&str]) -> Range {
        Range {
            releases: rs.iter().map(|r| r.parse().expect("a release")).collect(),
            ..Range::default()
        }
    }

    #[test]
    fn describe_joins_neighbouring_releases() {
        let r = range(&["7.2", "8.0", "8.1", "9.1", "10.0", "10.2"]);
        let cases = [
            (0b111111, "QEMU 7.2–10.2"),
            (0b000001, "QEMU 7.2"),
            (0b000111, "QEMU 7.2–8.1"),
            (0b110001, "QEMU 7.2 and 10.0–10.2"),
            (0b101010, "QEMU 8.0, 9.1 and 10.2"),
            (0, "no release of the range"),
        ];
        for (bits, want) in cases {
            assert_eq!(r.describe(ReleaseSet(bits)), want, "{bits:b}");
        }
        assert_eq!(r.names(ReleaseSet(0b100001)), ["7.2", "10.2"]);
        assert_eq!(r.all(), ReleaseSet(0b111111));
    }

    #[test]
    fn either_condition() {
        let a = Some(IfCond::Name("A".into()));
        let b = Some(IfCond::Name("B".into()));
        assert_eq!(either(&a, &None), None);
        assert_eq!(either(&a, &a), a);
        assert_eq!(
            either(&a, &b),
            Some(IfCond::Any(vec![
                IfCond::Name("A".into()),
                IfCond::Name("B".into())
            ]))
        );
    }
}
