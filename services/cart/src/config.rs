//! The cart's settings: each field is one environment variable (`cart --help` lists them).

use platform::{
    config::ServerArgs,
    db::DatabaseConfig,
    grpc_client::{ClientConfig, backend_url},
};

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "cart", about = "Shopping carts (gRPC)", version)]
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
    // xtask:new-service config fields
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 50052;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
