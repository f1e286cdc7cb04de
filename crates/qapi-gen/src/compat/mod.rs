//! Schema diff: what changed on the wire between two schemas (any two
//! supported releases), or between a schema and a `query-qmp-schema`
//! reply, and whom each change breaks.
//!
//! Both sides become a [`wire::Wire`] (commands, events and the shapes of
//! their values; type names play no part, since introspection masks them),
//! and the diff walks every command and event of both in parallel.  Each
//! change is found once per pair of types, with every command or event path
//! through which it is visible, in libvirt's query syntax
//! (`migrate-set-parameters/arg-type/compress-level`, `+case` for a union
//! branch, `^value` for an enum value).
//!
//! Whom a change breaks depends on the direction the value travels:
//! * in arguments (client → QEMU), what the new schema *adds* breaks a
//!   client built for the new schema talking to the old QEMU (the old one
//!   rejects it), and what it *removes* or *requires* breaks a client built
//!   for the old schema talking to the new QEMU;
//! * in returns and events (QEMU → client), a new mandatory member breaks
//!   new clients on the old QEMU (it is missing), a removed or now-optional
//!   one old clients on the new QEMU, and a new enum value or union branch
//!   old clients on the new QEMU (they cannot decode it).
//!
//! Types used in both directions get both verdicts.

pub mod wire;

use std::fmt;

use rustc_hash::{FxHashMap, FxHashSet};

use wire::{Loc, Shape, TypeId, Wire, WireEntry};

/// Which clients a change breaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Breaks {
    /// A client built for the old schema, talking to the new QEMU.
    pub old_client_new_qemu: bool,
    /// A client built for the new schema, talking to the old QEMU.
    pub new_client_old_qemu: bool,
}

impl Breaks {
    const NONE: Breaks = Breaks {
        old_client_new_qemu: false,
        new_client_old_qemu: false,
    };
    const OLD: Breaks = Breaks {
        old_client_new_qemu: true,
        new_client_old_qemu: false,
    };
    const NEW: Breaks = Breaks {
        old_client_new_qemu: false,
        new_client_old_qemu: true,
    };
    const BOTH: Breaks = Breaks {
        old_client_new_qemu: true,
        new_client_old_qemu: true,
    };

    /// Whether it breaks anyone.
    pub fn any(self) -> bool {
        self.old_client_new_qemu || self.new_client_old_qemu
    }

    /// The stable names of whom it breaks (`old-client-new-qemu`,
    /// `new-client-old-qemu`).
    pub fn names(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.old_client_new_qemu {
            v.push("old-client-new-qemu");
        }
        if self.new_client_old_qemu {
            v.push("new-client-old-qemu");
        }
        v
    }
}

/// What kind of change (the `change` field of `qapi-gen compat --format
/// json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Present in the new schema only.
    Added,
    /// Present in the old schema only.
    Removed,
    /// An optional member became mandatory.
    NowMandatory,
    /// A mandatory member became optional.
    NowOptional,
    /// A member's type changed shape (e.g. `str` to an object).
    TypeChanged,
    /// Gained the `deprecated` feature.
    Deprecated,
    /// Lost the `deprecated` feature.
    NoLongerDeprecated,
    /// Gained the `unstable` feature.
    Unstable,
    /// Lost the `unstable` feature.
    NoLongerUnstable,
    /// Gained another feature.
    FeatureAdded,
    /// Lost another feature.
    FeatureRemoved,
}

impl ChangeKind {
    /// The stable name.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::NowMandatory => "now-mandatory",
            ChangeKind::NowOptional => "now-optional",
            ChangeKind::TypeChanged => "type-changed",
            ChangeKind::Deprecated => "deprecated",
            ChangeKind::NoLongerDeprecated => "no-longer-deprecated",
            ChangeKind::Unstable => "unstable",
            ChangeKind::NoLongerUnstable => "no-longer-unstable",
            ChangeKind::FeatureAdded => "feature-added",
            ChangeKind::FeatureRemoved => "feature-removed",
        }
    }
}

