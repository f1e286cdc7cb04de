//! Stage 3: define every entity in QEMU's order (QEMU's `_def_exprs`).
//!
//! Built-ins come first, then each expression's implicit types just before
//! the definition that needs them: member arrays, then the implicit
//! argument or base type, then the return array, then the definition.

use std::collections::HashMap;

use crate::check::ast::{self, DefKind, Expr, FeatureDef, ObjectRef, TypeRef};
use crate::error::{Error, Result};
use crate::parse::{path, Name, Parsed};
use crate::source::Info;

use super::*;

const BUILTINS: [(&str, &str); 15] = [
    ("str", "string"),
    ("number", "number"),
    ("int", "int"),
    ("int8", "int"),
    ("int16", "int"),
    ("int32", "int"),
    ("int64", "int"),
    ("uint8", "int"),
    ("uint16", "int"),
    ("uint32", "int"),
    ("uint64", "int"),
    ("size", "int"),
    ("bool", "boolean"),
    ("any", "value"),
    ("null", "null"),
];

/// Name of the module of built-in types.
pub const BUILTIN_MODULE: &str = "./builtin";

/// Builds and checks the schema model from the checked expressions.
pub fn build_schema(parsed: Parsed, exprs: Vec<Expr>) -> Result<Schema> {
    let Parsed {
        sources,
        docs,
        pragma,
        root,
        cwd,
        rules,
        ..
    } = parsed;
    let mut b = Builder {
        schema: Schema {
            entities: Vec::with_capacity(exprs.len() * 2 + 40),
            modules: Vec::new(),
            docs,
            pragma,
            feature_names: Vec::new(),
            sources,
            root: root.clone(),
            rules,
            release_source: crate::release::ReleaseSource::Newest,
            release: crate::release::Release::NEWEST,
            range: None,
            index: Default::default(),
        },
        schema_dir: path::dirname(&root),
        cwd,
        module_index: HashMap::new(),
        module_by_path: HashMap::new(),
        feature_infos: Vec::new(),
    };
    b.make_module(None);
    b.make_module(Some(&root));
    b.def_predefineds()?;
    for expr in exprs {
        b.def_expr(expr)?;
    }
    let Builder {
        mut schema,
        module_by_path,
        feature_infos,
        ..
    } = b;
    check::check_schema(&mut schema, &module_by_path, &feature_infos)?;
    Ok(schema)
}

pub(super) struct Builder {
    schema: Schema,
    schema_dir: String,
    cwd: String,
    /// Modules by name.
    module_index: HashMap<String, ModuleId>,
    /// Modules by every path they were named by (the root and each
    /// include directive), so each file read finds its module.
    module_by_path: HashMap<String, ModuleId>,
    feature_infos: Vec<Option<Info>>,
}

/// QEMU's module name for a file: relative to the root's directory, except
/// that names starting `./` are taken as they are ("system" modules).
fn module_name(fname: Option<&str>, schema_dir: &str, cwd: &str) -> String {
    match fname {
        None => BUILTIN_MODULE.to_string(),
        Some(f) if f.starts_with("./") => f.to_string(),
        Some(f) => path::relpath_from(cwd, f, schema_dir),
    }
}

impl Builder {
    fn make_module(&mut self, fname: Option<&str>) -> ModuleId {
        let name = module_name(fname, &self.schema_dir, &self.cwd);
        let id = match self.module_index.get(&name) {
            Some(id) => *id,
            None => {
                let id = ModuleId(self.schema.modules.len() as u32);
                self.schema.modules.push(Module {
                    name: name.clone(),
                    path: fname.map(str::to_string),
                    entities: Vec::new(),
                });
                self.module_index.insert(name, id);
                id
            }
        };
        if let Some(f) = fname {
            self.module_by_path.entry(f.to_string()).or_insert(id);
        }
        id
    }

    fn def_entity(&mut self, ent: Entity) -> Result<EntityId> {
        let id = EntityId(self.schema.entities.len() as u32);
        if !ent.name.is_empty() {
            if let Some(other) = self.schema.index.get(&ent.name) {
                let other = &self.schema.entities[other.0 as usize];
                let info = ent.info.expect("only predefined entities lack info");
                let msg = match other.info {
                    Some(oi) => format!(
                        "'{}' is already defined\n{}: previous definition",
                        ent.name,
                        self.schema.sources.location(oi, None)
                    ),
                    None => format!("{} is already defined", other.describe()),
                };
                let err = Error::at(&self.schema.sources, info, &msg);
                return Err(match ent.span {
                    Some(sp) => err.pointing_at(&self.schema.sources, sp),
                    None => err,
                });
            }
            self.schema.index.insert(ent.name.clone(), id);
        }
        self.schema.entities.push(ent);
        Ok(id)
    }

