//! The catalog's settings, from the environment.

use platform::config::{self, ConfigError, ServerConfig};
use std::sync::LazyLock;

/// Default gRPC port of the catalog.
pub const DEFAULT_PORT: u16 = 50051;

/// Every environment variable this binary reads.
pub static ENV_VARS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    config::env_vars(&[
        config::COMMON_ENV_VARS,
        config::SERVER_ENV_VARS,
        config::DATABASE_ENV_VARS,
        // xtask:new-service env vars
    ])
});

/// Variables that must be set (none: every one has a default).
pub const REQUIRED_ENV_VARS: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub database_url: String,
    // xtask:new-service config fields
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            database_url: config::database_url_from_env("catalog")?,
            // xtask:new-service config values
        })
    }
}

impl platform::binary::ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}
