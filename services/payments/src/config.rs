//! The payments service's settings, from the environment.

use crate::domain::Faults;
use platform::config::{self, ConfigError, ServerConfig};
use std::{sync::LazyLock, time::Duration};

pub const DEFAULT_PORT: u16 = 50054;

/// Every environment variable this binary reads.
pub static ENV_VARS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    config::env_vars(&[
        config::COMMON_ENV_VARS,
        config::SERVER_ENV_VARS,
        config::DATABASE_ENV_VARS,
        &["PAYMENTS_FAILURE_RATE", "PAYMENTS_ADDED_LATENCY_MS"],
        // xtask:new-service env vars
    ])
});

/// Variables that must be set (none: every one has a default).
pub const REQUIRED_ENV_VARS: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub database_url: String,
    pub faults: Faults,
    // xtask:new-service config fields
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let failure_rate = config::check(
            "PAYMENTS_FAILURE_RATE",
            config::or_default("PAYMENTS_FAILURE_RATE", 0.0f64)?,
            |r| (0.0..=1.0).contains(r),
            "must be a number between 0 and 1",
        )?;
        let latency = Duration::from_millis(config::or_default("PAYMENTS_ADDED_LATENCY_MS", 0u64)?);
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            database_url: config::database_url_from_env("payments")?,
            faults: Faults {
                failure_rate,
                added_latency: latency,
            },
            // xtask:new-service config values
        })
    }
}

impl platform::binary::ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }
}