/// What a change is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// A command.
    Command,
    /// An event.
    Event,
    /// A member of an object type.
    Member(String),
    /// A value of an enum.
    Value(String),
    /// A union branch (its tag value).
    Branch(String),
    /// An alternative of an alternate (by JSON type).
    Alternative(String),
    /// A feature of the entity (or of its member/value: `(of, feature)`).
    Feature(Option<String>, String),
    /// The whole type (an alternate's or enum's shape).
    Type,
}

/// One change.
#[derive(Clone, Debug)]
pub struct Change {
    /// What kind.
    pub change: ChangeKind,
    /// The command, event or type it is in (the named side's name).
    pub entity: String,
    /// What in it.
    pub subject: Subject,
    /// Every command/event path through which it is visible (libvirt's
    /// query syntax), in order of discovery, at most [`MAX_PATHS`].
    pub paths: Vec<String>,
    /// Whom it breaks.
    pub breaks: Breaks,
    /// Where the old side is written.
    pub old: Loc,
    /// Where the new side is written.
    pub new: Loc,
}

/// How many paths a change lists at most (a type used everywhere is
/// visible through thousands).
pub const MAX_PATHS: usize = 64;

impl Change {
    /// The member, if the change is about one.
    pub fn member(&self) -> Option<&str> {
        match &self.subject {
            Subject::Member(m) => Some(m),
            Subject::Feature(Some(m), _) => Some(m),
            _ => None,
        }
    }

    /// The enum value, union branch or alternative, if the change is about
    /// one.
    pub fn value(&self) -> Option<&str> {
        match &self.subject {
            Subject::Value(v) | Subject::Branch(v) | Subject::Alternative(v) => Some(v),
            _ => None,
        }
    }

    /// The feature, if the change is about one.
    pub fn feature(&self) -> Option<&str> {
        match &self.subject {
            Subject::Feature(_, f) => Some(f),
            _ => None,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.subject {
            Subject::Command => format!("command '{}'", self.entity),
            Subject::Event => format!("event '{}'", self.entity),
            Subject::Member(m) => format!("member '{m}' of '{}'", self.entity),
            Subject::Value(v) => format!("value '{v}' of enum '{}'", self.entity),
            Subject::Branch(v) => format!("branch '{v}' of union '{}'", self.entity),
            Subject::Alternative(v) => format!("{v} alternative of '{}'", self.entity),
            Subject::Feature(Some(m), feat) => {
                format!("feature '{feat}' of '{m}' of '{}'", self.entity)
            }
            Subject::Feature(None, feat) => format!("feature '{feat}' of '{}'", self.entity),
            Subject::Type => format!("type '{}'", self.entity),
        };
        let loc = |l: &Loc| l.clone().unwrap_or_else(|| "-".to_string());
        write!(
            f,
            "{}: {what} ({} -> {})",
            self.change.name(),
            loc(&self.old),
            loc(&self.new)
        )?;
        if self.breaks.any() {
            write!(f, "; breaks {}", self.breaks.names().join(", "))?;
        }
        for p in &self.paths {
            write!(f, "\n    {p}")?;
        }
        Ok(())
    }
}

/// One side of a comparison: a schema (its release from its tree's
/// `VERSION`, or named as `PATH@X.Y`) or a `query-qmp-schema` reply (a
/// JSON file holding `{"return": [...]}` or the bare list).
pub fn load_side(spec: &str) -> Result<Wire, crate::Error> {
    let (path, release) = crate::split_release_spec(spec)?;
    let bytes = crate::parse::read_root(path)?;
    if release.is_none() {
        let t = std::str::from_utf8(&bytes).unwrap_or_default().trim_start();
        if t.starts_with('[') || t.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(t) {
                return Wire::from_introspection(&v)
                    .map_err(|e| crate::Error::bare(format!("{path}: {e}")));
            }
        }
    }
    let opts = crate::LoadOptions {
        release,
        ..Default::default()
    };
    Ok(Wire::from_schema(&crate::load_source_with_options(
        path, bytes, &opts,
    )?))
}

