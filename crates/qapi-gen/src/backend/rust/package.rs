//! Laying generated Rust out as files: a complete Cargo package (the CLI's
//! `generate`, `cargo xtask codegen`), or one file to `include!` (the
//! [`Builder`](crate::Builder) for `build.rs`).  Everything is formatted with
//! `prettyplease`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;

use super::syntax::{parse_items, Fill};
use super::{close_module_deps, Module, Options, Part, Prepared};
use crate::error::Error;
use crate::model::Schema;

/// Lints the generated modules switch off, each for a reason:
/// * `deprecated`: the code must use deprecated items itself (serde
///   derives, constructors); users still get the warning at their uses;
/// * `clippy::enum_variant_names`, `clippy::upper_case_acronyms`,
///   `clippy::disallowed_names`: names come from the schema and keep its
///   words (`foo` included);
/// * `clippy::new_without_default`: when `#[cfg]` removes every required
///   member, `new()` takes nothing, yet `Default` cannot be derived for
///   every configuration;
/// * `clippy::doc_lazy_continuation`, `clippy::doc_overindented_list_items`:
///   doc text comes from the schema and keeps its layout.
fn module_lints() -> TokenStream {
    quote! {
        #![allow(
            deprecated,
            unknown_lints,
            clippy::enum_variant_names,
            clippy::disallowed_names,
            clippy::new_without_default,
            clippy::upper_case_acronyms,
            clippy::doc_lazy_continuation,
            clippy::doc_overindented_list_items
        )]
    }
}

/// Formats tokens as a Rust file.
pub fn format_file(tokens: TokenStream) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        Error::bare(format!(
            "internal error: generated code does not parse: {e}"
        ))
    })?;
    Ok(space_items(&prettyplease::unparse(&file), &[]))
}

/// Formats items as a Rust file with inner attributes `attrs`; `docs`
/// are the doc blocks their placeholders stand for.
pub fn format_items(attrs: Vec<syn::Attribute>, items: Vec<syn::Item>, docs: &[String]) -> String {
    space_items(
        &prettyplease::unparse(&syn::File {
            shebang: None,
            attrs,
            items,
        }),
        docs,
    )
}

/// [`module_lints`] as inner attributes.
fn module_lint_attrs() -> Result<Vec<syn::Attribute>, Error> {
    let lints = module_lints();
    syn::parse2::<syn::File>(lints)
        .map(|f| f.attrs)
        .map_err(|e| Error::bare(format!("internal error: lints do not parse: {e}")))
}

