//! Building `syn` trees directly, for the items the backend emits by the
//! thousand (struct and enum definitions, their impls, the introspection
//! tables).
//!
//! Why: `prettyplease` prints a `syn::File`.  Making tokens with `quote!`
//! and parsing them back with `syn` costs about three times what printing
//! does (syn clones every identifier it peeks at), so the hot items skip
//! the round trip.  Two tools keep that readable:
//!
//! * small constructors for leaves: [`doc_attrs`], [`list_attr`], [`ty`],
//!   [`lit_str`], [`call`], [`field`], [`arm`], ...;
//! * [`Template`]: an item written as Rust source with holes (`__Self`,
//!   `__FIELDS`, ...), parsed once per thread, then cloned and filled.
//!
//! The trees are exactly what `syn` would parse from the same code, so
//! the formatted output does not depend on which way an item was made
//! (the generated files in `tests/golden.rs` and the checked-in bindings
//! would change otherwise).

use std::cell::RefCell;
use std::collections::HashMap;

use proc_macro2::{Ident, Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{
    AttrStyle, Attribute, Expr, ExprLit, Field, FieldValue, Item, Lit, LitStr, Member, Meta,
    MetaList, MetaNameValue, Pat, Path, PathArguments, PathSegment, Type, Variant,
};

use crate::error::Error;

/// Tokens → items, for the parts still written with `quote!`.
pub(crate) fn parse_items(tokens: TokenStream) -> Result<Vec<Item>, Error> {
    syn::parse2::<syn::File>(tokens)
        .map(|f| f.items)
        .map_err(|e| {
            Error::bare(format!(
                "internal error: generated code does not parse: {e}"
            ))
        })
}

fn span() -> Span {
    Span::call_site()
}

/// An identifier (raw when a keyword, like [`super::ident`]).
pub(crate) fn id(name: &str) -> Ident {
    super::ident(name)
}

/// A path written as Rust (`::std::string::String`, `qi::Type::Str`,
/// `Self::Foo`, `super::m::T`); no generic arguments.  Its segments are
/// taken as written: keywords such as `Self` and `super` stay keywords.
pub(crate) fn path(p: &str) -> Path {
    let (leading, rest) = match p.strip_prefix("::") {
        Some(r) => (Some(Default::default()), r),
        None => (None, p),
    };
    Path {
        leading_colon: leading,
        segments: rest
            .split("::")
            .map(|s| PathSegment::from(Ident::new(s, span())))
            .collect(),
    }
}

/// A type named by a path (`i64`, `super::common::OnOffAuto`), or `()`.
pub(crate) fn ty(p: &str) -> Type {
    if p == "()" {
        return Type::Tuple(syn::TypeTuple {
            paren_token: Default::default(),
            elems: Punctuated::new(),
        });
    }
    path_ty(path(p))
}

pub(crate) fn path_ty(path: Path) -> Type {
    Type::Path(syn::TypePath { qself: None, path })
}

/// `outer<arg>` (`Vec<T>`, `Option<T>`, `Box<T>`).
pub(crate) fn generic(mut outer: Path, arg: Type) -> Type {
    if let Some(last) = outer.segments.last_mut() {
        last.arguments = PathArguments::AngleBracketed(syn::AngleBracketedGenericArguments {
            colon2_token: None,
            lt_token: Default::default(),
            args: std::iter::once(syn::GenericArgument::Type(arg)).collect(),
            gt_token: Default::default(),
        });
    }
    path_ty(outer)
}

/// `&[elem]`.
pub(crate) fn slice_ref(elem: Type) -> Type {
    Type::Reference(syn::TypeReference {
        and_token: Default::default(),
        lifetime: None,
        mutability: None,
        elem: Box::new(Type::Slice(syn::TypeSlice {
            bracket_token: Default::default(),
            elem: Box::new(elem),
        })),
    })
}

pub(crate) fn outer_attr(meta: Meta) -> Attribute {
    Attribute {
        pound_token: Default::default(),
        style: AttrStyle::Outer,
        bracket_token: Default::default(),
        meta,
    }
}

/// `#[name(tokens)]`: `cfg`, `serde`, `derive`, `allow`, ...
pub(crate) fn list_attr(name: &str, tokens: TokenStream) -> Attribute {
    outer_attr(Meta::List(MetaList {
        path: path(name),
        delimiter: syn::MacroDelimiter::Paren(Default::default()),
        tokens,
    }))
}

/// `#[doc = "line"]`, which prints as `///line`.
pub(crate) fn doc_attr(line: &str) -> Attribute {
    outer_attr(Meta::NameValue(MetaNameValue {
        path: path("doc"),
        eq_token: Default::default(),
        value: lit_str(line),
    }))
}

/// One `#[doc]` attribute per line of `text`, each line after a space
/// (as `/// text` comments are).
pub(crate) fn doc_attrs(text: &str) -> Vec<Attribute> {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                doc_attr("")
            } else {
                doc_attr(&format!(" {l}"))
            }
        })
        .collect()
}