/// The changes as JSON: one object per change with `change`, `entity`,
/// `member`/`value`/`feature` where they apply, `paths`, `breaks` (a list
/// of `old-client-new-qemu`, `new-client-old-qemu`), `old` and `new`
/// (`FILE:LINE` or null).
pub fn to_json(changes: &[Change]) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    Value::Array(
        changes
            .iter()
            .map(|c| {
                let mut o = Map::new();
                o.insert("change".into(), json!(c.change.name()));
                o.insert("entity".into(), json!(c.entity));
                let kind = match &c.subject {
                    Subject::Command => "command",
                    Subject::Event => "event",
                    Subject::Member(_) => "member",
                    Subject::Value(_) => "value",
                    Subject::Branch(_) => "branch",
                    Subject::Alternative(_) => "alternative",
                    Subject::Feature(..) => "feature",
                    Subject::Type => "type",
                };
                o.insert("kind".into(), json!(kind));
                if let Some(m) = c.member() {
                    o.insert("member".into(), json!(m));
                }
                if let Some(v) = c.value() {
                    o.insert("value".into(), json!(v));
                }
                if let Some(f) = c.feature() {
                    o.insert("feature".into(), json!(f));
                }
                o.insert("paths".into(), json!(c.paths));
                o.insert("breaks".into(), json!(c.breaks.names()));
                o.insert("old".into(), json!(c.old));
                o.insert("new".into(), json!(c.new));
                Value::Object(o)
            })
            .collect(),
    )
}

/// Which way a value travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Dir {
    /// Arguments: client to QEMU.
    In,
    /// Returns and events: QEMU to client.
    Out,
}

/// Whom an enum value, union branch or alternative that appeared
/// (`Added`) or went away (`Removed`) breaks.
fn element_breaks(kind: ChangeKind, dir: Dir) -> Breaks {
    match (kind, dir) {
        // New clients may send it; the old QEMU rejects it.
        (ChangeKind::Added, Dir::In) => Breaks::NEW,
        // Old clients cannot decode it.
        (ChangeKind::Added, Dir::Out) => Breaks::OLD,
        // Old clients may still send it.
        (ChangeKind::Removed, Dir::In) => Breaks::OLD,
        _ => Breaks::NONE,
    }
}

/// Whom a member change breaks; `optional` is the member's optionality on
/// the side where it exists (for `Removed`, the old side).
fn member_breaks(kind: ChangeKind, dir: Dir, optional: bool) -> Breaks {
    match (kind, dir, optional) {
        // New clients may send it (or must, if mandatory, which old
        // clients do not).
        (ChangeKind::Added, Dir::In, true) => Breaks::NEW,
        (ChangeKind::Added, Dir::In, false) => Breaks::BOTH,
        // A new mandatory member of a reply is missing from the old QEMU's.
        (ChangeKind::Added, Dir::Out, false) => Breaks::NEW,
        // Old clients may still send it; old clients expect a mandatory one.
        (ChangeKind::Removed, Dir::In, _) => Breaks::OLD,
        (ChangeKind::Removed, Dir::Out, false) => Breaks::OLD,
        // Old clients may omit it; new clients expect it from the old QEMU.
        (ChangeKind::NowMandatory, Dir::In, _) => Breaks::OLD,
        (ChangeKind::NowMandatory, Dir::Out, _) => Breaks::NEW,
        // New clients may omit it; old clients expect it.
        (ChangeKind::NowOptional, Dir::In, _) => Breaks::NEW,
        (ChangeKind::NowOptional, Dir::Out, _) => Breaks::OLD,
        _ => Breaks::NONE,
    }
}

type Key = (ChangeKind, String, Subject);

/// The changes from `old` to `new`, commands first, then events, then in
/// order of discovery.
pub fn diff(old: &Wire, new: &Wire) -> Vec<Change> {
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
        index: FxHashMap::default(),
        memo: FxHashMap::default(),
        stack: FxHashSet::default(),
    };
    d.entries(&old.commands, &new.commands, true);
    d.entries(&old.events, &new.events, false);
    d.changes
}

/// The changes found below a pair of types: `(change, path suffix)`.
type Found = Vec<(usize, String)>;

