//! The payments service's settings: each field is one environment variable (`payments --help`
//! lists them).

use crate::domain::Faults;
use platform::{
    config::{ServerArgs, parse},
    db::DatabaseConfig,
};
use std::time::Duration;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "payments",
    about = "Charges and refunds (gRPC), a stand-in payment provider",
    version
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Share of charges that fail on purpose with UNAVAILABLE, a processor outage (fault
    /// injection, for demos and tests).
    #[arg(long = "payments-failure-rate", env = "PAYMENTS_FAILURE_RATE", value_name = "0..1", default_value = "0",
          value_parser = parse::fraction)]
    pub failure_rate: f64,
    /// Milliseconds added to every charge (fault injection: a slow provider).
    #[arg(long = "payments-added-latency-ms", env = "PAYMENTS_ADDED_LATENCY_MS", value_name = "MS",
          default_value = "0", value_parser = parse::millis)]
    pub added_latency: Duration,
    // xtask:new-service config fields
}

impl Config {
    /// The faults it injects.
    pub fn faults(&self) -> Faults {
        Faults {
            failure_rate: self.failure_rate,
            added_latency: self.added_latency,
        }
    }
}

impl platform::binary::ServiceConfig for Config {
    const DEFAULT_PORT: u16 = 50054;

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