/// What starts a doc placeholder's text.
pub(crate) const DOC_MARK: char = '\u{1}';

/// A doc attribute standing for doc block `index` of a part: it prints as
/// `///\u{1}index`, which [`crate::backend::package::space_items`]
/// replaces with the block's lines, exactly as `prettyplease` prints one
/// `#[doc]` per line (`/// line`, or `///` for an empty one, trailing
/// spaces trimmed).
pub(crate) fn doc_placeholder(index: usize) -> Attribute {
    doc_attr(&format!("{DOC_MARK}{index}"))
}

/// A string literal expression.
pub(crate) fn lit_str(s: &str) -> Expr {
    Expr::Lit(ExprLit {
        attrs: Vec::new(),
        lit: Lit::Str(LitStr::new(s, span())),
    })
}

/// `true` or `false`.
pub(crate) fn lit_bool(b: bool) -> Expr {
    Expr::Lit(ExprLit {
        attrs: Vec::new(),
        lit: Lit::Bool(syn::LitBool::new(b, span())),
    })
}

/// A path expression (`None`, `qi::EMPTY`, `Self::Foo`).
pub(crate) fn path_expr(p: &str) -> Expr {
    Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: path(p),
    })
}

/// `func(args...)`.
pub(crate) fn call(func: &str, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::Call(syn::ExprCall {
        attrs: Vec::new(),
        func: Box::new(path_expr(func)),
        paren_token: Default::default(),
        args: args.into_iter().collect(),
    })
}

/// `receiver.method(args...)`.
pub(crate) fn method(receiver: Expr, name: &str, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::MethodCall(syn::ExprMethodCall {
        attrs: Vec::new(),
        receiver: Box::new(receiver),
        dot_token: Default::default(),
        method: id(name),
        turbofish: None,
        paren_token: Default::default(),
        args: args.into_iter().collect(),
    })
}

/// `expr?`.
pub(crate) fn try_(expr: Expr) -> Expr {
    Expr::Try(syn::ExprTry {
        attrs: Vec::new(),
        expr: Box::new(expr),
        question_token: Default::default(),
    })
}

/// `&expr`.
/// `self.name`.
pub(crate) fn self_field(name: Ident) -> Expr {
    Expr::Field(syn::ExprField {
        attrs: Vec::new(),
        base: Box::new(path_expr("self")),
        dot_token: Default::default(),
        member: Member::Named(name),
    })
}

/// `expr;` (attributes, say a `#[cfg]`, on the expression).
pub(crate) fn stmt(attrs: Vec<Attribute>, expr: Expr) -> syn::Stmt {
    syn::Stmt::Expr(with_attrs(expr, attrs), Some(Default::default()))
}

pub(crate) fn reference(expr: Expr) -> Expr {
    Expr::Reference(syn::ExprReference {
        attrs: Vec::new(),
        and_token: Default::default(),
        mutability: None,
        expr: Box::new(expr),
    })
}

/// `&[elems...]`.
pub(crate) fn slice(elems: impl IntoIterator<Item = Expr>) -> Expr {
    reference(Expr::Array(syn::ExprArray {
        attrs: Vec::new(),
        bracket_token: Default::default(),
        elems: elems.into_iter().collect(),
    }))
}

