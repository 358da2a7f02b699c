//! Chores of this repository as code (the "cargo xtask" pattern): `cargo run -p xtask -- --help`.

mod affected;
mod edit;
mod new_service;
mod otlp_sink;
mod template;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(about = "Chores of the shop repository, as code")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add a gRPC service: its crate, contract, tests, manifests, compose service and docs, listed
    /// wherever the shop lists its services (see docs/new-service.md).
    NewService(new_service::Args),
    /// The images a change needs (built, pushed, rolled out), from the diff between two commits and
    /// the workspace's dependency graph: one name per line on stdout, why on stderr.
    Affected(affected::Args),
    /// Receive OpenTelemetry traces over OTLP/gRPC and count them (the benchmark's collector).
    OtlpSink(otlp_sink::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::NewService(args) => {
            workspace_root().and_then(|root| new_service::run(&args, &root))
        }
        Command::Affected(args) => workspace_root().and_then(|root| affected::run(&args, &root)),
        Command::OtlpSink(args) => otlp_sink::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The repository to work on, found when the program runs (never where it was compiled: a binary
/// reused from a shared target directory must not change the tree it was first built from):
/// `cargo run -p xtask` sets CARGO_MANIFEST_DIR to xtask/; otherwise the nearest directory, from the
/// current one up, that holds services.txt.
fn workspace_root() -> anyhow::Result<PathBuf> {
    if let Some(xtask) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let root = PathBuf::from(xtask).join("..");
        if root.join("services.txt").is_file() {
            return Ok(root.canonicalize()?);
        }
    }
    let here = std::env::current_dir()?;
    here.ancestors()
        .find(|dir| dir.join("services.txt").is_file())
        .map(PathBuf::from)
        .with_context(|| {
            format!(
                "no services.txt in {} or above: run it in the repository",
                here.display()
            )
        })
}
