//! The orders service's settings: each field is one environment variable (`orders --help` lists
//! them).

use platform::{
    config::ServerArgs,
    db::DatabaseConfig,
    grpc_client::{ClientConfig, backend_url},
};

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
    // xtask:new-service config fields
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 50053;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
