//! Stage 2: the shape checks of QEMU's `expr.py`, one expression at a time,
//! in QEMU's order, producing typed [`Definition`]s.

use std::borrow::Cow;
use std::fmt::{self, Display};

use crate::error::{Error, Result};
use crate::parse::{Dict, Doc, Name, Node, Parsed, Pragma, TopExpr, Value};
use crate::source::{Info, SourceMap};

use super::ast::*;
use super::names::{self, NameError};

const METAS: [&str; 6] = ["enum", "struct", "union", "alternate", "command", "event"];

/// The required and optional keys of each kind of definition.
fn keys_of(meta: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match meta {
        "enum" => (&["enum", "data"], &["if", "features", "prefix"]),
        "union" => (
            &["union", "base", "discriminator", "data"],
            &["if", "features"],
        ),
        "alternate" => (&["alternate", "data"], &["if", "features"]),
        "struct" => (&["struct", "data"], &["base", "if", "features"]),
        "command" => (
            &["command"],
            &[
                "data",
                "returns",
                "boxed",
                "if",
                "features",
                "gen",
                "success-response",
                "allow-oob",
                "allow-preconfig",
                "coroutine",
            ],
        ),
        _ => (&["event"], &["data", "boxed", "if", "features"]),
    }
}

/// Runs the shape checks over every top-level expression.
pub fn check_exprs(parsed: &mut Parsed) -> Result<Vec<Expr>> {
    let mut out = Vec::with_capacity(parsed.exprs.len());
    for top in &parsed.exprs {
        match top {
            TopExpr::Include { path, info } => out.push(Expr::Include {
                path: path.clone(),
                info: *info,
            }),
            TopExpr::Definition { expr, info, doc } => {
                let mut cx = Cx {
                    sources: &mut parsed.sources,
                    pragma: &parsed.pragma,
                    rules: parsed.rules,
                    info: *info,
                };
                let doc = doc.map(|d| (d, &parsed.docs[d]));
                out.push(Expr::Definition(cx.check_expr(expr, doc)?));
            }
        }
    }
    Ok(out)
}

struct Cx<'a> {
    sources: &'a mut SourceMap,
    pragma: &'a Pragma,
    rules: crate::release::Rules,
    info: Info,
}

/// A value seen through QEMU's normalisation: a dict stays, anything else
/// `v` reads as `{KEY: v}` (`'a': 'int'` is `'a': {'type': 'int'}`).
#[derive(Clone, Copy)]
enum View<'n> {
    Dict(&'n Dict),
    Sugar(&'static str, &'n Node),
}

impl<'n> View<'n> {
    fn of(node: &'n Node, key: &'static str) -> View<'n> {
        match &node.value {
            Value::Dict(d) => View::Dict(d),
            _ => View::Sugar(key, node),
        }
    }

    fn get(self, key: &str) -> Option<&'n Node> {
        match self {
            View::Dict(d) => d.get(key),
            View::Sugar(k, n) => (k == key).then_some(n),
        }
    }

    fn keys(self) -> impl Iterator<Item = &'n str> {
        let (dict, sugar) = match self {
            View::Dict(d) => (Some(d), None),
            View::Sugar(k, _) => (None, Some(k)),
        };
        dict.into_iter().flat_map(|d| d.keys()).chain(sugar)
    }
}

/// `SOURCE member 'KEY'`, built only when an error needs it.
struct MemberOf<'a>(&'a dyn Display, &'a str);

impl Display for MemberOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} member '{}'", self.0, self.1)
    }
}

/// `SOURCE 'NAME'`, built only when an error needs it.
struct Quoted<'a>(&'a str, &'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.0, self.1)
    }
}

/// `'if' condition of SOURCE`, built only when an error needs it.
struct IfOf<'a>(&'a dyn Display);

impl Display for IfOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'if' condition of {}", self.0)
    }
}