/// Finishes `prettyplease` output: expands doc placeholders (see
/// `syntax::doc_placeholder`) into the lines of `docs`,
/// and puts a blank line between items, which `prettyplease` does not: a
/// line that starts an item (doc comment, attribute or keyword) right
/// after one that ends an item (`}`, `;`, or a one-line item such as
/// `pub struct Empty {}`) at the same indentation.
pub fn space_items(text: &str, docs: &[String]) -> String {
    const STARTS: [&str; 11] = [
        "///",
        "#[",
        "pub ",
        "impl",
        "fn ",
        "const ",
        "static ",
        "mod ",
        "use ",
        "::qapi_support::object_impls!",
        "::qapi_support::serde_impls!",
    ];
    let mut out = String::with_capacity(text.len() + text.len() / 16 + docs.len() * 64);
    // The indentation of the previous line when it ends an item.
    let mut ended_at: Option<usize> = None;
    // `prettyplease` ends lines with `\n` and indents with spaces.
    for line in text.split_terminator('\n') {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let starts_item = || match body.as_bytes().first() {
            Some(b'/' | b'#' | b'p' | b'i' | b'f' | b'c' | b's' | b'm' | b'u' | b':') => {
                STARTS.iter().any(|k| body.starts_with(k))
            }
            _ => false,
        };
        if ended_at == Some(indent) && starts_item() {
            out.push('\n');
        }
        match doc_block(body, docs) {
            Some(block) => {
                for l in block.lines() {
                    out.push_str(&line[..indent]);
                    out.push_str("///");
                    if !l.is_empty() {
                        out.push(' ');
                        out.push_str(l.trim_end_matches(' '));
                    }
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
        let ends_item = match body.as_bytes().last() {
            Some(b'}') => {
                body == "}"
                    || (body.ends_with("{}") && STARTS[2..].iter().any(|k| body.starts_with(k)))
            }
            Some(b';') => !body.starts_with("//"),
            _ => false,
        };
        ended_at = ends_item.then_some(indent);
    }
    out
}

/// The doc block a placeholder line (`///\u{1}N`) stands for.
fn doc_block<'d>(line: &str, docs: &'d [String]) -> Option<&'d str> {
    if docs.is_empty() {
        return None;
    }
    let index = line
        .strip_prefix("///")?
        .strip_prefix(super::syntax::DOC_MARK)?;
    docs.get(index.parse::<usize>().ok()?).map(String::as_str)
}

fn header_comment(header: &str) -> String {
    header
        .lines()
        .map(|l| format!("// {l}\n"))
        .collect::<String>()
        + "\n"
}

/// A generated package: its files (relative path → contents).
#[derive(Debug, Clone)]
pub struct Files {
    /// Relative path → text, in a stable order.
    pub files: BTreeMap<String, String>,
}

impl Files {
    /// Writes every file under `dir`, creating directories; a file whose
    /// contents are already right is left alone (its mtime too, so cargo
    /// does not rebuild).
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        for (rel, text) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            if std::fs::read(&path).ok().as_deref() == Some(text.as_bytes()) {
                continue;
            }
            std::fs::write(&path, text).map_err(|e| io_error(&path, e))?;
        }
        Ok(())
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::bare(format!(
        "cannot write {}: {}; check the directory exists and is writable",
        path.display(),
        e
    ))
}

/// How a package refers to `qapi-support`.
#[derive(Debug, Clone)]
pub enum SupportDep {
    /// By path (relative to the package directory, or absolute).
    Path(String),
    /// `{ workspace = true }`.
    Workspace,
    /// From crates.io, this version requirement.
    Version(String),
}

/// What a generated package looks like.
#[derive(Debug, Clone)]
pub struct PackageSpec {
    /// The package name.
    pub name: String,
    /// The first lines of every file (as `//` comments).
    pub header: String,
    /// How to depend on `qapi-support`.
    pub support: SupportDep,
    /// Add an empty `[workspace]` so that the package builds on its own
    /// wherever it is.
    pub standalone: bool,
    /// The crate's doc comment (default: names the schema).
    pub crate_doc: Option<String>,
    /// Put the generated code in `src/generated/` under a small `lib.rs`
    /// that declares it `#[rustfmt::skip]`, so that `cargo fmt` in a
    /// workspace leaves it as generated (for checked-in bindings).
    pub rustfmt_skip: bool,
}

