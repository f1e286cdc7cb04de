//! `qmp-cpu-server --target x86_64|s390x --socket PATH`: a QMP server that
//! answers QEMU 10.0.2's CPU-model commands for the target, computed from
//! the catalogue compiled in, plus our `static` / `migration-safe`
//! booleans.  Stops cleanly (socket removed) on SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use cpu_models::Target;
use qmp_runtime::{Server, ServerConfig};

mod alloc;

// Replies are built from many small allocations (JSON maps of a few
// hundred properties); mimalloc keeps that off the latency path, and big
// buffers go back to the system when freed (see `alloc.rs`).
#[global_allocator]
static GLOBAL: alloc::Split = alloc::Split;

/// Serve QEMU's CPU-model QMP commands for one target.
#[derive(Parser)]
#[command(name = "qmp-cpu-server", version, about)]
struct Cli {
    /// The target whose QEMU to behave as: x86_64 or s390x.
    #[arg(long, value_parser = parse_target)]
    target: Target,
    /// Listen on this UNIX socket (a stale socket file is replaced).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Also (or instead) listen on TCP, loopback only (e.g. 127.0.0.1:4444).
    #[arg(long)]
    tcp: Option<SocketAddr>,
    /// Do not offer the `oob` capability.
    #[arg(long)]
    no_oob: bool,
}

fn parse_target(s: &str) -> Result<Target, String> {
    Target::from_arch(s).ok_or_else(|| format!("unknown target '{s}': use x86_64 or s390x"))
}

fn main() -> ExitCode {
    alloc::init();
    let cli = Cli::parse();
    if cli.socket.is_none() && cli.tcp.is_none() {
        eprintln!("qmp-cpu-server: give --socket PATH and/or --tcp ADDR:PORT");
        return ExitCode::from(2);
    }
    let service = match qmp_cpu_server::CpuService::new(cli.target) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "qmp-cpu-server: cannot load the {} catalogue: {e}",
                cli.target.arch()
            );
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("qmp-cpu-server: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let config = ServerConfig {
            version: qmp_cpu_server::greeting_version(),
            offer_oob: !cli.no_oob,
            // Every command here is computed in microseconds and never
            // blocks: run it on the connection's task.
            inline_commands: true,
            ..ServerConfig::default()
        };
        let server = Server::new(service, config);
        if let Some(path) = &cli.socket {
            if let Err(e) = server.listen_unix(path).await {
                eprintln!("qmp-cpu-server: cannot listen on {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!(
                "qmp-cpu-server: {} on unix:{}",
                cli.target.arch(),
                path.display()
            );
        }
        if let Some(addr) = cli.tcp {
            match server.listen_tcp(addr).await {
                Ok(a) => eprintln!("qmp-cpu-server: {} on tcp:{a}", cli.target.arch()),
                Err(e) => {
                    eprintln!("qmp-cpu-server: cannot listen on {addr}: {e}");
                    server.shutdown().await;
                    return ExitCode::FAILURE;
                }
            }
        }
        wait_for_signal().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