struct Differ<'a> {
    old: &'a Wire,
    new: &'a Wire,
    changes: Vec<Change>,
    index: FxHashMap<Key, usize>,
    memo: FxHashMap<(TypeId, TypeId, Dir), std::rc::Rc<Found>>,
    stack: FxHashSet<(TypeId, TypeId, Dir)>,
}

fn has(features: &[String], f: &str) -> bool {
    features.iter().any(|x| x == f)
}

impl<'a> Differ<'a> {
    /// Records a change (or merges its verdict into the one found before)
    /// and returns its index.
    fn record(
        &mut self,
        kind: ChangeKind,
        entity: &str,
        subject: Subject,
        breaks: Breaks,
        old: Loc,
        new: Loc,
    ) -> usize {
        let key = (kind, entity.to_string(), subject.clone());
        if let Some(&i) = self.index.get(&key) {
            let b = &mut self.changes[i].breaks;
            b.old_client_new_qemu |= breaks.old_client_new_qemu;
            b.new_client_old_qemu |= breaks.new_client_old_qemu;
            return i;
        }
        self.changes.push(Change {
            change: kind,
            entity: entity.to_string(),
            subject,
            paths: Vec::new(),
            breaks,
            old,
            new,
        });
        let i = self.changes.len() - 1;
        self.index.insert(key, i);
        i
    }

    /// Records a change found below a pair of types, visible at `suffix`
    /// of the paths that lead to the pair.
    fn found(
        &mut self,
        out: &mut Found,
        suffix: String,
        (kind, subject, breaks): (ChangeKind, Subject, Breaks),
        entity: &str,
        (old, new): (&Loc, &Loc),
    ) {
        let i = self.record(kind, entity, subject, breaks, old.clone(), new.clone());
        out.push((i, suffix));
    }

    /// [`Differ::found`] for an enum value, union branch or alternative:
    /// whom it breaks follows from the direction ([`element_breaks`]).
    fn element(
        &mut self,
        out: &mut Found,
        suffix: String,
        (kind, subject): (ChangeKind, Subject),
        dir: Dir,
        entity: &str,
        locs: (&Loc, &Loc),
    ) {
        let change = (kind, subject, element_breaks(kind, dir));
        self.found(out, suffix, change, entity, locs);
    }

    fn add_path(&mut self, i: usize, path: String) {
        let paths = &mut self.changes[i].paths;
        if paths.len() < MAX_PATHS && !paths.contains(&path) {
            paths.push(path);
        }
    }

    /// Feature changes of something, with their verdicts (none).
    fn features(
        &mut self,
        entity: &str,
        of: Option<&str>,
        (old, new): (&[String], &[String]),
        (ol, nl): (&Loc, &Loc),
    ) -> Vec<usize> {
        let mut out = Vec::new();
        let subject = |f: &str| Subject::Feature(of.map(str::to_string), f.to_string());
        for f in new.iter().filter(|f| !has(old, f)) {
            let kind = match f.as_str() {
                "deprecated" => ChangeKind::Deprecated,
                "unstable" => ChangeKind::Unstable,
                _ => ChangeKind::FeatureAdded,
            };
            out.push(self.record(
                kind,
                entity,
                subject(f),
                Breaks::NONE,
                ol.clone(),
                nl.clone(),
            ));
        }
        for f in old.iter().filter(|f| !has(new, f)) {
            let kind = match f.as_str() {
                "deprecated" => ChangeKind::NoLongerDeprecated,
                "unstable" => ChangeKind::NoLongerUnstable,
                _ => ChangeKind::FeatureRemoved,
            };
            out.push(self.record(
                kind,
                entity,
                subject(f),
                Breaks::NONE,
                ol.clone(),
                nl.clone(),
            ));
        }
        out
    }

