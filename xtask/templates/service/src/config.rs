//! The settings of {{name}}, from the environment (docs/configuration.md describes the common ones).

use platform::config::{self, ConfigError, ServerConfig};
use std::sync::LazyLock;

/// Default gRPC port of {{name}} (its port in services.txt).
pub const DEFAULT_PORT: u16 = {{port}};

/// Every environment variable this binary reads.
pub static ENV_VARS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    config::env_vars(&[
        config::COMMON_ENV_VARS,
        config::SERVER_ENV_VARS,
{{#stateful}}
        config::DATABASE_ENV_VARS,
{{/stateful}}
        // xtask:new-service env vars
    ])
});

/// Variables that must be set (none: every one has a default).
pub const REQUIRED_ENV_VARS: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
{{#stateful}}
    pub database_url: String,
{{/stateful}}
    // xtask:new-service config fields
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
{{#stateful}}
            database_url: config::database_url_from_env("{{name}}")?,
{{/stateful}}
            // xtask:new-service config values
        })
    }
}

impl platform::binary::ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}
