//! The orders service's settings, from the environment.

use platform::{
    config::{self, ConfigError, ServerConfig},
    grpc_client::{ClientConfig, parse_backend_url},
};
use std::sync::LazyLock;

pub const DEFAULT_PORT: u16 = 50053;

/// Every environment variable this binary reads.
pub static ENV_VARS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    config::env_vars(&[
        config::COMMON_ENV_VARS,
        config::GRPC_SERVER_ENV_VARS,
        config::DATABASE_ENV_VARS,
        config::GRPC_CLIENT_ENV_VARS,
        &["CATALOG_URL", "CART_URL", "PAYMENTS_URL"],
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
}

fn backend_url(name: &'static str, default: &str) -> Result<String, ConfigError> {
    let url = config::or_default(name, default.to_owned())?;
    parse_backend_url(name, &url)?;
    Ok(url)
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::grpc_from_env(DEFAULT_PORT)?,
            database_url: config::database_url_from_env("orders")?,
            catalog_url: backend_url("CATALOG_URL", "http://127.0.0.1:50051")?,
            cart_url: backend_url("CART_URL", "http://127.0.0.1:50052")?,
            payments_url: backend_url("PAYMENTS_URL", "http://127.0.0.1:50054")?,
            client: ClientConfig::from_env()?,
        })
    }
}

impl platform::binary::ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}