/// Generates a Cargo package: `Cargo.toml`, `src/lib.rs`, one file per
/// module.  The parts are generated and formatted on as many threads as
/// the machine has: formatting (parsing the tokens back with `syn`, then
/// `prettyplease`) is most of the work.
pub fn package(schema: &Schema, opts: &Options, spec: &PackageSpec) -> Result<Files, Error> {
    let prepared = Prepared::new(schema, opts)?;
    let parts = prepared.parts();
    let formatted = format_parts(&prepared, &parts, |part, items, docs, _| {
        let attrs = match part {
            Part::Module(_) => module_lint_attrs()?,
            _ => Vec::new(),
        };
        Ok(format_items(attrs, items, docs))
    })?;

    let mut files = BTreeMap::new();
    let header = header_comment(&spec.header);
    let dir = if spec.rustfmt_skip {
        "src/generated"
    } else {
        "src"
    };
    // In output order: the modules, then the parts that go into lib.rs.
    let mut modules: Vec<(Module, String)> = Vec::new();
    let mut root_parts: Vec<String> = Vec::new();
    for (text, module) in formatted {
        match module {
            Some(m) => modules.push((m, text)),
            None if !text.is_empty() => root_parts.push(text),
            None => {}
        }
    }
    let mut lib = TokenStream::new();
    for (m, text) in &modules {
        let ident = super::ident(&m.ident);
        let cfg = module_cfg(opts, &m.feature);
        let doc = format!(" Definitions of `{}`.", m.file);
        lib.extend(quote! {
            #[doc = #doc]
            #cfg
            pub mod #ident;
            #cfg
            #[allow(unused_imports)]
            pub use #ident::*;
        });
        files.insert(format!("{dir}/{}.rs", m.ident), format!("{header}{text}"));
    }
    let mut infos: Vec<Module> = modules.into_iter().map(|(m, _)| m).collect();
    close_module_deps(&mut infos);
    let lints = module_lints();
    let crate_doc = match &spec.crate_doc {
        Some(d) => format!(" {d}"),
        None => format!(
            " Rust bindings of the QAPI schema `{}`, generated by qapi-gen.",
            schema.root
        ),
    };
    let rest = root_parts.join("\n");
    if spec.rustfmt_skip {
        let head = format_file(quote! {
            //! The generated code; see the crate root.
            #lints
            #lib
        })?;
        files.insert(format!("{dir}/mod.rs"), format!("{header}{head}\n{rest}"));
        let lib_text = format_file(quote! {
            #![doc = #crate_doc]
            #[rustfmt::skip]
            mod generated;
            pub use generated::*;
        })?;
        files.insert("src/lib.rs".into(), format!("{header}{lib_text}"));
    } else {
        let head = format_file(quote! {
            #![doc = #crate_doc]
            #lints
            #lib
        })?;
        files.insert("src/lib.rs".into(), format!("{header}{head}\n{rest}"));
    }
    let cond_features = prepared.cond_features();
    files.insert(
        "Cargo.toml".into(),
        cargo_toml(&infos, &cond_features, opts, spec),
    );
    Ok(Files { files })
}

/// Generates every part and turns it into text with `render` (given the
/// part, its items, their doc blocks and, for a module, its description),
/// in parallel; results in output order ([`Part::output_rank`]).  `syn` trees are not `Send`, so
/// each worker renders its parts itself.
fn format_parts<R>(
    prepared: &Prepared<'_>,
    parts: &[Part],
    render: R,
) -> Result<Vec<(String, Option<Module>)>, Error>
where
    R: Fn(Part, Vec<syn::Item>, &[String], Option<&Module>) -> Result<String, Error> + Sync,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    /// A module's description without its tokens (which cannot cross
    /// threads): ident, file, feature, direct deps.
    type Info = (String, String, String, Vec<String>);
    type Slot = Mutex<Option<Result<(String, Option<Info>), Error>>>;
    let slots: Vec<Slot> = parts.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(parts.len())
        .max(1);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(part) = parts.get(i) else { break };
        let result = prepared.part(*part).and_then(|out| {
            let text = render(*part, out.items, &out.docs, out.module.as_ref())?;
            let module = out.module;
            Ok((text, module.map(|m| (m.ident, m.file, m.feature, m.deps))))
        });
        if let Ok(mut slot) = slots[i].lock() {
            *slot = Some(result);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    let mut done: Vec<(Part, Slot)> = parts.iter().copied().zip(slots).collect();
    done.sort_by_key(|(part, _)| part.output_rank());
    done.into_iter()
        .map(|(_, s)| {
            let (text, info) = s.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(Error::bare(
                    "internal error: a code generation worker failed",
                ))
            })?;
            let module = info.map(|(ident, file, feature, deps)| Module {
                ident,
                file,
                feature,
                deps,
                items: Vec::new(),
            });
            Ok((text, module))
        })
        .collect()
}

