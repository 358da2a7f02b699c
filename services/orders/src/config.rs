//! The orders service's settings, from the environment.

use platform::{
    config::{self, ConfigError, ServerConfig},
    grpc_client::{ClientConfig, backend_url_from_env},
};
use std::sync::LazyLock;

pub const DEFAULT_PORT: u16 = 50053;

/// Every environment variable this binary reads.
pub static ENV_VARS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    config::env_vars(&[
        config::COMMON_ENV_VARS,
        config::SERVER_ENV_VARS,
        config::DATABASE_ENV_VARS,
        config::GRPC_CLIENT_ENV_VARS,
        &["CATALOG_URL", "CART_URL", "PAYMENTS_URL"],
        // xtask:new-service env vars
    ])
});

/// Variables that must be set (none: every one has a default).
pub const REQUIRED_ENV_VARS: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub database_url: String,
    pub catalog_url: String,
    pub cart_url: String,
    pub payments_url: String,
    pub client: ClientConfig,
    // xtask:new-service config fields
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            database_url: config::database_url_from_env("orders")?,
            catalog_url: backend_url_from_env("CATALOG_URL", "http://127.0.0.1:50051")?,
            cart_url: backend_url_from_env("CART_URL", "http://127.0.0.1:50052")?,
            payments_url: backend_url_from_env("PAYMENTS_URL", "http://127.0.0.1:50054")?,
            client: ClientConfig::from_env()?,
            // xtask:new-service config values
        })
    }
}

impl platform::binary::ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}
