//! `shop up`: the whole shop in one process, for a laptop with nothing but Rust.

use clap::{Parser, Subcommand};
use shop::{Databases, Ports, ShopOptions};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(version, about = "The Rust microservices shop, all in one process")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one service on its own, exactly as its container does (configured by environment
    /// variables: see docs/configuration.md). `shop run catalog healthcheck` probes a running one.
    Run {
        service: Service,
        /// `healthcheck` to probe instead of serve.
        args: Vec<String>,
    },
    /// Start catalog, cart, orders, payments and the gateway; Ctrl-C stops them cleanly.
    Up {
        /// Directory of the SQLite databases (created if missing).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Let the OS pick free ports instead of 8080, 50051-50054 and 9090-9094 (used by tests).
        #[arg(long)]
        ephemeral_ports: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Service {
    Catalog,
    Cart,
    Orders,
    Payments,
    Gateway,
}

fn main() -> ExitCode {
    use platform::binary::{Probe, run_with_args};
    match Cli::parse().command {
        Command::Run { service, args } => match service {
            Service::Catalog => run_with_args(
                "catalog",
                Probe::Grpc,
                catalog::Config::from_env,
                catalog::serve,
                &args,
            ),
            Service::Cart => run_with_args(
                "cart",
                Probe::Grpc,
                cart::Config::from_env,
                cart::serve,
                &args,
            ),
            Service::Orders => run_with_args(
                "orders",
                Probe::Grpc,
                orders::Config::from_env,
                orders::serve,
                &args,
            ),
            Service::Payments => run_with_args(
                "payments",
                Probe::Grpc,
                payments::Config::from_env,
                payments::serve,
                &args,
            ),
            Service::Gateway => run_with_args(
                "gateway",
                Probe::Http,
                gateway::Config::from_env,
                gateway::serve,
                &args,
            ),
        },
        Command::Up {
            data_dir,
            host,
            ephemeral_ports,
        } => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(up(data_dir, host, ephemeral_ports)),
            Err(e) => {
                eprintln!("cannot start the async runtime: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn up(data_dir: PathBuf, host: std::net::IpAddr, ephemeral_ports: bool) -> ExitCode {
    let _telemetry = match platform::telemetry::init("shop") {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if std::env::var_os("JWT_SECRET").is_none() {
        tracing::info!(
            "JWT_SECRET not set: using a random secret, so sessions end when the shop stops"
        );
    }
    let options = ShopOptions {
        databases: Databases::SqliteDir(data_dir),
        host,
        ports: if ephemeral_ports {
            Ports::EPHEMERAL
        } else {
            Ports::STANDARD
        },
        fallback_jwt_secret: shop::random_secret(),
    };
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
    let a = shop.addresses;
    println!(
        "\nThe shop is up.\n\
         \n  REST API      http://{g}/api/v1/products\
         \n  OpenAPI       http://{g}/api/v1/openapi.json\
         \n  gateway admin http://{ga}/healthz  http://{ga}/readyz  http://{ga}/metrics\
         \n  catalog gRPC  {c}   (grpcurl -plaintext {c} list)   admin http://{ca}/metrics\
         \n  cart gRPC     {k}   admin http://{ka}/metrics\
         \n  orders gRPC   {o}   admin http://{oa}/metrics\
         \n  payments gRPC {p}   admin http://{pa}/metrics\
         \n\nTry: curl http://{g}/api/v1/products?page_size=3\nPress Ctrl-C to stop.\n\
         gateway listening on http://{g}\n\
         gateway admin on http://{ga}",
        g = a.gateway.0,
        ga = a.gateway.1,
        c = a.catalog.0,
        ca = a.catalog.1,
        k = a.cart.0,
        ka = a.cart.1,
        o = a.orders.0,
        oa = a.orders.1,
        p = a.payments.0,
        pa = a.payments.1,
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
