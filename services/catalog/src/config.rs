//! The catalog's settings: each field is one environment variable (`catalog --help` lists them).

use platform::{config::ServerArgs, db::DatabaseConfig};

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "catalog", about = "The product catalog (gRPC)", version)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Milliseconds between reloads of the products from the database into memory, where reads
    /// are answered from: how long a change made in the database takes to show.
    #[arg(long = "catalog-refresh-interval-ms", env = "CATALOG_REFRESH_INTERVAL_MS", value_name = "MS",
          default_value = "5000", value_parser = platform::config::parse::positive_millis)]
    pub refresh_interval: std::time::Duration,
    // xtask:new-service config fields
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 50051;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
