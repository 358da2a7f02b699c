//! The catalog's settings: each field is one environment variable (`catalog --help` lists them).

use platform::{config::ServerArgs, db::DatabaseConfig};

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "catalog", about = "The product catalog (gRPC)", version)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub database: DatabaseConfig,
    // xtask:new-service config fields
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 50051;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