/// `expr` with outer attributes (`#[cfg(...)]` on an array element).
/// Only the expression kinds the backend builds can carry them.
pub(crate) fn with_attrs(mut expr: Expr, attrs: Vec<Attribute>) -> Expr {
    let slot = match &mut expr {
        Expr::Lit(e) => &mut e.attrs,
        Expr::Call(e) => &mut e.attrs,
        Expr::Path(e) => &mut e.attrs,
        Expr::Reference(e) => &mut e.attrs,
        Expr::MethodCall(e) => &mut e.attrs,
        Expr::Try(e) => &mut e.attrs,
        Expr::Array(e) => &mut e.attrs,
        Expr::Struct(e) => &mut e.attrs,
        // Another kind of element: wrap it, which prints the same.
        _ if !attrs.is_empty() => {
            return Expr::Group(syn::ExprGroup {
                attrs,
                group_token: Default::default(),
                expr: Box::new(expr),
            })
        }
        _ => return expr,
    };
    slot.splice(0..0, attrs);
    expr
}

/// Puts `attrs` on an item, after the doc comments the item already has
/// (a template's own docs come first, then its `cfg`, then the rest).
pub(crate) fn add_attrs(item: &mut Item, attrs: Vec<Attribute>) {
    if attrs.is_empty() {
        return;
    }
    let slot = match item {
        Item::Struct(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Const(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        _ => return,
    };
    let at = slot.iter().take_while(|a| a.path().is_ident("doc")).count();
    slot.splice(at..at, attrs);
}

/// An impl's first function.
fn first_fn(item: &mut Item) -> Option<&mut syn::ImplItemFn> {
    let Item::Impl(i) = item else { return None };
    i.items.iter_mut().find_map(|it| match it {
        syn::ImplItem::Fn(f) => Some(f),
        _ => None,
    })
}

/// The attributes of an impl's first function (for docs and lints set
/// by the caller).
pub(crate) fn first_fn_attrs(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    first_fn(item).map(|f| &mut f.attrs)
}

/// `Path { field: value, ... }`.
pub(crate) fn struct_expr<const N: usize>(path: &str, fields: [(&str, Expr); N]) -> Expr {
    Expr::Struct(syn::ExprStruct {
        attrs: Vec::new(),
        qself: None,
        path: self::path(path),
        brace_token: Default::default(),
        fields: fields
            .into_iter()
            .map(|(name, value)| field_value(Vec::new(), Ident::new(name, span()), Some(value)))
            .collect(),
        dot2_token: None,
        rest: None,
    })
}

/// `pub static NAME: TY = EXPR;`
pub(crate) fn static_item(attrs: Vec<Attribute>, name: Ident, ty: Type, expr: Expr) -> Item {
    Item::Static(syn::ItemStatic {
        attrs,
        vis: public(),
        static_token: Default::default(),
        mutability: syn::StaticMutability::None,
        ident: name,
        colon_token: Default::default(),
        ty: Box::new(ty),
        eq_token: Default::default(),
        expr: Box::new(expr),
        semi_token: Default::default(),
    })
}

pub(crate) fn public() -> syn::Visibility {
    syn::Visibility::Public(Default::default())
}

/// A named field: `attrs pub name: ty` (`vis` none for enum variants).
pub(crate) fn field(attrs: Vec<Attribute>, name: Ident, ty: Type) -> Field {
    Field {
        attrs,
        vis: public(),
        mutability: syn::FieldMutability::None,
        ident: Some(name),
        colon_token: Some(Default::default()),
        ty,
    }
}

/// A field of a struct literal: `name: expr`, or `name` when the
/// expression is that name.
pub(crate) fn field_value(attrs: Vec<Attribute>, name: Ident, expr: Option<Expr>) -> FieldValue {
    match expr {
        Some(expr) => FieldValue {
            attrs,
            member: Member::Named(name),
            colon_token: Some(Default::default()),
            expr,
        },
        None => FieldValue {
            attrs,
            expr: path_expr_ident(name.clone()),
            member: Member::Named(name),
            colon_token: None,
        },
    }
}

fn path_expr_ident(name: Ident) -> Expr {
    Expr::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: Path::from(name),
    })
}

/// A function parameter `name: ty`.
pub(crate) fn param(attrs: Vec<Attribute>, name: Ident, ty: Type) -> syn::FnArg {
    syn::FnArg::Typed(syn::PatType {
        attrs,
        pat: Box::new(Pat::Ident(syn::PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident: name,
            subpat: None,
        })),
        colon_token: Default::default(),
        ty: Box::new(ty),
    })
}

