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
    /// Start catalog, cart, orders, payments and the gateway; Ctrl-C stops them cleanly.
    Up {
        /// Directory of the SQLite databases (created if missing).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Let the OS pick free ports instead of 8080 and 50051-50054 (used by tests).
        #[arg(long)]
        ephemeral_ports: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Up {
        data_dir,
        host,
        ephemeral_ports,
    } = Cli::parse().command;
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
    let a = shop.addresses;
    println!(
        "\nThe shop is up.\n\
         \n  REST API      http://{g}/api/v1/products\
         \n  OpenAPI       http://{g}/api/v1/openapi.json\
         \n  health        http://{g}/healthz  http://{g}/readyz\
         \n  metrics       http://{g}/metrics\
         \n  catalog gRPC  {c}   (grpcurl -plaintext {c} list)   admin http://{ca}/metrics\
         \n  cart gRPC     {k}   admin http://{ka}/metrics\
         \n  orders gRPC   {o}   admin http://{oa}/metrics\
         \n  payments gRPC {p}   admin http://{pa}/metrics\
         \n\nTry: curl http://{g}/api/v1/products?page_size=3\nPress Ctrl-C to stop.\n\
         gateway listening on http://{g}",
        g = a.gateway,
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
