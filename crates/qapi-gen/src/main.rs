//! The `qapi-gen` command line.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The front end allocates many small objects; mimalloc makes the whole run
// about a quarter faster than glibc's allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Read, check and compile QEMU QAPI schemas.
#[derive(Parser)]
#[command(name = "qapi-gen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check a schema; exit 1 with QEMU's error text when it is invalid.
    Check(CheckArgs),
    /// Print the schema's IR and docs in the format of QEMU's
    /// tests/qapi-schema/*.out.
    Dump(CheckArgs),
    /// Report documentation gaps QEMU accepts (missing docs and Since:
    /// sections, malformed versions, ...), one `FILE:LINE:COL: CODE:
    /// message` line each; exit 1 on findings only with --deny.
    DocCheck(DocCheckArgs),
    /// Generate a Cargo package of Rust bindings (Cargo.toml and src/)
    /// that builds on its own.
    Generate(GenerateArgs),
    /// What changed on the wire from OLD to NEW (schemas of any supported
    /// releases, or query-qmp-schema replies), and whom each change breaks.
    Compat(CompatArgs),
    /// Answer libvirt's schema queries (`blockdev-add/arg-type/+file/aio/^io_uring`)
    /// on a query-qmp-schema reply: `true`, `false` or `error: ...` per
    /// query, one line each.
    SchemaQuery(SchemaQueryArgs),
}

#[derive(clap::Args)]
struct SchemaQueryArgs {
    /// A query-qmp-schema reply: `{"return": [...]}` or the bare list.
    file: std::path::PathBuf,
    /// The queries, in libvirt's syntax.
    #[arg(required = true)]
    queries: Vec<String>,
}

