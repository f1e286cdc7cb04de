//! `if` conditions → Rust.
//!
//! Two ways, both offered to users:
//! * [`Conditions::Evaluate`]: decided at generation time against a set of
//!   defined symbols; an item whose condition is false is left out, one
//!   whose condition holds is emitted without any attribute.
//! * [`Conditions::Cfg`]: each symbol maps to a `cfg` predicate
//!   (`CONFIG_KVM` → `feature = "kvm"`); the item gets `#[cfg(...)]`.
//!   A symbol without a mapping becomes `feature = "SYMBOL"`, and
//!   [`Conditions::features`] lists those so a package can declare them.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;

use crate::check::ast::IfCond;

/// How `if` conditions are turned into Rust.
#[derive(Debug, Clone)]
pub enum Conditions {
    /// Evaluate at generation time: these symbols are defined, all others
    /// are not.
    Evaluate(BTreeSet<String>),
    /// Emit `#[cfg(...)]`; symbol → cfg predicate (Rust tokens, e.g.
    /// `feature = "kvm"` or `target_os = "linux"`).  Unmapped symbols map
    /// to `feature = "SYMBOL"`.
    Cfg(BTreeMap<String, String>),
}

impl Conditions {
    /// Conditions from `cfg` mappings (symbol → predicate) or from the
    /// `defined` symbols (generation-time evaluation), checked: not both,
    /// and every predicate valid Rust.
    pub fn new(
        cfg: BTreeMap<String, String>,
        defined: Option<BTreeSet<String>>,
    ) -> Result<Conditions, crate::Error> {
        match defined {
            Some(_) if !cfg.is_empty() => Err(crate::Error::bare(
                "both cfg mappings and defined symbols were given; choose #[cfg] output \
                 (--cfg, Builder::cfg) or generation-time evaluation (--define, Builder::define)",
            )),
            Some(d) => Ok(Conditions::Evaluate(d)),
            None => {
                for (sym, pred) in &cfg {
                    if pred.parse::<proc_macro2::TokenStream>().is_err() {
                        return Err(crate::Error::bare(format!(
                            "the cfg predicate for '{sym}' is not valid Rust: {pred}"
                        )));
                    }
                }
                Ok(Conditions::Cfg(cfg))
            }
        }
    }
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions::Cfg(BTreeMap::new())
    }
}

/// What a condition means for one item.
#[derive(Debug, Clone)]
pub enum Cond {
    /// Emit the item unconditionally.
    Always,
    /// Leave the item out.
    Never,
    /// Emit the item under this `cfg` predicate.
    Cfg(TokenStream),
}

impl Cond {
    /// Whether the item is emitted at all.
    pub fn emitted(&self) -> bool {
        !matches!(self, Cond::Never)
    }

    /// The `#[cfg(...)]` attribute as a `syn` node (none when
    /// unconditional).
    pub fn cfg_attr(&self) -> Option<syn::Attribute> {
        match self {
            Cond::Cfg(p) => Some(crate::backend::rust::syntax::list_attr("cfg", p.clone())),
            _ => None,
        }
    }

    /// The predicate, for combining (`None` for `Always`/`Never`).
    pub fn predicate(&self) -> Option<&TokenStream> {
        match self {
            Cond::Cfg(p) => Some(p),
            _ => None,
        }
    }
}

impl Conditions {
    /// The meaning of an optional condition.
    pub fn eval(&self, cond: Option<&IfCond>) -> Cond {
        let Some(c) = cond else { return Cond::Always };
        match self {
            Conditions::Evaluate(defined) => {
                if evaluate(c, defined) {
                    Cond::Always
                } else {
                    Cond::Never
                }
            }
            Conditions::Cfg(map) => Cond::Cfg(self.predicate(c, map)),
        }
    }

    fn predicate(&self, c: &IfCond, map: &BTreeMap<String, String>) -> TokenStream {
        match c {
            IfCond::Name(n) => symbol_predicate(n, map),
            IfCond::All(ops) => {
                let ps = ops.iter().map(|o| self.predicate(o, map));
                quote!(all(#(#ps),*))
            }
            IfCond::Any(ops) => {
                let ps = ops.iter().map(|o| self.predicate(o, map));
                quote!(any(#(#ps),*))
            }
            IfCond::Not(op) => {
                let p = self.predicate(op, map);
                quote!(not(#p))
            }
        }
    }

    /// The cargo features that unmapped symbols turn into, in `Cfg` mode.
    pub fn features<'a>(&self, conds: impl IntoIterator<Item = &'a IfCond>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Conditions::Cfg(map) = self {
            for c in conds {
                c.symbols(&mut |s| {
                    if !map.contains_key(s) {
                        out.insert(s.to_string());
                    }
                });
            }
        }
        out
    }
}

/// The cfg predicate for one symbol.
fn symbol_predicate(sym: &str, map: &BTreeMap<String, String>) -> TokenStream {
    match map.get(sym) {
        // A mapping that does not parse as tokens falls back to a feature,
        // so that generation never panics; `Builder` validates mappings
        // up front and reports bad ones.
        Some(p) => p.parse().unwrap_or_else(|_| quote!(feature = #sym)),
        None => quote!(feature = #sym),
    }
}

/// Whether `c` holds when exactly `defined` are defined.
pub fn evaluate(c: &IfCond, defined: &BTreeSet<String>) -> bool {
    match c {
        IfCond::Name(n) => defined.contains(&**n),
        IfCond::All(ops) => ops.iter().all(|o| evaluate(o, defined)),
        IfCond::Any(ops) => ops.iter().any(|o| evaluate(o, defined)),
        IfCond::Not(op) => !evaluate(op, defined),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> IfCond {
        IfCond::Name(s.into())
    }

    #[test]
    fn evaluate_table() {
        let defined: BTreeSet<String> = ["A".to_string(), "B".to_string()].into();
        let cases = [
            (name("A"), true),
            (name("C"), false),
            (IfCond::All(vec![name("A"), name("B")]), true),
            (IfCond::All(vec![name("A"), name("C")]), false),
            (IfCond::Any(vec![name("C"), name("B")]), true),
            (IfCond::Not(Box::new(name("C"))), true),
            (IfCond::Not(Box::new(IfCond::Any(vec![name("A")]))), false),
        ];
        for (c, want) in cases {
            assert_eq!(evaluate(&c, &defined), want, "{}", c.python_repr());
        }
    }

    #[test]
    fn cfg_table() {
        let map: BTreeMap<String, String> =
            [("CONFIG_KVM".to_string(), "feature = \"kvm\"".to_string())].into();
        let conds = Conditions::Cfg(map);
        let cases = [
            (name("CONFIG_KVM"), "feature = \"kvm\""),
            (name("TARGET_S390X"), "feature = \"TARGET_S390X\""),
            (
                IfCond::All(vec![name("CONFIG_KVM"), IfCond::Not(Box::new(name("X")))]),
                "all (feature = \"kvm\" , not (feature = \"X\"))",
            ),
        ];
        for (c, want) in cases {
            let Cond::Cfg(p) = conds.eval(Some(&c)) else {
                panic!("expected a cfg")
            };
            assert_eq!(p.to_string(), want);
        }
        assert!(matches!(conds.eval(None), Cond::Always));
        let feats = conds.features([&IfCond::Any(vec![name("CONFIG_KVM"), name("Y")])]);
        assert_eq!(feats.into_iter().collect::<Vec<_>>(), ["Y"]);
    }
}