fn module_cfg(opts: &Options, feature: &str) -> TokenStream {
    if opts.module_features {
        quote!(#[cfg(feature = #feature)])
    } else {
        TokenStream::new()
    }
}

/// The profile of a package that builds on its own.  Cargo keeps
/// incremental state for local crates; for generated code, checked once
/// and not edited, that state makes the first check slower (a third to a
/// half more on QEMU's schema, `cargo xtask bench-compile`) and helps only a
/// re-check after regenerating.  Cargo reads a package's profile only
/// when the package is the workspace root, hence the comment for the
/// other case.
const STANDALONE_PROFILE: &str = "
# Generated code is checked once and not edited: incremental state would
# make its first check a third slower or more.  This applies when the
# package is built on its own; in a workspace, put
# `[profile.dev.package.<this package>] incremental = false` in the
# workspace's Cargo.toml instead.
[profile.dev]
incremental = false
";

fn cargo_toml(
    modules: &[Module],
    cond_features: &BTreeSet<String>,
    opts: &Options,
    spec: &PackageSpec,
) -> String {
    let mut t = String::new();
    for l in spec.header.lines() {
        t.push_str(&format!("# {l}\n"));
    }
    t.push_str(&format!(
        "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n",
        spec.name
    ));
    t.push_str("[dependencies]\n");
    match &spec.support {
        SupportDep::Path(p) => t.push_str(&format!("qapi-support = {{ path = \"{p}\" }}\n")),
        SupportDep::Workspace => t.push_str("qapi-support = { workspace = true }\n"),
        SupportDep::Version(v) => t.push_str(&format!("qapi-support = \"{v}\"\n")),
    }
    t.push_str("serde = \"1\"\nserde_json = \"1\"\n");
    let mut features: BTreeSet<String> = BTreeSet::new();
    let mut lines = Vec::new();
    if opts.module_features {
        let all: Vec<String> = modules
            .iter()
            .map(|m| format!("\"{}\"", m.feature))
            .collect();
        lines.push(format!("default = [{}]", all.join(", ")));
        for m in modules {
            let deps: Vec<String> = m
                .deps
                .iter()
                .map(|d| format!("\"{}\"", d.replace('_', "-")))
                .collect();
            lines.push(format!("{} = [{}]", m.feature, deps.join(", ")));
            features.insert(m.feature.clone());
        }
    }
    if opts.server_feature && features.insert("server".into()) {
        lines.push(
            "# The server side: `QmpHandler`, `dispatch`, `SCHEMA_INFO`, the argument checker."
                .into(),
        );
        lines.push("server = []".into());
    }
    for f in cond_features {
        if features.insert(f.clone()) {
            lines.push(format!("{f} = []"));
        }
    }
    if !lines.is_empty() {
        t.push_str("\n[features]\n");
        for l in lines {
            t.push_str(&l);
            t.push('\n');
        }
    }
    if spec.standalone {
        t.push_str("\n# Builds on its own, wherever it is put.\n[workspace]\n");
        t.push_str(STANDALONE_PROFILE);
    }
    t
}

/// Generates one file with inline modules, for `include!`.  The parts are
/// generated and formatted in parallel, as for [`package`]; each module
/// part is rendered as its `pub mod` with the re-export after it.
pub fn single_file(schema: &Schema, opts: &Options, header: &str) -> Result<String, Error> {
    let prepared = Prepared::new(schema, opts)?;
    let parts = prepared.parts();
    let formatted = format_parts(&prepared, &parts, |part, items, docs, module| {
        let (Part::Module(_), Some(m)) = (part, module) else {
            return Ok(format_items(Vec::new(), items, docs));
        };
        let ident = super::ident(&m.ident);
        let cfg = module_cfg(opts, &m.feature);
        let lints = module_lints();
        let doc = format!(" Definitions of `{}`.", m.file);
        let mut wrapped = parse_items(quote! {
            #[doc = #doc]
            #cfg
            pub mod #ident {
                #lints
                struct __ITEMS;
            }
            #cfg
            #[allow(unused_imports)]
            pub use #ident::*;
        })?;
        Fill::new().items("__ITEMS", items).apply(&mut wrapped)?;
        Ok(format_items(Vec::new(), wrapped, docs))
    })?;
    let chunks = formatted.into_iter().map(|(text, _)| text);
    let mut text = header_comment(header);
    for (i, chunk) in chunks.filter(|t| !t.is_empty()).enumerate() {
        // The blank line `space_items` puts between items.
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&chunk);
    }
    Ok(text)
}