/// A unit or one-field tuple variant.
pub(crate) fn variant(attrs: Vec<Attribute>, name: Ident, ty: Option<Type>) -> Variant {
    let fields = match ty {
        None => syn::Fields::Unit,
        Some(t) => syn::Fields::Unnamed(syn::FieldsUnnamed {
            paren_token: Default::default(),
            unnamed: std::iter::once(Field {
                attrs: Vec::new(),
                vis: syn::Visibility::Inherited,
                mutability: syn::FieldMutability::None,
                ident: None,
                colon_token: None,
                ty: t,
            })
            .collect(),
        }),
    };
    Variant {
        attrs,
        ident: name,
        fields,
        discriminant: None,
    }
}

/// A match arm `attrs pat => body,`.
pub(crate) fn arm(attrs: Vec<Attribute>, pat: Pat, body: Expr) -> syn::Arm {
    syn::Arm {
        attrs,
        pat,
        guard: None,
        fat_arrow_token: Default::default(),
        body: Box::new(body),
        comma: Some(Default::default()),
    }
}

/// A path pattern (`Self::Foo`).
pub(crate) fn path_pat(p: &str) -> Pat {
    Pat::Path(syn::ExprPath {
        attrs: Vec::new(),
        qself: None,
        path: path(p),
    })
}

/// A string literal pattern.
pub(crate) fn str_pat(s: &str) -> Pat {
    Pat::Lit(ExprLit {
        attrs: Vec::new(),
        lit: Lit::Str(LitStr::new(s, span())),
    })
}