    fn lookup_type(&self, name: &str) -> Option<EntityId> {
        let id = self.schema.index.get(name)?;
        self.schema.entities[id.0 as usize].is_type().then_some(*id)
    }

    fn entity(name: &str, info: Option<Info>, kind: EntityKind) -> Entity {
        Entity {
            span: None,
            name: Name::from(name),
            info,
            doc: None,
            ifcond: None,
            features: Vec::new(),
            module: ModuleId(0),
            kind,
        }
    }

    fn def_predefineds(&mut self) -> Result<()> {
        for special in ["deprecated", "unstable"] {
            self.schema.feature_names.push(special.to_string());
            self.feature_infos.push(None);
        }
        for (name, json_type) in BUILTINS {
            self.def_entity(Self::entity(name, None, EntityKind::Builtin { json_type }))?;
            self.make_array_type(name, None)?;
        }
        self.def_entity(Self::entity(
            "q_empty",
            None,
            EntityKind::Object(ObjectType {
                base_name: None,
                base: None,
                local_members: Vec::new(),
                branches: None,
                state: CheckState::Unchecked,
            }),
        ))?;
        let members = [
            "none", "qnull", "qnum", "qstring", "qdict", "qlist", "qbool",
        ]
        .iter()
        .map(|n| EnumMember {
            name: Name::from(*n),
            info: None,
            span: None,
            ifcond: None,
            features: Vec::new(),
            doc: None,
        })
        .collect();
        self.def_entity(Self::entity(
            "QType",
            None,
            EntityKind::Enum {
                members,
                prefix: self.schema.rules.qtype_prefix.then(|| "QTYPE".into()),
            },
        ))?;
        Ok(())
    }

    fn make_array_type(&mut self, element: &str, info: Option<Info>) -> Result<Name> {
        let name = format!("{element}List");
        if let Some(id) = self.lookup_type(&name) {
            return Ok(self.schema.entities[id.0 as usize].name.clone());
        }
        let name = Name::from(name);
        let mut ent = Self::entity(
            "",
            info,
            EntityKind::Array {
                element_name: Name::from(element),
                element: None,
            },
        );
        ent.name = name.clone();
        self.def_entity(ent)?;
        Ok(name)
    }

    fn make_features(&mut self, features: Vec<FeatureDef>, info: Info) -> Vec<Feature> {
        features
            .into_iter()
            .map(|f| {
                if !self.schema.feature_names.iter().any(|n| **n == *f.name) {
                    self.schema.feature_names.push(f.name.to_string());
                    self.feature_infos.push(Some(info));
                }
                Feature {
                    name: f.name,
                    info: Some(info),
                    span: Some(f.span),
                    ifcond: f.ifcond,
                    doc: None,
                }
            })
            .collect()
    }

    fn type_name(&mut self, ty: TypeRef, info: Info) -> Result<Name> {
        match ty {
            TypeRef::Named(n) => Ok(n),
            TypeRef::Array(elem) => self.make_array_type(&elem, Some(info)),
        }
    }

