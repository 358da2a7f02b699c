//! The gateway's settings: each field is one environment variable (`gateway --help` lists them).

use platform::{
    config::{ServerArgs, parse},
    grpc_client::{ClientConfig, backend_url},
};
use std::time::Duration;

/// Shortest HMAC secret accepted for session tokens (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Clone, clap::Parser)]
#[command(
    name = "gateway",
    about = "The shop's public REST API (/api/v1)",
    version
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
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
    /// The orders service.
    #[arg(long = "orders-url", env = "ORDERS_URL", value_name = "URL",
          default_value = "http://127.0.0.1:50053", value_parser = backend_url)]
    pub orders_url: String,
    /// The HMAC secret that signs session tokens, at least 32 bytes (`shop up` makes a random one).
    #[arg(long = "jwt-secret", env = "JWT_SECRET", value_name = "SECRET", hide_env_values = true,
          value_parser = secret)]
    pub jwt_secret: String,
    /// Lifetime of a session token, in seconds.
    #[arg(long = "token-ttl-seconds", env = "TOKEN_TTL_SECONDS", value_name = "SECONDS",
          default_value = "86400", value_parser = parse::positive_seconds)]
    pub token_ttl: Duration,
    /// Milliseconds a request may take in all, the calls it makes included (then 504); each gRPC
    /// call carries the time left, and is also bounded by GRPC_REQUEST_TIMEOUT_MS.
    #[arg(long = "request-timeout-ms", env = "REQUEST_TIMEOUT_MS", value_name = "MS",
          default_value = "5000", value_parser = positive_millis)]
    pub request_budget: Duration,
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long = "max-body-bytes", env = "MAX_BODY_BYTES", value_name = "BYTES",
          default_value = "65536", value_parser = max_body_bytes)]
    pub max_body_bytes: usize,
    // xtask:new-service config fields
}

fn secret(s: &str) -> Result<String, String> {
    if s.len() >= MIN_SECRET_BYTES {
        Ok(s.to_owned())
    } else {
        Err(format!("must be at least {MIN_SECRET_BYTES} bytes"))
    }
}

fn positive_millis(s: &str) -> Result<Duration, String> {
    parse::count(s, 1, 3_600_000).map(Duration::from_millis)
}

fn max_body_bytes(s: &str) -> Result<usize, String> {
    parse::count(s, 1024, 64 << 20).map(|n| n as usize)
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("client", &self.client)
            .field("catalog_url", &self.catalog_url)
            .field("cart_url", &self.cart_url)
            .field("orders_url", &self.orders_url)
            .field("token_ttl", &self.token_ttl)
            .field("request_budget", &self.request_budget)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 8080;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
