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
}

#[derive(clap::Args)]
struct DocCheckArgs {
    /// The root schema file.
    schema: String,
    /// Exit 1 when there are findings.
    #[arg(long)]
    deny: bool,
    /// On a load error, show the source line with a caret.
    #[arg(long)]
    snippet: bool,
}

fn doc_check(args: &DocCheckArgs) -> ExitCode {
    let schema = match qapi_gen::load(&args.schema) {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, dump) = match &cli.command {
        Cmd::Check(a) => (a, false),
        Cmd::Dump(a) => (a, true),
        Cmd::DocCheck(a) => return doc_check(a),
    };
    match qapi_gen::load(&args.schema) {
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