/// Items written as Rust source with holes, parsed once per thread:
///
/// * an identifier `__X` anywhere becomes the identifier given for it
///   ([`Fill::ident`]);
/// * a path starting with `__X` gets the given path in its place
///   ([`Fill::path`]: `__Result<Self, E>` → `::core::result::Result<...>`);
/// * an expression `__X` becomes the given expression ([`Fill::expr`]);
/// * a type `__X` becomes the given type ([`Fill::ty`]);
/// * `mod m { struct __X; }` gets the given items in the struct's place;
/// * `Self { __X }` gets the given fields, `match v { __X => {} }` the given
///   arms, `enum E { __X }` the given variants, `struct S { __X: () }` the
///   given fields, `fn f(__X: ())` the given parameters, a statement
///   `__X;` the given statements (the `*s` lists).
pub(crate) struct Template(pub &'static str);

thread_local! {
    static PARSED: RefCell<HashMap<&'static str, Vec<Item>>> = RefCell::new(HashMap::new());
}

impl Template {
    /// The template's items, filled.
    pub(crate) fn fill(&self, fill: &mut Fill) -> Result<Vec<Item>, Error> {
        let mut items = PARSED.with(|cache| -> Result<Vec<Item>, Error> {
            let mut cache = cache.borrow_mut();
            if let Some(items) = cache.get(self.0) {
                return Ok(items.clone());
            }
            let items = parse_items(
                self.0
                    .parse::<TokenStream>()
                    .map_err(|e| Error::bare(format!("internal error: bad template: {e}")))?,
            )?;
            cache.insert(self.0, items.clone());
            Ok(items)
        })?;
        fill.apply(&mut items)?;
        Ok(items)
    }

    /// The one item of a single-item template, filled.
    pub(crate) fn item(&self, fill: &mut Fill) -> Result<Item, Error> {
        let mut items = self.fill(fill)?;
        match (items.pop(), items.is_empty()) {
            (Some(item), true) => Ok(item),
            _ => Err(Error::bare("internal error: template is not one item")),
        }
    }
}

/// What goes into a [`Template`]'s holes.
#[derive(Default)]
pub(crate) struct Fill {
    idents: Vec<(&'static str, Ident)>,
    paths: Vec<(&'static str, Path)>,
    /// An expression or type fills one hole: the count says how many
    /// holes of its name were met (anything but one is a template bug).
    exprs: Vec<(&'static str, Option<Expr>, u32)>,
    types: Vec<(&'static str, Option<Type>, u32)>,
    items: Vec<(&'static str, Option<Vec<Item>>)>,
    field_values: Vec<(&'static str, Option<Vec<FieldValue>>)>,
    arms: Vec<(&'static str, Option<Vec<syn::Arm>>)>,
    variants: Vec<(&'static str, Option<Vec<Variant>>)>,
    fields: Vec<(&'static str, Option<Vec<Field>>)>,
    params: Vec<(&'static str, Option<Vec<syn::FnArg>>)>,
    stmts: Vec<(&'static str, Option<Vec<syn::Stmt>>)>,
}

impl Fill {
    pub(crate) fn new() -> Self {
        Fill::default()
    }
    pub(crate) fn ident(mut self, hole: &'static str, v: Ident) -> Self {
        self.idents.push((hole, v));
        self
    }
    pub(crate) fn path(mut self, hole: &'static str, v: Path) -> Self {
        self.paths.push((hole, v));
        self
    }
    pub(crate) fn expr(mut self, hole: &'static str, v: Expr) -> Self {
        self.exprs.push((hole, Some(v), 0));
        self
    }
    pub(crate) fn ty(mut self, hole: &'static str, v: Type) -> Self {
        self.types.push((hole, Some(v), 0));
        self
    }
    pub(crate) fn items(mut self, hole: &'static str, v: Vec<Item>) -> Self {
        self.items.push((hole, Some(v)));
        self
    }
    pub(crate) fn field_values(mut self, hole: &'static str, v: Vec<FieldValue>) -> Self {
        self.field_values.push((hole, Some(v)));
        self
    }
    pub(crate) fn arms(mut self, hole: &'static str, v: Vec<syn::Arm>) -> Self {
        self.arms.push((hole, Some(v)));
        self
    }
    pub(crate) fn variants(mut self, hole: &'static str, v: Vec<Variant>) -> Self {
        self.variants.push((hole, Some(v)));
        self
    }
    pub(crate) fn fields(mut self, hole: &'static str, v: Vec<Field>) -> Self {
        self.fields.push((hole, Some(v)));
        self
    }
    pub(crate) fn params(mut self, hole: &'static str, v: Vec<syn::FnArg>) -> Self {
        self.params.push((hole, Some(v)));
        self
    }
    pub(crate) fn stmts(mut self, hole: &'static str, v: Vec<syn::Stmt>) -> Self {
        self.stmts.push((hole, Some(v)));
        self
    }

    /// Fills the holes of `items` (made some other way than by a
    /// [`Template`]).
    pub(crate) fn apply(&mut self, items: &mut [Item]) -> Result<(), Error> {
        for item in items.iter_mut() {
            self.visit_item_mut(item);
        }
        match self.unfilled() {
            Some(hole) => Err(Error::bare(format!(
                "internal error: template hole {hole} was not found"
            ))),
            None => Ok(()),
        }
    }

    /// A hole that was never met (or, for an expression or type, met
    /// more than once).
    fn unfilled(&self) -> Option<&'static str> {
        fn open<T>(v: &[(&'static str, Option<T>)]) -> Option<&'static str> {
            v.iter().find(|(_, x)| x.is_some()).map(|(h, _)| *h)
        }
        fn unmet<T>(v: &[(&'static str, T, u32)]) -> Option<&'static str> {
            v.iter().find(|x| x.2 != 1).map(|x| x.0)
        }
        unmet(&self.exprs)
            .or_else(|| unmet(&self.types))
            .or_else(|| open(&self.items))
            .or_else(|| open(&self.field_values))
            .or_else(|| open(&self.arms))
            .or_else(|| open(&self.variants))
            .or_else(|| open(&self.fields))
            .or_else(|| open(&self.params))
            .or_else(|| open(&self.stmts))
    }
}

/// Takes the list for `hole` (when `name` is one).
fn take<T>(lists: &mut [(&'static str, Option<T>)], name: &Ident) -> Option<T> {
    lists
        .iter_mut()
        .find(|(h, _)| name == h)
        .and_then(|(_, v)| v.take())
}

fn single_ident(p: &Path) -> Option<&Ident> {
    match (p.leading_colon, p.segments.len()) {
        (None, 1) => p.segments.first().map(|s| &s.ident),
        _ => None,
    }
}

/// List holes are filled after their parent was walked, so that the
/// (possibly large) lists put in are not walked again.
impl VisitMut for Fill {
    fn visit_ident_mut(&mut self, i: &mut Ident) {
        if let Some((_, v)) = self.idents.iter().find(|(h, _)| i == h) {
            *i = v.clone();
        }
    }

    fn visit_path_mut(&mut self, p: &mut Path) {
        let replacement = p
            .segments
            .first()
            .filter(|_| p.leading_colon.is_none())
            .and_then(|first| self.paths.iter().find(|(h, _)| first.ident == h))
            .map(|(_, v)| v.clone());
        if let Some(with) = replacement {
            let mut rest: Vec<PathSegment> = p.segments.iter().skip(1).cloned().collect();
            let args = p
                .segments
                .first()
                .map(|s| s.arguments.clone())
                .unwrap_or(PathArguments::None);
            let mut segments = with.segments;
            if let Some(last) = segments.last_mut() {
                if !matches!(args, PathArguments::None) {
                    last.arguments = args;
                }
            }
            segments.extend(rest.drain(..));
            p.leading_colon = with.leading_colon;
            p.segments = segments;
        }
        visit_mut::visit_path_mut(self, p);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Path(p) = e {
            if let Some(name) = single_ident(&p.path) {
                if let Some(hole) = self.exprs.iter_mut().find(|(h, _, _)| name == h) {
                    hole.2 += 1;
                    if let Some(v) = hole.1.take() {
                        *e = v;
                    }
                    return;
                }
            }
        }
        visit_mut::visit_expr_mut(self, e);
    }

    fn visit_type_mut(&mut self, t: &mut Type) {
        if let Type::Path(p) = t {
            if let Some(name) = single_ident(&p.path) {
                if let Some(hole) = self.types.iter_mut().find(|(h, _, _)| name == h) {
                    hole.2 += 1;
                    if let Some(v) = hole.1.take() {
                        *t = v;
                    }
                    return;
                }
            }
        }
        visit_mut::visit_type_mut(self, t);
    }

    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        visit_mut::visit_item_mod_mut(self, m);
        if let Some((_, items)) = &mut m.content {
            let mut out = Vec::with_capacity(items.len());
            for item in std::mem::take(items) {
                let list = match &item {
                    Item::Struct(s) => take(&mut self.items, &s.ident),
                    _ => None,
                };
                match list {
                    Some(list) => out.extend(list),
                    None => out.push(item),
                }
            }
            *items = out;
        }
    }

    fn visit_expr_struct_mut(&mut self, e: &mut syn::ExprStruct) {
        visit_mut::visit_expr_struct_mut(self, e);
        let hole = match e.fields.first().map(|f| &f.member) {
            Some(Member::Named(name)) if e.fields.len() == 1 => take(&mut self.field_values, name),
            _ => None,
        };
        if let Some(list) = hole {
            e.fields = list.into_iter().collect();
        }
    }

    fn visit_expr_match_mut(&mut self, e: &mut syn::ExprMatch) {
        visit_mut::visit_expr_match_mut(self, e);
        let mut arms = Vec::with_capacity(e.arms.len());
        for arm in std::mem::take(&mut e.arms) {
            let list = match &arm.pat {
                Pat::Ident(p) => take(&mut self.arms, &p.ident),
                _ => None,
            };
            match list {
                Some(list) => arms.extend(list),
                None => arms.push(arm),
            }
        }
        e.arms = arms;
    }

    fn visit_item_enum_mut(&mut self, e: &mut syn::ItemEnum) {
        visit_mut::visit_item_enum_mut(self, e);
        let mut out = Punctuated::new();
        for v in std::mem::take(&mut e.variants) {
            match take(&mut self.variants, &v.ident) {
                Some(list) => out.extend(list),
                None => out.push(v),
            }
        }
        e.variants = out;
    }

    fn visit_fields_named_mut(&mut self, f: &mut syn::FieldsNamed) {
        visit_mut::visit_fields_named_mut(self, f);
        let mut out = Punctuated::new();
        for field in std::mem::take(&mut f.named) {
            let list = field.ident.as_ref().and_then(|i| take(&mut self.fields, i));
            match list {
                Some(list) => out.extend(list),
                None => out.push(field),
            }
        }
        f.named = out;
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        visit_mut::visit_block_mut(self, b);
        let mut out = Vec::with_capacity(b.stmts.len());
        for stmt in std::mem::take(&mut b.stmts) {
            let list = match &stmt {
                syn::Stmt::Expr(Expr::Path(p), Some(_)) => {
                    single_ident(&p.path).and_then(|name| take(&mut self.stmts, name))
                }
                _ => None,
            };
            match list {
                Some(list) => out.extend(list),
                None => out.push(stmt),
            }
        }
        b.stmts = out;
    }

    fn visit_signature_mut(&mut self, s: &mut syn::Signature) {
        visit_mut::visit_signature_mut(self, s);
        let mut out = Punctuated::new();
        for arg in std::mem::take(&mut s.inputs) {
            let list = match &arg {
                syn::FnArg::Typed(t) => match &*t.pat {
                    Pat::Ident(p) => take(&mut self.params, &p.ident),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            };
            match list {
                Some(list) => out.extend(list),
                None => out.push(arg),
            }
        }
        s.inputs = out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn print(items: Vec<Item>) -> String {
        prettyplease::unparse(&syn::File {
            shebang: None,
            attrs: Vec::new(),
            items,
        })
    }

    /// Built trees print exactly as the same code parsed does.
    #[test]
    fn built_equals_parsed() {
        let built = static_item(
            vec![list_attr("cfg", quote!(feature = "a")), doc_attr(" Doc.")],
            id("T1"),
            slice_ref(ty("qi::Command")),
            slice(vec![
                with_attrs(
                    call("qi::cmd", vec![lit_str("a-b"), path_expr("None")]),
                    vec![list_attr("cfg", quote!(not(feature = "b")))],
                ),
                reference(path_expr("qi::EMPTY")),
                lit_bool(true),
                try_(method(path_expr("o"), "req", vec![lit_str("x")])),
            ]),
        );
        let parsed = parse_items(quote! {
            #[cfg(feature = "a")]
            #[doc = " Doc."]
            pub static T1: &[qi::Command] = &[
                #[cfg(not(feature = "b"))] qi::cmd("a-b", None),
                &qi::EMPTY,
                true,
                o.req("x")?,
            ];
        })
        .expect("parses");
        assert_eq!(print(vec![built]), print(parsed));
    }

    #[test]
    fn templates_fill_every_kind_of_hole() {
        let t = Template(
            "impl __Self {
                fn f(__PARAMS: ()) -> __Result<Self, ()> {
                    let x = __VALUE;
                    __STMTS;
                    match x { __ARMS => {} }
                    Ok(Self { __INITS })
                }
            }
            enum __Self { __VARIANTS }
            struct __Self { __FIELDS: () }",
        );
        let mut fill = Fill::new()
            .ident("__Self", id("Foo"))
            .path("__Result", path("::core::result::Result"))
            .expr("__VALUE", lit_str("v"))
            .params("__PARAMS", vec![param(Vec::new(), id("a"), ty("u8"))])
            .stmts(
                "__STMTS",
                vec![syn::parse_quote!(g(1);), syn::parse_quote!(#[cfg(x)] g(2);)],
            )
            .arms(
                "__ARMS",
                vec![arm(Vec::new(), str_pat("v"), path_expr("Self::A"))],
            )
            .field_values(
                "__INITS",
                vec![
                    field_value(Vec::new(), id("a"), None),
                    field_value(Vec::new(), id("b"), Some(lit_bool(false))),
                ],
            )
            .variants(
                "__VARIANTS",
                vec![variant(Vec::new(), id("A"), Some(ty("u8")))],
            )
            .fields(
                "__FIELDS",
                vec![field(doc_attrs("Line."), id("a"), ty("u8"))],
            );
        let got = print(t.fill(&mut fill).expect("fills"));
        let want = print(
            parse_items(quote! {
                impl Foo {
                    fn f(a: u8) -> ::core::result::Result<Self, ()> {
                        let x = "v";
                        g(1);
                        #[cfg(x)]
                        g(2);
                        match x { "v" => Self::A, }
                        Ok(Self { a, b: false })
                    }
                }
                enum Foo { A(u8) }
                struct Foo {
                    /// Line.
                    pub a: u8,
                }
            })
            .expect("parses"),
        );
        assert_eq!(got, want);
    }

    #[test]
    fn a_missing_or_repeated_hole_is_an_error() {
        let mut fill = Fill::new().expr("__NOWHERE", lit_bool(true));
        assert!(Template("fn f() {}").fill(&mut fill).is_err());
        let mut fill = Fill::new().expr("__X", lit_bool(true));
        assert!(Template("fn f() { __X; __X; }").fill(&mut fill).is_err());
    }
}