    fn entries(
        &mut self,
        old: &'a [(String, WireEntry)],
        new: &'a [(String, WireEntry)],
        commands: bool,
    ) {
        let subject = if commands {
            Subject::Command
        } else {
            Subject::Event
        };
        let find = |list: &'a [(String, WireEntry)], n: &str| {
            list.iter().find(|(m, _)| m == n).map(|(_, e)| e)
        };
        for (name, o) in old {
            let Some(n) = find(new, name) else {
                // A removed command breaks old clients; a removed event
                // leaves them waiting for it.
                let i = self.record(
                    ChangeKind::Removed,
                    name,
                    subject.clone(),
                    Breaks::OLD,
                    o.loc.clone(),
                    None,
                );
                self.add_path(i, name.clone());
                continue;
            };
            for i in self.features(name, None, (&o.features, &n.features), (&o.loc, &n.loc)) {
                self.add_path(i, name.clone());
            }
            let arg_dir = if commands { Dir::In } else { Dir::Out };
            self.entry_type(name, "arg-type", (o.arg, n.arg), arg_dir);
            if let (Some(or), Some(nr)) = (o.ret, n.ret) {
                self.entry_type(name, "ret-type", (or, nr), Dir::Out);
            }
        }
        for (name, n) in new {
            if find(old, name).is_none() {
                let breaks = if commands { Breaks::NEW } else { Breaks::NONE };
                let i = self.record(
                    ChangeKind::Added,
                    name,
                    subject.clone(),
                    breaks,
                    None,
                    n.loc.clone(),
                );
                self.add_path(i, name.clone());
            }
        }
    }

    /// The changes below a command's or event's `step` (`arg-type`,
    /// `ret-type`), with the paths through it.  Both sides always have
    /// one: no arguments or no return value is the empty object.
    fn entry_type(&mut self, name: &str, step: &str, (o, n): (TypeId, TypeId), dir: Dir) {
        let found = self.pair(o, n, dir);
        for (i, suffix) in found.iter() {
            self.add_path(*i, format!("{name}/{step}{suffix}"));
        }
    }

    fn name_of(&self, o: TypeId, n: TypeId) -> String {
        let (ot, nt) = (&self.old.types[o], &self.new.types[n]);
        if nt.named || !ot.named {
            nt.name.clone()
        } else {
            ot.name.clone()
        }
    }

    /// Whether two types have the same kind of shape on the wire.
    fn same_kind(&self, o: TypeId, n: TypeId) -> bool {
        match (&self.old.types[o].shape, &self.new.types[n].shape) {
            (Shape::Builtin(a), Shape::Builtin(b)) => a == b,
            (Shape::Enum(_), Shape::Enum(_)) => true,
            (Shape::Array(a), Shape::Array(b)) => self.same_kind(*a, *b),
            (Shape::Object { .. }, Shape::Object { .. }) => true,
            (Shape::Alternate(_), Shape::Alternate(_)) => true,
            _ => false,
        }
    }

    /// The JSON kind of a shape, for matching alternatives.
    fn kind_name(w: &Wire, t: TypeId) -> String {
        match &w.types[t].shape {
            Shape::Builtin(b) => b.clone(),
            Shape::Enum(_) => "str".into(),
            Shape::Array(_) => "array".into(),
            Shape::Object { .. } => "object".into(),
            Shape::Alternate(_) => "alternate".into(),
        }
    }

    /// The changes below a pair of types of the same kind, memoised.
    fn pair(&mut self, o: TypeId, n: TypeId, dir: Dir) -> std::rc::Rc<Found> {
        let key = (o, n, dir);
        if let Some(f) = self.memo.get(&key) {
            return f.clone();
        }
        if !self.stack.insert(key) {
            // A recursive type: its changes are found where it started.
            return std::rc::Rc::new(Vec::new());
        }
        let found = self.compare(o, n, dir);
        self.stack.remove(&key);
        let found = std::rc::Rc::new(found);
        self.memo.insert(key, found.clone());
        found
    }

    fn compare(&mut self, o: TypeId, n: TypeId, dir: Dir) -> Found {
        let (old, new) = (self.old, self.new);
        let (ot, nt) = (&old.types[o], &new.types[n]);
        let entity = self.name_of(o, n);
        let mut out: Found = Vec::new();
        let here = |i: usize| (i, String::new());
        for i in self.features(
            &entity,
            None,
            (&ot.features, &nt.features),
            (&ot.loc, &nt.loc),
        ) {
            out.push(here(i));
        }
        match (&ot.shape, &nt.shape) {
            (Shape::Enum(ov), Shape::Enum(nv)) => {
                for (v, feats) in nv {
                    let suffix = format!("/^{v}");
                    match ov.iter().find(|(w, _)| w == v) {
                        None => {
                            self.element(
                                &mut out,
                                suffix,
                                (ChangeKind::Added, Subject::Value(v.clone())),
                                dir,
                                &entity,
                                (&ot.loc, &nt.loc),
                            );
                        }
                        Some((_, ofeats)) => {
                            for i in
                                self.features(&entity, Some(v), (ofeats, feats), (&ot.loc, &nt.loc))
                            {
                                out.push((i, suffix.clone()));
                            }
                        }
                    }
                }
                for (v, _) in ov.iter().filter(|(v, _)| !nv.iter().any(|(w, _)| w == v)) {
                    self.element(
                        &mut out,
                        format!("/^{v}"),
                        (ChangeKind::Removed, Subject::Value(v.clone())),
                        dir,
                        &entity,
                        (&ot.loc, &nt.loc),
                    );
                }
            }
            (Shape::Array(a), Shape::Array(b)) => {
                // libvirt's paths look through arrays.
                let found = self.pair(*a, *b, dir);
                out.extend(found.iter().cloned());
            }
            (
                Shape::Object {
                    members: om,
                    variants: ovar,
                    ..
                },
                Shape::Object {
                    members: nm,
                    variants: nvar,
                    ..
                },
            ) => {
                for m in nm {
                    let suffix = format!("/{}", m.name);
                    let Some(p) = om.iter().find(|x| x.name == m.name) else {
                        self.found(
                            &mut out,
                            suffix,
                            (
                                ChangeKind::Added,
                                Subject::Member(m.name.clone()),
                                member_breaks(ChangeKind::Added, dir, m.optional),
                            ),
                            &entity,
                            (&ot.loc, &m.loc),
                        );
                        continue;
                    };
                    if p.optional && !m.optional {
                        self.found(
                            &mut out,
                            suffix.clone(),
                            (
                                ChangeKind::NowMandatory,
                                Subject::Member(m.name.clone()),
                                member_breaks(ChangeKind::NowMandatory, dir, false),
                            ),
                            &entity,
                            (&p.loc, &m.loc),
                        );
                    } else if !p.optional && m.optional {
                        self.found(
                            &mut out,
                            suffix.clone(),
                            (
                                ChangeKind::NowOptional,
                                Subject::Member(m.name.clone()),
                                member_breaks(ChangeKind::NowOptional, dir, true),
                            ),
                            &entity,
                            (&p.loc, &m.loc),
                        );
                    }
                    for i in self.features(
                        &entity,
                        Some(&m.name),
                        (&p.features, &m.features),
                        (&p.loc, &m.loc),
                    ) {
                        out.push((i, suffix.clone()));
                    }
                    if self.same_kind(p.ty, m.ty) {
                        let found = self.pair(p.ty, m.ty, dir);
                        out.extend(found.iter().map(|(i, s)| (*i, format!("{suffix}{s}"))));
                    } else {
                        let change = (
                            ChangeKind::TypeChanged,
                            Subject::Member(m.name.clone()),
                            Breaks::BOTH,
                        );
                        self.found(&mut out, suffix, change, &entity, (&p.loc, &m.loc));
                    }
                }
                for p in om.iter().filter(|p| !nm.iter().any(|m| m.name == p.name)) {
                    self.found(
                        &mut out,
                        format!("/{}", p.name),
                        (
                            ChangeKind::Removed,
                            Subject::Member(p.name.clone()),
                            member_breaks(ChangeKind::Removed, dir, p.optional),
                        ),
                        &entity,
                        (&p.loc, &nt.loc),
                    );
                }
                for (case, t) in nvar {
                    let suffix = format!("/+{case}");
                    match ovar.iter().find(|(c, _)| c == case) {
                        None => {
                            self.element(
                                &mut out,
                                suffix,
                                (ChangeKind::Added, Subject::Branch(case.clone())),
                                dir,
                                &entity,
                                (&ot.loc, &nt.loc),
                            );
                        }
                        Some((_, ot2)) => {
                            let found = self.pair(*ot2, *t, dir);
                            out.extend(found.iter().map(|(i, s)| (*i, format!("{suffix}{s}"))));
                        }
                    }
                }
                for (case, _) in ovar
                    .iter()
                    .filter(|(c, _)| !nvar.iter().any(|(d, _)| d == c))
                {
                    self.element(
                        &mut out,
                        format!("/+{case}"),
                        (ChangeKind::Removed, Subject::Branch(case.clone())),
                        dir,
                        &entity,
                        (&ot.loc, &nt.loc),
                    );
                }
            }
            (Shape::Alternate(oa), Shape::Alternate(na)) => {
                for t in na {
                    let k = Self::kind_name(new, *t);
                    match oa.iter().find(|u| Self::kind_name(old, **u) == k) {
                        None => {
                            self.element(
                                &mut out,
                                String::new(),
                                (ChangeKind::Added, Subject::Alternative(k)),
                                dir,
                                &entity,
                                (&ot.loc, &nt.loc),
                            );
                        }
                        Some(u) => {
                            if self.same_kind(*u, *t) {
                                let found = self.pair(*u, *t, dir);
                                out.extend(found.iter().cloned());
                            }
                        }
                    }
                }
                for u in oa {
                    let k = Self::kind_name(old, *u);
                    if !na.iter().any(|t| Self::kind_name(new, *t) == k) {
                        self.element(
                            &mut out,
                            String::new(),
                            (ChangeKind::Removed, Subject::Alternative(k)),
                            dir,
                            &entity,
                            (&ot.loc, &nt.loc),
                        );
                    }
                }
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(src: &str) -> Wire {
        let schema = crate::load_source_with_options(
            "t.json",
            src,
            &crate::LoadOptions::default().release(crate::Release::NEWEST),
        )
        .expect("valid");
        Wire::from_schema(&schema)
    }

    fn changes(old: &str, new: &str) -> Vec<(String, String, Vec<&'static str>, Vec<String>)> {
        diff(&wire(old), &wire(new))
            .into_iter()
            .map(|c| {
                (
                    c.change.name().to_string(),
                    format!("{}:{}", c.entity, c.member().or(c.value()).unwrap_or("")),
                    c.breaks.names(),
                    c.paths,
                )
            })
            .collect()
    }

    #[test]
    fn verdicts() {
        use ChangeKind::*;
        let (i, o) = (Dir::In, Dir::Out);
        let members = [
            (Added, i, true, Breaks::NEW),
            (Added, i, false, Breaks::BOTH),
            (Added, o, true, Breaks::NONE),
            (Added, o, false, Breaks::NEW),
            (Removed, i, true, Breaks::OLD),
            (Removed, o, true, Breaks::NONE),
            (Removed, o, false, Breaks::OLD),
            (NowMandatory, i, false, Breaks::OLD),
            (NowMandatory, o, false, Breaks::NEW),
            (NowOptional, i, true, Breaks::NEW),
            (NowOptional, o, true, Breaks::OLD),
        ];
        for (k, d, opt, want) in members {
            assert_eq!(member_breaks(k, d, opt), want, "{k:?} {d:?} {opt}");
        }
        let elements = [
            (Added, i, Breaks::NEW),
            (Added, o, Breaks::OLD),
            (Removed, i, Breaks::OLD),
            (Removed, o, Breaks::NONE),
        ];
        for (k, d, want) in elements {
            assert_eq!(element_breaks(k, d), want, "{k:?} {d:?}");
        }
    }

    #[test]
    fn members_in_and_out() {
        let old = "{ 'struct': 'Rr', 'data': { 'a': 'int', '*b': 'str' } }\n\
                   { 'command': 'c', 'data': { 'x': 'int', '*y': 'int' }, 'returns': 'Rr' }\n";
        let new = "{ 'struct': 'Rr', 'data': { 'a': 'int', 'b': 'str', 'acpi': 'bool' } }\n\
                   { 'command': 'c', 'data': { '*x': 'int', 'z': 'int' }, 'returns': 'Rr' }\n";
        let got = changes(old, new);
        let want: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = vec![
            (
                "now-optional",
                "q_obj_c-arg:x",
                vec!["new-client-old-qemu"],
                vec!["c/arg-type/x"],
            ),
            (
                "added",
                "q_obj_c-arg:z",
                vec!["old-client-new-qemu", "new-client-old-qemu"],
                vec!["c/arg-type/z"],
            ),
            (
                "removed",
                "q_obj_c-arg:y",
                vec!["old-client-new-qemu"],
                vec!["c/arg-type/y"],
            ),
            (
                "now-mandatory",
                "Rr:b",
                vec!["new-client-old-qemu"],
                vec!["c/ret-type/b"],
            ),
            (
                "added",
                "Rr:acpi",
                vec!["new-client-old-qemu"],
                vec!["c/ret-type/acpi"],
            ),
        ];
        let got: Vec<_> = got
            .iter()
            .map(|(c, e, b, p)| {
                (
                    c.as_str(),
                    e.as_str(),
                    b.clone(),
                    p.iter().map(String::as_str).collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn enums_branches_and_commands() {
        let old = "{ 'enum': 'Ee', 'data': [ 'a', 'b' ] }\n\
                   { 'struct': 'Aa', 'data': {} }\n\
                   { 'union': 'Uu', 'base': { 'type': 'Ee' }, 'discriminator': 'type', 'data': { 'a': 'Aa' } }\n\
                   { 'command': 'set', 'data': { 'e': 'Ee' } }\n\
                   { 'command': 'gone' }\n\
                   { 'event': 'EV', 'data': 'Uu', 'boxed': true }\n";
        let new = "{ 'enum': 'Ee', 'data': [ 'a', 'c' ] }\n\
                   { 'struct': 'Aa', 'data': {} }\n\
                   { 'union': 'Uu', 'base': { 'type': 'Ee' }, 'discriminator': 'type', 'data': { 'a': 'Aa' } }\n\
                   { 'command': 'set', 'data': { 'e': 'Ee' }, 'features': [ 'deprecated' ] }\n\
                   { 'command': 'new' }\n\
                   { 'event': 'EV', 'data': 'Uu', 'boxed': true }\n";
        let got = changes(old, new);
        let find = |c: &str, e: &str| {
            got.iter()
                .find(|g| g.0 == c && g.1 == e)
                .unwrap_or_else(|| panic!("{c} {e} in {got:?}"))
        };
        assert_eq!(find("removed", "gone:").2, vec!["old-client-new-qemu"]);
        assert_eq!(find("added", "new:").2, vec!["new-client-old-qemu"]);
        assert_eq!(find("deprecated", "set:").2, Vec::<&str>::new());
        // E travels both ways: its new value breaks both kinds of client.
        let c = find("added", "Ee:c");
        assert_eq!(c.2, vec!["old-client-new-qemu", "new-client-old-qemu"]);
        assert!(c.3.contains(&"set/arg-type/e/^c".to_string()), "{:?}", c.3);
        assert!(
            c.3.contains(&"EV/arg-type/type/^c".to_string()),
            "{:?}",
            c.3
        );
        let b = find("removed", "Ee:b");
        assert!(b.3.contains(&"set/arg-type/e/^b".to_string()));
        // The union's implicit branch for 'c' is new.
        assert!(find("added", "Uu:c")
            .3
            .contains(&"EV/arg-type/+c".to_string()));
    }

    #[test]
    fn type_changes_and_recursion() {
        let old = "{ 'struct': 'Tt', 'data': { 'x': 'int', '*next': 'Tt' } }\n\
                   { 'command': 'c', 'data': { 't': 'Tt' } }\n";
        let new = "{ 'struct': 'Tt', 'data': { 'x': 'str', '*next': 'Tt' } }\n\
                   { 'command': 'c', 'data': { 't': 'Tt' } }\n";
        let got = changes(old, new);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].0.as_str(), got[0].1.as_str()),
            ("type-changed", "Tt:x")
        );
        assert_eq!(got[0].3, vec!["c/arg-type/t/x"]);
    }
}
