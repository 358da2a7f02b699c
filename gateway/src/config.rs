//! The gateway's settings, from the environment.

use platform::{
    config::{self, ConfigError, ServerConfig},
    grpc_client::{ClientConfig, backend_url_from_env},
};
use std::{sync::LazyLock, time::Duration};

pub const DEFAULT_PORT: u16 = 8080;
/// Shortest HMAC secret accepted for session tokens (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// Every environment variable this binary reads.
pub static ENV_VARS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    config::env_vars(&[
        config::COMMON_ENV_VARS,
        config::SERVER_ENV_VARS,
        config::GRPC_CLIENT_ENV_VARS,
        &[
            "CATALOG_URL",
            "CART_URL",
            "ORDERS_URL",
            "JWT_SECRET",
            "TOKEN_TTL_SECONDS",
            "MAX_BODY_BYTES",
        ],
        // xtask:new-service env vars
    ])
});

/// Variables that must be set.
pub const REQUIRED_ENV_VARS: &[&str] = &["JWT_SECRET"];

#[derive(Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub catalog_url: String,
    pub cart_url: String,
    pub orders_url: String,
    pub jwt_secret: String,
    pub token_ttl: Duration,
    pub max_body_bytes: usize,
    pub client: ClientConfig,
    // xtask:new-service config fields
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("catalog_url", &self.catalog_url)
            .field("cart_url", &self.cart_url)
            .field("orders_url", &self.orders_url)
            .field("token_ttl", &self.token_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with_secret(None)
    }

    /// Like [`Config::from_env`], with `fallback_secret` used when `JWT_SECRET` is unset (the
    /// all-in-one command generates one).
    pub fn from_env_with_secret(fallback_secret: Option<String>) -> Result<Self, ConfigError> {
        let jwt_secret = match (config::optional::<String>("JWT_SECRET")?, fallback_secret) {
            (Some(secret), _) | (None, Some(secret)) => secret,
            (None, None) => return Err(ConfigError::Missing { name: "JWT_SECRET" }),
        };
        if jwt_secret.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                value: "(hidden)".into(),
                reason: format!("must be at least {MIN_SECRET_BYTES} bytes"),
            });
        }
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            catalog_url: backend_url_from_env("CATALOG_URL", "http://127.0.0.1:50051")?,
            cart_url: backend_url_from_env("CART_URL", "http://127.0.0.1:50052")?,
            orders_url: backend_url_from_env("ORDERS_URL", "http://127.0.0.1:50053")?,
            jwt_secret,
            token_ttl: Duration::from_secs(config::check(
                "TOKEN_TTL_SECONDS",
                config::or_default("TOKEN_TTL_SECONDS", 86_400u64)?,
                |t| *t > 0,
                "must be positive",
            )?),
            max_body_bytes: config::check(
                "MAX_BODY_BYTES",
                config::or_default("MAX_BODY_BYTES", 65_536usize)?,
                |b| *b >= 1024,
                "must be at least 1024",
            )?,
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
