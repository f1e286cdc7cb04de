//! Doc connection: each definition's doc block gets its members, values,
//! branches and features connected to their descriptions, as QEMU's
//! `connect_doc` does, and doc blocks are checked for descriptions of
//! things that do not exist.

use super::*;

impl Checker<'_> {
    /// Connects the entity's doc block to its features and members (QEMU's
    /// `connect_doc`), and copies the descriptions into the model.
    pub(super) fn connect_doc(&mut self, id: EntityId) -> Result<()> {
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

    pub(super) fn connect_features(&mut self, d: usize, features: &mut [Feature]) -> Result<()> {
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

    pub(super) fn connect_one(
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

    pub(super) fn connect_enum_values(
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

    pub(super) fn connect_members(
        &mut self,
        d: usize,
        excepted: bool,
        members: &mut [Member],
    ) -> Result<()> {
        for m in members.iter_mut() {
            m.doc = self.connect_one(d, excepted, m.role, &m.name, (m.info, m.span))?;
            self.connect_features(d, &mut m.features)?;
        }
        Ok(())
    }

    pub(super) fn connect_object_members(
        &mut self,
        d: usize,
        excepted: bool,
        id: EntityId,
    ) -> Result<()> {
        let mut locals = std::mem::take(&mut self.obj_mut(id).local_members);
        let r = self.connect_members(d, excepted, &mut locals);
        self.obj_mut(id).local_members = locals;
        r
    }

    /// QEMU's `QAPIDoc.check`: descriptions nothing claimed, reported at
    /// `at` or else at the first of them.
    pub(super) fn check_doc(&self, doc: &crate::parse::Doc, at: Option<Info>) -> Result<()> {
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
