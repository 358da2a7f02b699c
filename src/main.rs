//! `shop up`: the whole shop in one process, for a laptop with nothing but Rust.

use clap::{Parser, Subcommand};
use shop::{Databases, ShopOptions, services};
use std::{path::PathBuf, process::ExitCode};

platform::fast_allocator!();

#[derive(Parser)]
#[command(version, about = "The Rust microservices shop, all in one process")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one service on its own, exactly as its container does (configured by environment
    /// variables: see docs/configuration.md). `shop run catalog healthcheck` probes a running one;
    /// `shop run catalog --help` lists its variables.
    #[command(disable_help_flag = true)]
    Run {
        /// A service of services.txt, e.g. catalog or storefront.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(services::ENTRIES.iter().map(|e| e.name)))]
        service: String,
        /// `healthcheck` to probe instead of serve; `--help` lists its environment variables.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Start every service of services.txt (the storefront, the gateway and the services behind it);
    /// Ctrl-C stops them cleanly.
    Up {
        /// Directory of the SQLite databases (created if missing).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Let the OS pick free ports instead of those of services.txt (used by tests).
        #[arg(long)]
        ephemeral_ports: bool,
        /// Run more instances of a service, e.g. `--replicas gateway=2` (repeat for several): its
        /// callers spread their requests over all of them, as over a Deployment's pods.
        #[arg(long, value_name = "NAME=N", value_parser = replicas)]
        replicas: Vec<(String, usize)>,
        /// Logs and traces of the whole process (each service's other settings come from the
        /// same environment variables as its container).
        #[command(flatten)]
        telemetry: platform::telemetry::TelemetryConfig,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run { service, args } => {
            let entry = services::entry(&service).expect("clap checked the name");
            (entry.run)(&args)
        }
        Command::Up {
            data_dir,
            host,
            ephemeral_ports,
            replicas,
            telemetry,
        } => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(up(
                ShopOptions {
                    databases: Databases::SqliteDir(data_dir),
                    host,
                    ephemeral_ports,
                    fallback_jwt_secret: shop::random_secret(),
                    replicas: replicas.into_iter().collect(),
                },
                telemetry,
            )),
            Err(e) => {
                eprintln!("cannot start the async runtime: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `NAME=N`, N from 1 to 8.
fn replicas(value: &str) -> Result<(String, usize), String> {
    let (name, count) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?}: expected NAME=N, e.g. gateway=2"))?;
    match count.parse::<usize>() {
        Ok(n @ 1..=8) => Ok((name.to_owned(), n)),
        _ => Err(format!("{value:?}: N must be a number from 1 to 8")),
    }
}

async fn up(options: ShopOptions, telemetry: platform::telemetry::TelemetryConfig) -> ExitCode {
    let _telemetry = match platform::telemetry::init("shop", &telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if std::env::var("JWT_SECRET").map_or(true, |s| s.is_empty()) {
        tracing::info!(
            "JWT_SECRET not set: using a random secret, so sessions end when the shop stops"
        );
    }
    let shop = match shop::start(options).await {
        Ok(shop) => shop,
        Err(e) => {
            tracing::error!("cannot start the shop: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    shop.shutdown.trigger_on_signals();
    if let Err(e) = shop.wait_ready(std::time::Duration::from_secs(60)).await {
        tracing::error!("the shop did not become ready: {e:#}");
        shop.shutdown.trigger();
        let _ = shop.wait().await;
        return ExitCode::FAILURE;
    }
    let (g, ga) = shop.addresses.of("gateway");
    let (web, _) = shop.addresses.of("storefront");
    println!("\nThe shop is up.\n");
    println!(
        "  Storefront      http://{web}/   (behind the scenes: http://{web}/behind-the-scenes)"
    );
    println!("  REST API        http://{g}/api/v1/products   (also http://{web}/api/v1/...)");
    println!("  API docs        http://{web}/api-docs   (OpenAPI: http://{g}/api/v1/openapi.json)");
    let listed = services::listed();
    for (name, instances) in shop.addresses.services() {
        let http = listed.iter().any(|l| l.name == name && l.kind == "http");
        for (main, admin) in instances {
            let serves = if http {
                format!("http://{main}")
            } else {
                format!("gRPC {main}  (grpcurl -plaintext {main} list)")
            };
            println!("  {name:<15} {serves}  admin http://{admin}/metrics");
        }
    }
    println!(
        "\nOpen http://{web}/ in a browser, or: curl http://{g}/api/v1/products?page_size=3\nPress Ctrl-C to stop."
    );
    // Machine-readable lines, read by the tests and scripts that start `shop up`.
    println!(
        "gateway listening on http://{g}\ngateway admin on http://{ga}\nstorefront listening on http://{web}"
    );
    match shop.wait().await {
        Ok(()) => {
            tracing::info!("the shop stopped cleanly");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
