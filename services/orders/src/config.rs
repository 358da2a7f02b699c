//! The orders service's settings: each field is one environment variable (`orders --help` lists
//! them).

use platform::{
    config::{ServerArgs, parse},
    db::DatabaseConfig,
    grpc_client::{ClientConfig, backend_url},
};
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "orders", about = "Checkout and order history (gRPC)", version)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub client: ClientConfig,
    /// The catalog: `http://host:port`, or a comma-separated list of replicas.
    #[arg(long = "catalog-url", env = "CATALOG_URL", value_name = "URL",
          default_value = "http://127.0.0.1:50051", value_parser = backend_url)]
    pub catalog_url: String,
    /// The cart service.
    #[arg(long = "cart-url", env = "CART_URL", value_name = "URL",
          default_value = "http://127.0.0.1:50052", value_parser = backend_url)]
    pub cart_url: String,
    /// The payments service.
    #[arg(long = "payments-url", env = "PAYMENTS_URL", value_name = "URL",
          default_value = "http://127.0.0.1:50054", value_parser = backend_url)]
    pub payments_url: String,
    /// Seconds a checkout attempt holds its idempotency key; a retry after a crash waits at most
    /// this long (longer than an attempt takes).
    #[arg(long = "checkout-lease-seconds", env = "CHECKOUT_LEASE_SECONDS", value_name = "SECONDS",
          default_value = "15", value_parser = parse::positive_seconds)]
    pub checkout_lease: Duration,
    /// Seconds after its lease ended that an unfinished checkout is voided (its charge, if any,
    /// voided): the time a client has to retry it.
    #[arg(long = "checkout-abandon-after-seconds", env = "CHECKOUT_ABANDON_AFTER_SECONDS",
          value_name = "SECONDS", default_value = "300", value_parser = parse::positive_seconds)]
    pub checkout_abandon_after: Duration,
    /// Fault injection: milliseconds to pause between the charge and storing the order (to show
    /// crash recovery; docs/reliability.md).
    #[arg(long = "orders-pause-after-charge-ms", env = "ORDERS_PAUSE_AFTER_CHARGE_MS",
          value_name = "MS", default_value = "0", value_parser = parse::millis)]
    pub pause_after_charge: Duration,
    // xtask:new-service config fields
}

impl Config {
    pub fn checkout_policy(&self) -> crate::app::CheckoutPolicy {
        crate::app::CheckoutPolicy {
            lease: self.checkout_lease,
            abandon_after: self.checkout_abandon_after,
            pause_after_charge: self.pause_after_charge,
        }
    }
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 50053;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