fn quoted_sorted<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let mut v: Vec<&str> = items.collect();
    v.sort_unstable();
    v.dedup();
    v.iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Cx<'_> {
    fn err(&self, msg: &str) -> Error {
        Error::at(self.sources, self.info, msg)
    }

    fn name_err(&self, e: NameError, source: &dyn Display) -> Error {
        self.err(&e.message(source))
    }

    fn check_keys(
        &self,
        value: View<'_>,
        source: &dyn Display,
        required: &[&str],
        optional: &[&str],
    ) -> Result<()> {
        let allowed = |k: &str| required.contains(&k) || optional.contains(&k);
        if required.iter().all(|k| value.get(k).is_some()) && value.keys().all(allowed) {
            return Ok(());
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| value.get(k).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(self.err(&format!(
                "{source} misses key{} {}",
                if missing.len() > 1 { "s" } else { "" },
                quoted_sorted(missing.into_iter())
            )));
        }
        let unknown: Vec<&str> = value
            .keys()
            .filter(|k| !required.contains(k) && !optional.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(self.err(&format!(
                "{source} has unknown key{} {}\nValid keys are {}.",
                if unknown.len() > 1 { "s" } else { "" },
                quoted_sorted(unknown.into_iter()),
                quoted_sorted(required.iter().chain(optional).copied())
            )));
        }
        Ok(())
    }

    fn check_if(&self, value: View<'_>, source: &dyn Display) -> Result<Option<IfCond>> {
        match value.get("if") {
            None => Ok(None),
            Some(cond) => self.check_cond(cond, source).map(Some),
        }
    }

    fn check_cond(&self, cond: &Node, source: &dyn Display) -> Result<IfCond> {
        match &cond.value {
            Value::Str(s) => {
                let mut cs = s.chars();
                let ok = matches!(cs.next(), Some(c) if c.is_ascii_uppercase())
                    && cs.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(self.err(&format!(
                        "'if' condition '{s}' of {source} is not a valid identifier"
                    )));
                }
                Ok(IfCond::Name(s.clone()))
            }
            Value::Dict(d) => {
                self.check_keys(View::Dict(d), &IfOf(source), &[], &["all", "any", "not"])?;
                if d.len() != 1 {
                    return Err(
                        self.err(&format!("'if' condition of {source} has conflicting keys"))
                    );
                }
                let (key, operand) = (&d.entries[0].key, &d.entries[0].value);
                if &**key == "not" {
                    return Ok(IfCond::Not(Box::new(self.check_cond(operand, source)?)));
                }
                let Value::List(ops) = &operand.value else {
                    return Err(
                        self.err(&format!("'{key}' condition of {source} must be an array"))
                    );
                };
                if ops.is_empty() {
                    return Err(self.err(&format!("'if' condition [] of {source} is useless")));
                }
                let ops = ops
                    .iter()
                    .map(|o| self.check_cond(o, source))
                    .collect::<Result<Vec<_>>>()?;
                Ok(if &**key == "all" {
                    IfCond::All(ops)
                } else {
                    IfCond::Any(ops)
                })
            }
            _ => Err(self.err(&format!(
                "'if' condition of {source} must be a string or an object"
            ))),
        }
    }

    fn check_features(&self, features: Option<&Node>) -> Result<Vec<FeatureDef>> {
        let Some(features) = features else {
            return Ok(Vec::new());
        };
        let Value::List(items) = &features.value else {
            return Err(self.err("'features' must be an array"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let feat = View::of(item, "name");
            let source = "'features' member";
            self.check_keys(feat, &source, &["name"], &["if"])?;
            let Some((name, span)) = feat
                .get("name")
                .and_then(|n| Some((n.value.as_str()?, n.span)))
            else {
                return Err(self.err(&format!("{source} requires a string name")));
            };
            let source = Quoted(source, name);
            names::check_name_lower(name, false, false).map_err(|e| self.name_err(e, &source))?;
            let ifcond = self.check_if(feat, &source)?;
            out.push(FeatureDef {
                name: Name::from(name),
                span,
                ifcond,
            });
        }
        Ok(out)
    }

    fn check_type_name(&self, value: Option<&Node>, source: &dyn Display) -> Result<Option<Name>> {
        match value.map(|n| &n.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(Value::List(_)) if !self.rules.split_type_checks => {
                Err(self.err(&format!("{source} cannot be an array")))
            }
            Some(_) => Err(self.err(&format!("{source} should be a type name"))),
        }
    }

    fn check_type_name_or_array(
        &self,
        value: Option<&Node>,
        source: &dyn Display,
    ) -> Result<Option<TypeRef>> {
        match value.map(|n| &n.value) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(TypeRef::Named(s.clone()))),
            Some(Value::List(items)) => match items.as_slice() {
                [Node {
                    value: Value::Str(s),
                    ..
                }] => Ok(Some(TypeRef::Array(s.clone()))),
                _ => Err(self.err(&format!(
                    "{source}: array type must contain single type name"
                ))),
            },
            Some(_) if !self.rules.split_type_checks => {
                Err(self.err(&format!("{source} should be a type name")))
            }
            Some(_) => Err(self.err(&format!("{source} should be a type name or array"))),
        }
    }

    fn check_type_implicit(
        &self,
        value: &Node,
        source: &dyn Display,
        parent: Option<&str>,
    ) -> Result<Vec<MemberDef>> {
        let Value::Dict(members) = &value.value else {
            if matches!(value.value, Value::List(_)) && !self.rules.split_type_checks {
                return Err(self.err(&format!("{source} cannot be an array")));
            }
            // 7.2 and 8.0 take a string as struct 'data' here and crash
            // later; we report it as 8.1 does.
            return Err(self.err(&format!("{source} should be an object or type name")));
        };
        let permissive =
            parent.is_some_and(|p| self.pragma.member_name_exceptions.iter().any(|e| e == p));
        let mut out = Vec::with_capacity(members.len());
        for entry in &members.entries {
            let (key, arg) = (&entry.key, &entry.value);
            let key_source = MemberOf(source, key);
            let (name, optional) = match key.strip_prefix('*') {
                Some(k) => (k, true),
                None => (key.as_ref(), false),
            };
            names::check_name_lower(name, permissive, permissive).map_err(|e| {
                self.name_err(e, &key_source)
                    .pointing_at(self.sources, entry.key_span)
            })?;
            if names::is_reserved_member_name(name) {
                return Err(self.err(&format!("{key_source} uses reserved name")));
            }
            let arg = View::of(arg, "type");
            self.check_keys(arg, &key_source, &["type"], &["if", "features"])?;
            let ifcond = self.check_if(arg, &key_source)?;
            let features = self.check_features(arg.get("features"))?;
            let ty = self
                .check_type_name_or_array(arg.get("type"), &key_source)?
                .expect("check_keys guarantees 'type'");
            out.push(MemberDef {
                span: entry.key_span,
                name: if optional {
                    Name::from(name)
                } else {
                    key.clone()
                },
                optional,
                ty,
                ifcond,
                features,
            });
        }
        Ok(out)
    }

    fn check_type_name_or_implicit(
        &self,
        value: Option<&Node>,
        source: &dyn Display,
        parent: Option<&str>,
    ) -> Result<Option<ObjectRef>> {
        match value {
            None => Ok(None),
            Some(Node {
                value: Value::Str(s),
                ..
            }) => Ok(Some(ObjectRef::Named(s.clone()))),
            Some(v) => Ok(Some(ObjectRef::Members(
                self.check_type_implicit(v, source, parent)?,
            ))),
        }
    }

    fn check_flag(&self, expr: &Dict, key: &str, allowed: bool, default: bool) -> Result<bool> {
        match expr.get(key).map(|n| &n.value) {
            None => Ok(default),
            Some(Value::Bool(b)) if *b == allowed => Ok(allowed),
            Some(_) => Err(self.err(&format!(
                "flag '{key}' may only use {} value",
                if allowed { "true" } else { "false" }
            ))),
        }
    }

    fn check_expr(&mut self, expr: &Dict, doc: Option<(usize, &Doc)>) -> Result<Definition> {
        let mut metas = METAS.iter().copied().filter(|m| expr.contains(m));
        let (Some(meta), None) = (metas.next(), metas.next()) else {
            return Err(self.err(
                "expression must have exactly one key 'enum', 'struct', 'union', 'alternate', 'command', 'event'",
            ));
        };
        let Some((Value::Str(name), name_span)) = expr.get(meta).map(|n| (&n.value, n.span)) else {
            return Err(self.err(&format!("'{meta}' requires a string name")));
        };
        let name = name.clone();
        self.sources.set_defn(self.info, meta, &name);
        match meta {
            "event" => names::check_name_upper(&name),
            "command" => {
                let permit = self
                    .pragma
                    .command_name_exceptions
                    .iter()
                    .any(|e| **e == *name);
                names::check_name_lower(&name, false, permit)
            }
            _ => names::check_name_camel(&name),
        }
        .map_err(|e| self.name_err(e, &meta))?;
        if meta != "event" && meta != "command" && name.ends_with("List") {
            return Err(self.err(&format!("{meta} name should not end in 'List'")));
        }

        if let Some((_, d)) = doc {
            let symbol = d.symbol.as_deref().unwrap_or_default();
            if symbol != &*name {
                return Err(self.err(&format!("documentation comment is for '{symbol}'")));
            }
            self.check_doc_expr(d, meta, expr)?;
        } else if self.pragma.doc_required {
            return Err(self.err("documentation comment required"));
        }

        let (required, optional) = keys_of(meta);
        self.check_keys(View::Dict(expr), &meta, required, optional)?;
        let mut kind = match meta {
            "enum" => self.check_enum(expr, &name)?,
            "union" => self.check_union(expr, &name)?,
            "alternate" => self.check_alternate(expr)?,
            "struct" => {
                let members = self.check_type_implicit(
                    expr.get("data").expect("required"),
                    &"'data'",
                    Some(&name),
                )?;
                let base = self.check_type_name(expr.get("base"), &"'base'")?;
                DefKind::Struct { base, members }
            }
            "command" => {
                let (data, boxed) = self.check_args(expr)?;
                let returns = self.check_type_name_or_array(expr.get("returns"), &"'returns'")?;
                DefKind::Command {
                    data,
                    returns,
                    boxed,
                    gen: true,
                    success_response: true,
                    allow_oob: false,
                    allow_preconfig: false,
                    coroutine: false,
                }
            }
            _ => {
                let (data, boxed) = self.check_args(expr)?;
                DefKind::Event { data, boxed }
            }
        };

        let ifcond = self.check_if(View::Dict(expr), &meta)?;
        let features = self.check_features(expr.get("features"))?;
        // QEMU checks the flags last, on every kind of definition; a
        // command's `boxed` was already read (any true value) by
        // `check_args`, and here must be exactly `true`.
        let gen = self.check_flag(expr, "gen", false, true)?;
        let success_response = self.check_flag(expr, "success-response", false, true)?;
        self.check_flag(expr, "boxed", true, false)?;
        let allow_oob = self.check_flag(expr, "allow-oob", true, false)?;
        let allow_preconfig = self.check_flag(expr, "allow-preconfig", true, false)?;
        let coroutine = self.check_flag(expr, "coroutine", true, false)?;
        if expr.contains("allow-oob") && expr.contains("coroutine") {
            return Err(self.err("flags 'allow-oob' and 'coroutine' are incompatible"));
        }
        if let DefKind::Command {
            gen: g,
            success_response: s,
            allow_oob: o,
            allow_preconfig: p,
            coroutine: c,
            ..
        } = &mut kind
        {
            (*g, *s, *o, *p, *c) = (gen, success_response, allow_oob, allow_preconfig, coroutine);
        }
        Ok(Definition {
            name,
            name_span,
            info: self.info,
            doc: doc.map(|(i, _)| i),
            ifcond,
            features,
            kind,
        })
    }

    /// QEMU's `QAPIDoc.check_expr`: `Returns:` and `Errors:` sections
    /// belong to commands, and `Returns:` only to commands that return.
    fn check_doc_expr(&self, doc: &Doc, meta: &str, expr: &Dict) -> Result<()> {
        if !self.rules.errors_section {
            // Until 9.0: one check, at the doc block's first line.
            if meta != "command" && doc.returns().is_some() {
                return Err(Error::at(
                    self.sources,
                    doc.info,
                    "'Returns:' is only valid for commands",
                ));
            }
            return Ok(());
        }
        if meta == "command" {
            if let Some(r) = doc.returns() {
                if !expr.contains("returns") {
                    return Err(Error::at(
                        self.sources,
                        r.info,
                        "'Returns' section, but command doesn't return anything",
                    ));
                }
            }
        } else {
            if let Some(r) = doc.returns() {
                return Err(Error::at(
                    self.sources,
                    r.info,
                    "'Returns' section is only valid for commands",
                ));
            }
            if let Some(e) = doc.errors() {
                return Err(Error::at(
                    self.sources,
                    e.info,
                    "'Errors' section is only valid for commands",
                ));
            }
        }
        Ok(())
    }

    /// `data` and `boxed` of commands and events.
    fn check_args(&self, expr: &Dict) -> Result<(Option<ObjectRef>, bool)> {
        let args = expr.get("data");
        let boxed = expr.get("boxed").is_some_and(|b| b.value.truthy());
        if boxed {
            let Some(args) = args else {
                return Err(self.err("'boxed': true requires 'data'"));
            };
            let name = self
                .check_type_name(Some(args), &"'data'")?
                .expect("present");
            Ok((Some(ObjectRef::Named(name)), true))
        } else {
            Ok((
                self.check_type_name_or_implicit(args, &"'data'", None)?,
                false,
            ))
        }
    }

    fn check_enum(&self, expr: &Dict, name: &str) -> Result<DefKind> {
        let Value::List(members) = &expr.get("data").expect("required").value else {
            return Err(self.err("'data' must be an array"));
        };
        let prefix = match expr.get("prefix").map(|n| &n.value) {
            None => None,
            Some(Value::Str(s)) => Some(s.clone()),
            Some(_) => return Err(self.err("'prefix' must be a string")),
        };
        let permissive = self.pragma.member_name_exceptions.iter().any(|e| e == name);
        let mut values = Vec::with_capacity(members.len());
        for m in members {
            let member = View::of(m, "name");
            let source = "'data' member";
            self.check_keys(member, &source, &["name"], &["if", "features"])?;
            let Some((vname, span)) = member
                .get("name")
                .and_then(|n| Some((n.value.as_str()?, n.span)))
            else {
                return Err(self.err(&format!("{source} requires a string name")));
            };
            let source = Quoted(source, vname);
            // Enum values may start with a digit: QEMU checks 'd' + value.
            // (QEMU crashes on an empty value; we report it as invalid.)
            let checked = if vname.starts_with(|c: char| c.is_ascii_digit()) {
                Cow::Owned(format!("d{vname}"))
            } else {
                Cow::Borrowed(vname)
            };
            names::check_name_lower(&checked, permissive, permissive)
                .map_err(|e| self.name_err(e, &source))?;
            let ifcond = self.check_if(member, &source)?;
            let features = self.check_features(member.get("features"))?;
            values.push(EnumValueDef {
                name: Name::from(vname),
                span,
                ifcond,
                features,
            });
        }
        Ok(DefKind::Enum { values, prefix })
    }

    fn check_union(&self, expr: &Dict, name: &str) -> Result<DefKind> {
        let base = self
            .check_type_name_or_implicit(expr.get("base"), &"'base'", Some(name))?
            .expect("required");
        let Some(discriminator) = expr.get("discriminator").and_then(|n| n.value.as_str()) else {
            return Err(self.err("'discriminator' requires a string name"));
        };
        let Value::Dict(data) = &expr.get("data").expect("required").value else {
            return Err(self.err("'data' must be an object"));
        };
        let mut branches = Vec::with_capacity(data.len());
        for entry in &data.entries {
            let (key, value) = (&entry.key, &entry.value);
            let source = format!("'data' member '{key}'");
            let value = View::of(value, "type");
            self.check_keys(value, &source, &["type"], &["if"])?;
            let ifcond = self.check_if(value, &source)?;
            let ty = self
                .check_type_name(value.get("type"), &source)?
                .expect("required");
            branches.push(BranchDef {
                span: entry.key_span,
                name: key.clone(),
                ty: TypeRef::Named(ty),
                ifcond,
            });
        }
        Ok(DefKind::Union {
            base,
            discriminator: Name::from(discriminator),
            branches,
        })
    }

    fn check_alternate(&self, expr: &Dict) -> Result<DefKind> {
        let data = expr.get("data").expect("required");
        if !data.value.truthy() {
            return Err(self.err("'data' must not be empty"));
        }
        let Value::Dict(data) = &data.value else {
            return Err(self.err("'data' must be an object"));
        };
        let mut branches = Vec::with_capacity(data.len());
        for entry in &data.entries {
            let (key, value) = (&entry.key, &entry.value);
            let source = format!("'data' member '{key}'");
            names::check_name_lower(key, false, false).map_err(|e| self.name_err(e, &source))?;
            let value = View::of(value, "type");
            self.check_keys(value, &source, &["type"], &["if"])?;
            let ifcond = self.check_if(value, &source)?;
            let ty = self
                .check_type_name_or_array(value.get("type"), &source)?
                .expect("required");
            branches.push(BranchDef {
                span: entry.key_span,
                name: key.clone(),
                ty,
                ifcond,
            });
        }
        Ok(DefKind::Alternate { branches })
    }
}
