//! [`Builder`]: generating from a user's `build.rs`, in the style of
//! `prost-build`.  It collects what to read (the schema, its release, the
//! older releases of range bindings) and how to generate ([`Options`]),
//! then reads, generates and writes one `include!`-able file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::cond::Conditions;
use super::package::{single_file, Files};
use super::rust::Options;
use crate::error::Error;
use crate::model::Schema;

/// Generates Rust from a QAPI schema in a build script, in the style of
/// `prost-build`:
///
/// ```no_run
/// // build.rs
/// qapi_gen::Builder::new("schema/qapi-schema.json")
///     .cfg("CONFIG_KVM", r#"feature = "kvm""#)
///     .generate()
///     .expect("QAPI schema");
/// ```
///
/// ```ignore
/// // src/lib.rs
/// pub mod qmp {
///     include!(concat!(env!("OUT_DIR"), "/qapi.rs"));
/// }
/// ```
///
/// The crate needs `qapi-support`, `serde` (with `derive`) and
/// `serde_json` as dependencies.  Every file read (the root and each
/// include) is announced with `cargo:rerun-if-changed`.
#[derive(Debug, Clone)]
pub struct Builder {
    schema: PathBuf,
    out_dir: Option<PathBuf>,
    file_name: String,
    cfg: BTreeMap<String, String>,
    defined: Option<BTreeSet<String>>,
    options: Options,
    rerun: bool,
    /// `None`: detect; an unsupported `qemu_version` is kept as its error
    /// until `generate`.
    release: Result<Option<crate::Release>, Error>,
    /// Older releases' schemas for range bindings (`PATH` or `PATH@X.Y`).
    compatible_with: Vec<String>,
}

impl Builder {
    /// A builder for the schema rooted at `schema` (relative paths are
    /// relative to the package directory in a build script).
    pub fn new(schema: impl Into<PathBuf>) -> Self {
        Builder {
            schema: schema.into(),
            out_dir: None,
            file_name: "qapi.rs".into(),
            cfg: BTreeMap::new(),
            defined: None,
            options: Options::default(),
            rerun: true,
            release: Ok(None),
            compatible_with: Vec::new(),
        }
    }

    /// Reads the schema as QEMU `version`'s `scripts/qapi` does (`"7.2"`,
    /// `"10.0.2"`; 7.2 through 10.2).  Default: the release named by the
    /// `VERSION` file of the QEMU tree the schema sits in, else the newest.
    /// An unsupported version is reported by [`Builder::generate`].
    pub fn qemu_version(mut self, version: &str) -> Self {
        self.release = version.parse::<crate::Release>().map(Some);
        self
    }

    /// [`Builder::qemu_version`] with an already parsed release (`None`:
    /// detect it).
    pub fn qemu_version_opt(mut self, release: Option<crate::Release>) -> Self {
        self.release = Ok(release);
        self
    }

    /// Makes range bindings that also speak to the QEMU release of
    /// `schema` (call once per release): its root schema path, the
    /// release read from its tree's `VERSION` file, or `PATH@X.Y`.  The
    /// types become the union of the releases': a member is required only
    /// if every release requires it, enums have every release's values,
    /// commands and events of every release are there, each documented
    /// with the releases that have it (also in `Command::RELEASES`,
    /// `Event::releases` and `QEMU_RELEASES`).  Range bindings are client
    /// bindings: the server side is not generated.
    pub fn compatible_with(mut self, schema: impl Into<PathBuf>) -> Self {
        self.compatible_with
            .push(schema.into().to_string_lossy().into_owned());
        self
    }

    /// Reads the schema (and, for range bindings, the older ones) as this
    /// builder says.
    pub fn load(&self) -> Result<Schema, Error> {
        let schema_path = self.schema.to_string_lossy().into_owned();
        let load_opts = crate::LoadOptions {
            release: self.release.clone()?,
            ..Default::default()
        };
        if self.compatible_with.is_empty() {
            crate::load_with_options(&schema_path, &load_opts)
        } else {
            crate::load_range(&schema_path, &load_opts, &self.compatible_with)
        }
    }

    /// Where to write (default: `$OUT_DIR`).
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The file to write in the out dir (default `qapi.rs`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }

    /// Maps a condition symbol to a `cfg` predicate (`CONFIG_KVM` →
    /// `feature = "kvm"`); unmapped symbols become `feature = "SYMBOL"`.
    pub fn cfg(mut self, symbol: impl Into<String>, predicate: impl Into<String>) -> Self {
        self.cfg.insert(symbol.into(), predicate.into());
        self
    }

    /// Evaluates conditions at generation time instead, with `symbol`
    /// defined (call once per symbol; all others are undefined).
    pub fn define(mut self, symbol: impl Into<String>) -> Self {
        self.defined
            .get_or_insert_with(BTreeSet::new)
            .insert(symbol.into());
        self
    }

    /// Evaluates conditions at generation time with nothing defined.
    pub fn evaluate_conditions(mut self) -> Self {
        self.defined.get_or_insert_with(BTreeSet::new);
        self
    }

    /// Puts each schema module behind a cargo feature of the user's crate
    /// (named after the file: `machine-target.json` → `machine-target`).
    pub fn module_features(mut self, on: bool) -> Self {
        self.options.module_features = on;
        self
    }

    /// Gives enums a catch-all `Unknown(String)` variant.
    pub fn unknown_enum_values(mut self, on: bool) -> Self {
        self.options.unknown_enum_values = on;
        self
    }

    /// Lets required member `Type.member` decode as its default when
    /// absent (for members a schema adds that real QEMU does not send).
    pub fn absent_as_default(mut self, member: impl Into<String>) -> Self {
        self.options.absent_as_default.push(member.into());
        self
    }

    /// Whether to emit the server side (handler trait, dispatcher,
    /// introspection, argument checks); default on.
    pub fn server(mut self, on: bool) -> Self {
        self.options.server = on;
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (default on).
    pub fn emit_rerun_if_changed(mut self, on: bool) -> Self {
        self.rerun = on;
        self
    }

    /// The options this builder has collected, as the backend takes them.
    fn options(&self) -> Result<Options, Error> {
        let mut opts = self.options.clone();
        opts.conditions = Conditions::new(self.cfg.clone(), self.defined.clone())?;
        Ok(opts)
    }

    /// Reads the schema, generates, writes `OUT_DIR/qapi.rs` and returns
    /// its path.
    pub fn generate(self) -> Result<PathBuf, Error> {
        let opts = self.options()?;
        let schema_path = self.schema.to_string_lossy().into_owned();
        let schema = self.load();
        if self.rerun {
            // Announce what was read even when the schema is invalid, so
            // that fixing it reruns the build script.
            match &schema {
                Ok(s) => {
                    for f in s.sources.files() {
                        println!("cargo:rerun-if-changed={}", f.name);
                    }
                }
                Err(_) => println!("cargo:rerun-if-changed={schema_path}"),
            }
        }
        let schema = schema?;
        let out_dir = match self.out_dir {
            Some(d) => d,
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    Error::bare("Builder: OUT_DIR is not set; call out_dir() outside build scripts")
                })?,
        };
        let header = format!(
            "Generated by qapi-gen from {}. Do not edit: it is rewritten on every build.",
            schema.root
        );
        let text = single_file(&schema, &opts, &header)?;
        let path = out_dir.join(&self.file_name);
        Files {
            files: [(self.file_name.clone(), text)].into(),
        }
        .write(&out_dir)?;
        Ok(path)
    }
}
