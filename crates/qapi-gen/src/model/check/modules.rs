//! Module placement: every entity gets the module of the file that
//! defines it (QEMU's `_def_module` bookkeeping, done once at the end).

use super::*;

impl Checker<'_> {
    /// Places each entity in the module of the file that defines it (arrays
    /// in their element's); built-ins in `./builtin`, the first module.
    pub(super) fn set_modules(&mut self, module_by_path: &HashMap<String, ModuleId>) {
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
}