fn schema_query(args: &SchemaQueryArgs) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("{}: {msg}", args.file.display());
        ExitCode::from(2)
    };
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return fail(qapi_gen::error::strerror(&e)),
    };
    let reply: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return fail(format!("not JSON: {e}")),
    };
    let index = match qapi_support::schema_query::SchemaIndex::new(reply) {
        Ok(i) => i,
        Err(e) => return fail(e.to_string()),
    };
    let mut out = std::io::stdout().lock();
    let mut malformed = false;
    for q in &args.queries {
        let line = match index.query(q) {
            Ok(b) => b.to_string(),
            Err(e) => {
                malformed = true;
                format!("error: {e}")
            }
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(2);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::from(u8::from(malformed))
}

#[derive(clap::Args)]
struct CompatArgs {
    /// The old side: a root schema (its release from its QEMU tree's
    /// VERSION file, or PATH@X.Y), or a query-qmp-schema reply (.json).
    old: String,
    /// The new side, likewise.
    new: String,
    /// `text` (readable, FILE:LINE on both sides) or `json` (a list, one
    /// object per change).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Exit 1 when a change breaks a client (either way).
    #[arg(long)]
    deny: bool,
}

fn compat(args: &CompatArgs) -> ExitCode {
    use qapi_gen::compat;
    let sides = compat::load_side(&args.old).and_then(|o| Ok((o, compat::load_side(&args.new)?)));
    let (old, new) = match sides {
        Ok(s) => s,
        Err(err) => {
            report(&err, false);
            return ExitCode::from(2);
        }
    };
    let changes = compat::diff(&old, &new);
    let breaking = changes.iter().filter(|c| c.breaks.any()).count();
    let mut out = std::io::stdout().lock();
    let written = if args.format == "json" {
        writeln!(out, "{:#}", compat::to_json(&changes))
    } else {
        let side = |spec: &str, w: &compat::wire::Wire| match &w.release {
            Some(r) => format!("{spec} (QEMU {r})"),
            None => format!("{spec} (query-qmp-schema)"),
        };
        let mut r = writeln!(
            out,
            "{} to {}: {} changes, {breaking} breaking",
            side(&args.old, &old),
            side(&args.new, &new),
            changes.len()
        );
        for c in &changes {
            r = r.and_then(|()| writeln!(out, "{c}"));
        }
        r
    };
    if written.and_then(|()| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    if args.deny && breaking > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--qemu-version`, shared by every subcommand.
#[derive(clap::Args)]
struct ReleaseArg {
    /// Read the schema as this QEMU release's scripts/qapi does (X.Y or
    /// X.Y.Z, 7.2 through 10.2).  Default: the release in the VERSION file
    /// of the QEMU tree the schema sits in, else the newest.
    #[arg(long = "qemu-version", value_name = "X.Y[.Z]", value_parser = parse_release)]
    qemu_version: Option<qapi_gen::Release>,
}

impl ReleaseArg {
    fn options(&self) -> qapi_gen::LoadOptions {
        qapi_gen::LoadOptions {
            release: self.qemu_version,
            ..Default::default()
        }
    }
}

fn parse_release(s: &str) -> Result<qapi_gen::Release, String> {
    s.parse().map_err(|e: qapi_gen::Error| e.to_string())
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// The root schema file.
    schema: String,
    #[command(flatten)]
    release: ReleaseArg,
    /// Where to write the package (created if missing).
    #[arg(long)]
    out_dir: std::path::PathBuf,
    /// Range bindings: also speak to the QEMU release of this older
    /// schema (repeatable): PATH (release from its tree's VERSION file) or
    /// PATH@X.Y.  Types become the union of the releases; members not
    /// required by every release are optional; each command and event
    /// says which releases have it.  No server side is generated.
    #[arg(long = "compatible-with", value_name = "OLD")]
    compatible_with: Vec<String>,
    /// The package name (default: the out dir's name).
    #[arg(long)]
    name: Option<String>,
    /// Map a condition symbol to a cfg predicate: SYMBOL=PREDICATE, e.g.
    /// CONFIG_KVM='feature = "kvm"'.  Unmapped symbols become cargo
    /// features of their own name.
    #[arg(long = "cfg", value_name = "SYMBOL=PREDICATE")]
    cfg: Vec<String>,
    /// Evaluate conditions now, with SYMBOL defined (repeatable); items
    /// whose condition is false are left out.
    #[arg(long = "define", value_name = "SYMBOL")]
    define: Vec<String>,
    /// Evaluate conditions now even if no --define is given.
    #[arg(long)]
    evaluate: bool,
    /// Put each schema module behind a cargo feature.
    #[arg(long)]
    module_features: bool,
    /// Give enums an Unknown(String) catch-all variant.
    #[arg(long)]
    unknown_enum_values: bool,
    /// Let required member TYPE.MEMBER decode as its default when absent.
    #[arg(long, value_name = "TYPE.MEMBER")]
    absent_as_default: Vec<String>,
    /// Leave out the server side (handler trait, dispatcher,
    /// introspection).  In a package (`--package`) it is behind cargo
    /// feature `server` otherwise.
    #[arg(long)]
    no_server: bool,
    /// Depend on the qapi-support crate at this path.  Default: a version
    /// requirement on the published qapi-support (the one matching this
    /// qapi-gen), except when the package is written inside the workspace
    /// this qapi-gen was built from, where it takes that workspace's copy.
    #[arg(long)]
    support_path: Option<std::path::PathBuf>,
    /// After the error, show the source line with a caret.
    #[arg(long)]
    snippet: bool,
}

#[derive(clap::Args)]
struct DocCheckArgs {
    /// The root schema file.
    schema: String,
    #[command(flatten)]
    release: ReleaseArg,
    /// Exit 1 when there are findings.
    #[arg(long)]
    deny: bool,
    /// On a load error, show the source line with a caret.
    #[arg(long)]
    snippet: bool,
}

fn doc_check(args: &DocCheckArgs) -> ExitCode {
    let schema = match qapi_gen::load_with_options(&args.schema, &args.release.options()) {
        Ok(s) => s,
        Err(err) => {
            report(&err, args.snippet);
            return ExitCode::from(1);
        }
    };
    let findings = qapi_gen::doccheck::doc_check(&schema);
    let mut out = std::io::stdout().lock();
    for f in &findings {
        if writeln!(out, "{f}").is_err() {
            return ExitCode::from(2);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    eprintln!(
        "{}: {}",
        args.schema,
        qapi_gen::doccheck::summary(&findings)
    );
    if args.deny && !findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The root schema file.
    schema: String,
    #[command(flatten)]
    release: ReleaseArg,
    /// After the error, show the source line with a caret (default: only
    /// when stderr is a terminal).
    #[arg(long)]
    snippet: bool,
}

fn report(err: &qapi_gen::Error, snippet: bool) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{err}");
    if snippet || std::io::stderr().is_terminal() {
        if let Some(s) = err.snippet() {
            let _ = write!(stderr, "{s}");
        }
    }
}

/// The qapi-support of the workspace this qapi-gen was built from, when
/// `out` is inside that workspace (our own tests and CI); `None` for
/// everyone else (an installed qapi-gen, whose source directory is a
/// registry copy), who get a version requirement.
fn own_workspace_support(out: &std::path::Path) -> Option<std::path::PathBuf> {
    let root = std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).ok()?;
    let support = root.join("crates/qapi-support");
    (out.starts_with(&root) && support.join("Cargo.toml").is_file()).then_some(support)
}

fn generate(args: &GenerateArgs) -> Result<(), qapi_gen::Error> {
    use qapi_gen::backend::package::{package, relative_path, PackageSpec, SupportDep};
    let mut cfg = std::collections::BTreeMap::new();
    for c in &args.cfg {
        let Some((sym, pred)) = c.split_once('=') else {
            return Err(qapi_gen::Error::bare(format!(
                "--cfg {c}: expected SYMBOL=PREDICATE, e.g. CONFIG_KVM='feature = \"kvm\"'"
            )));
        };
        cfg.insert(sym.trim().to_string(), pred.trim().to_string());
    }
    let defined =
        (args.evaluate || !args.define.is_empty()).then(|| args.define.iter().cloned().collect());
    let opts = qapi_gen::backend::rust::Options {
        conditions: qapi_gen::backend::cond::Conditions::new(cfg, defined)?,
        module_features: args.module_features,
        unknown_enum_values: args.unknown_enum_values,
        absent_as_default: args.absent_as_default.clone(),
        server: !args.no_server,
        // The package's clients do not pay for the server side: it is
        // behind feature `server`.
        server_feature: !args.no_server,
    };
    let schema = if args.compatible_with.is_empty() {
        qapi_gen::load_with_options(&args.schema, &args.release.options())?
    } else {
        let schema =
            qapi_gen::load_range(&args.schema, &args.release.options(), &args.compatible_with)?;
        if let Some(r) = &schema.range {
            for u in &r.unmerged {
                eprintln!("note: {u}");
            }
        }
        schema
    };
    let out_dir = &args.out_dir;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| qapi_gen::Error::bare(format!("cannot create {}: {e}", out_dir.display())))?;
    let abs_out = std::fs::canonicalize(out_dir).unwrap_or_else(|_| out_dir.clone());
    let support = match &args.support_path {
        Some(p) => Some(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        None => own_workspace_support(&abs_out),
    };
    let support = match support {
        Some(p) => SupportDep::Path(relative_path(&abs_out, &p).to_string_lossy().into_owned()),
        None => SupportDep::Version(env!("CARGO_PKG_VERSION").to_string()),
    };
    let name = args.name.clone().unwrap_or_else(|| {
        let base = abs_out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let clean: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if clean.is_empty() || clean.starts_with(|c: char| c.is_ascii_digit()) {
            "qapi-bindings".to_string()
        } else {
            clean
        }
    });
    if name.is_empty()
        || name.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(qapi_gen::Error::bare(format!(
            "--name {name}: a Cargo package name is letters, digits, '-' and '_', \
             not starting with a digit or '-' (e.g. qapi-qemu-7-2)"
        )));
    }
    let spec = PackageSpec {
        name,
        header: format!("Generated by qapi-gen from {}. Do not edit.", schema.root),
        support,
        standalone: true,
        crate_doc: None,
        rustfmt_skip: false,
    };
    package(&schema, &opts, &spec)?.write(out_dir)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, dump) = match &cli.command {
        Cmd::Check(a) => (a, false),
        Cmd::Dump(a) => (a, true),
        Cmd::DocCheck(a) => return doc_check(a),
        Cmd::Compat(a) => return compat(a),
        Cmd::SchemaQuery(a) => return schema_query(a),
        Cmd::Generate(g) => {
            return match generate(g) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    report(&err, g.snippet);
                    ExitCode::from(1)
                }
            };
        }
    };
    match qapi_gen::load_with_options(&args.schema, &args.release.options()) {
        Ok(schema) => {
            if dump {
                let text = qapi_gen::dump::dump(&schema);
                let mut out = std::io::stdout().lock();
                if out
                    .write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .is_err()
                {
                    return ExitCode::from(2);
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            report(&err, args.snippet);
            ExitCode::from(1)
        }
    }
}