    fn make_members(
        &mut self,
        members: Vec<ast::MemberDef>,
        info: Info,
        owner: &Name,
    ) -> Result<Vec<Member>> {
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let type_name = self.type_name(m.ty, info)?;
            let features = self.make_features(m.features, info);
            out.push(Member {
                name: m.name,
                info: Some(info),
                span: Some(m.span),
                type_name,
                ty: None,
                optional: m.optional,
                ifcond: m.ifcond,
                features,
                defined_in: owner.clone(),
                role: Role::Member,
                doc: None,
            });
        }
        Ok(out)
    }

    fn make_branches(
        &mut self,
        branches: Vec<ast::BranchDef>,
        info: Info,
        owner: &Name,
    ) -> Result<Vec<Member>> {
        let mut out = Vec::with_capacity(branches.len());
        for b in branches {
            let type_name = self.type_name(b.ty, info)?;
            out.push(Member {
                name: b.name,
                info: Some(info),
                span: Some(b.span),
                type_name,
                ty: None,
                optional: false,
                ifcond: b.ifcond,
                features: Vec::new(),
                defined_in: owner.clone(),
                role: Role::Branch,
                doc: None,
            });
        }
        Ok(out)
    }

    /// Defines `q_obj_NAME-ROLE` for inline members; `None` when empty.
    fn make_implicit_object(
        &mut self,
        name: &str,
        role: &str,
        info: Info,
        ifcond: Option<ast::IfCond>,
        members: Vec<ast::MemberDef>,
    ) -> Result<Option<Name>> {
        if members.is_empty() {
            return Ok(None);
        }
        let obj_name = Name::from(format!("q_obj_{name}-{role}"));
        let members = self.make_members(members, info, &obj_name)?;
        if self.schema.index.contains_key(&obj_name) {
            return Ok(Some(obj_name));
        }
        let mut ent = Self::entity(
            "",
            Some(info),
            EntityKind::Object(ObjectType {
                base_name: None,
                base: None,
                local_members: members,
                branches: None,
                state: CheckState::Unchecked,
            }),
        );
        ent.ifcond = ifcond;
        ent.name = obj_name.clone();
        self.def_entity(ent)?;
        Ok(Some(obj_name))
    }

    fn object_ref(
        &mut self,
        r: Option<ObjectRef>,
        name: &str,
        role: &str,
        info: Info,
        ifcond: &Option<ast::IfCond>,
    ) -> Result<Option<Name>> {
        match r {
            // QEMU tests the name's truth: an empty one means none.
            None => Ok(None),
            Some(ObjectRef::Named(n)) if n.is_empty() => Ok(None),
            Some(ObjectRef::Named(n)) => Ok(Some(n)),
            Some(ObjectRef::Members(m)) => {
                self.make_implicit_object(name, role, info, ifcond.clone(), m)
            }
        }
    }

    fn def_expr(&mut self, expr: Expr) -> Result<()> {
        let def = match expr {
            Expr::Include { path, info } => {
                let module = self.make_module(Some(&path));
                self.def_entity(Self::entity("", Some(info), EntityKind::Include { module }))?;
                return Ok(());
            }
            Expr::Definition(def) => def,
        };
        let ast::Definition {
            name,
            name_span,
            info,
            doc,
            ifcond,
            features,
            kind,
        } = def;
        let features = self.make_features(features, info);
        let kind = match kind {
            DefKind::Enum { values, prefix } => {
                let members = values
                    .into_iter()
                    .map(|v| EnumMember {
                        name: v.name,
                        info: Some(info),
                        span: Some(v.span),
                        ifcond: v.ifcond,
                        features: self.make_features(v.features, info),
                        doc: None,
                    })
                    .collect();
                EntityKind::Enum { members, prefix }
            }
            DefKind::Struct { base, members } => {
                let local_members = self.make_members(members, info, &name)?;
                EntityKind::Object(ObjectType {
                    // An empty base name means none, as QEMU tests it.
                    base_name: base.filter(|b| !b.is_empty()),
                    base: None,
                    local_members,
                    branches: None,
                    state: CheckState::Unchecked,
                })
            }
            DefKind::Union {
                base,
                discriminator,
                branches,
            } => {
                let base_name = self.object_ref(Some(base), &name, "base", info, &ifcond)?;
                let variants = self.make_branches(branches, info, &name)?;
                EntityKind::Object(ObjectType {
                    base_name,
                    base: None,
                    local_members: Vec::new(),
                    branches: Some(Branches {
                        tag_name: discriminator,
                        tag_member: None,
                        variants,
                    }),
                    state: CheckState::Unchecked,
                })
            }
            DefKind::Alternate { branches } => {
                let variants = self.make_branches(branches, info, &name)?;
                let tag_member = Member {
                    name: Name::from("type"),
                    info: Some(info),
                    span: None,
                    type_name: Name::from("QType"),
                    ty: None,
                    optional: false,
                    ifcond: None,
                    features: Vec::new(),
                    defined_in: name.clone(),
                    role: Role::Member,
                    doc: None,
                };
                EntityKind::Alternate {
                    tag_member,
                    variants,
                    forms: false,
                }
            }
            DefKind::Command {
                data,
                returns,
                boxed,
                gen,
                success_response,
                allow_oob,
                allow_preconfig,
                coroutine,
            } => {
                let arg_type_name = self.object_ref(data, &name, "arg", info, &ifcond)?;
                let ret_type_name = match returns {
                    // `'returns': ''` means no return type to QEMU.
                    Some(TypeRef::Named(n)) if n.is_empty() => None,
                    Some(r) => Some(self.type_name(r, info)?),
                    None => None,
                };
                EntityKind::Command(Command {
                    arg_type_name,
                    arg_type: None,
                    ret_type_name,
                    ret_type: None,
                    gen,
                    success_response,
                    boxed,
                    allow_oob,
                    allow_preconfig,
                    coroutine,
                })
            }
            DefKind::Event { data, boxed } => {
                let arg_type_name = self.object_ref(data, &name, "arg", info, &ifcond)?;
                EntityKind::Event(Event {
                    arg_type_name,
                    arg_type: None,
                    boxed,
                })
            }
        };
        self.def_entity(Entity {
            name,
            info: Some(info),
            span: Some(name_span),
            doc,
            ifcond,
            features,
            module: ModuleId(0),
            kind,
        })?;
        Ok(())
    }
}