/// A relative path from directory `from` to `to` (both absolute), or `to`
/// itself when they share no prefix.
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Placeholders expand exactly as `prettyplease` prints one `#[doc]`
    /// per line.
    #[test]
    fn doc_placeholders_expand_like_doc_attributes() {
        use crate::backend::rust::syntax::{doc_attrs, doc_placeholder};
        let blocks = [
            "One line.",
            "Para one\nwith trailing spaces   \n\n  indented `code`\n\nSince: 2.9",
            "",
        ];
        let docs: Vec<String> = blocks.iter().map(|b| b.to_string()).collect();
        for (i, block) in blocks.iter().enumerate() {
            let item = |attrs: Vec<syn::Attribute>| -> syn::Item {
                let mut item: syn::ItemStruct = syn::parse_quote!(
                    pub struct S {
                        pub a: u8,
                    }
                );
                item.attrs = attrs.clone();
                if let syn::Fields::Named(f) = &mut item.fields {
                    if let Some(field) = f.named.first_mut() {
                        field.attrs = attrs;
                    }
                }
                syn::Item::Struct(item)
            };
            let direct = format_items(Vec::new(), vec![item(doc_attrs(block))], &[]);
            let placeholder = if block.is_empty() {
                Vec::new()
            } else {
                vec![doc_placeholder(i)]
            };
            let expanded = format_items(Vec::new(), vec![item(placeholder)], &docs);
            assert_eq!(expanded, direct, "block {i}");
        }
    }

    #[test]
    fn items_are_spaced() {
        let text = "pub struct A;\npub struct B {}\nimpl A {\n    fn f() {\n    }\n    fn g() {}\n    fn h() {}\n}\n";
        assert_eq!(
            space_items(text, &[]),
            "pub struct A;\n\npub struct B {}\n\nimpl A {\n    fn f() {\n    }\n\n    fn g() {}\n\n    fn h() {}\n}\n"
        );
        // Match arms are not items.
        let arms = "match x {\n    A => {}\n    #[cfg(x)]\n    B => {}\n}\n";
        assert_eq!(space_items(arms, &[]), arms);
    }

    /// Only a package that is its own workspace root carries a profile:
    /// in a member's manifest cargo would ignore it with a warning.
    #[test]
    fn standalone_package_checks_without_incremental_state() {
        let spec = |standalone| PackageSpec {
            name: "p".into(),
            header: String::new(),
            support: SupportDep::Version("0.1".into()),
            standalone,
            crate_doc: None,
            rustfmt_skip: false,
        };
        let own = cargo_toml(&[], &BTreeSet::new(), &Options::default(), &spec(true));
        assert!(own.contains("\n[workspace]\n"), "{own}");
        assert!(
            own.ends_with("[profile.dev]\nincremental = false\n"),
            "{own}"
        );
        let member = cargo_toml(&[], &BTreeSet::new(), &Options::default(), &spec(false));
        assert!(!member.contains("[workspace]"), "{member}");
        assert!(!member.contains("[profile"), "{member}");
    }

    #[test]
    fn relative_paths() {
        let cases = [
            ("/a/b/c", "/a/d", "../../d"),
            ("/a", "/a/b", "b"),
            ("/a/b", "/a/b", ""),
            ("/x/y", "/x/y/z/w", "z/w"),
        ];
        for (from, to, want) in cases {
            assert_eq!(
                relative_path(Path::new(from), Path::new(to)),
                PathBuf::from(want),
                "{from} -> {to}"
            );
        }
    }
}
