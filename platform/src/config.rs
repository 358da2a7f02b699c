//! Configuration from environment variables (12-factor), with defaults and errors that name the
//! variable. Each service lists every variable it reads in `ENV_VARS`, so the Kubernetes manifests
//! can be checked against the code.

use crate::shutdown::ShutdownPolicy;
use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    fmt::Display,
    net::SocketAddr,
    str::FromStr,
};

/// A bad or missing setting; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required but not set")]
    Missing { name: &'static str },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

thread_local! {
    /// Variables that take precedence over the process environment while a config loads.
    static OVERRIDES: RefCell<BTreeMap<String, String>> = const { RefCell::new(BTreeMap::new()) };
    /// The names read while [`reads`] runs.
    static READS: RefCell<Option<BTreeSet<String>>> = const { RefCell::new(None) };
}

/// Runs `load` and returns every variable name it read: how tests check that a binary's declared
/// `ENV_VARS` (which the manifests and docs are checked against) are exactly what its code reads.
pub fn reads<T>(load: impl FnOnce() -> T) -> (T, BTreeSet<String>) {
    READS.with(|r| r.replace(Some(BTreeSet::new())));
    let result = load();
    let names = READS.with(|r| r.replace(None)).unwrap_or_default();
    (result, names)
}

/// Runs `load` (a config's `from_env`) with `vars` taking precedence over the process environment:
/// how the all-in-one `shop up` gives each service its own addresses and database while every
/// other setting reads the environment exactly as the service's container does.
pub fn with_overrides<T>(vars: BTreeMap<String, String>, load: impl FnOnce() -> T) -> T {
    let previous = OVERRIDES.with(|o| o.replace(vars));
    let result = load();
    OVERRIDES.with(|o| o.replace(previous));
    result
}

/// The raw value of a variable: an override, or the process environment.
fn raw(name: &str) -> Option<String> {
    READS.with(|r| {
        if let Some(names) = r.borrow_mut().as_mut() {
            names.insert(name.to_owned());
        }
    });
    OVERRIDES
        .with(|o| o.borrow().get(name).cloned())
        .or_else(|| std::env::var(name).ok())
}

/// Reads `name`, parsing it as `T`; `None` when unset or empty.
pub fn optional<T>(name: &'static str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match raw(name) {
        Some(value) if !value.trim().is_empty() => {
            value
                .trim()
                .parse()
                .map(Some)
                .map_err(|e: T::Err| ConfigError::Invalid {
                    name,
                    value,
                    reason: e.to_string(),
                })
        }
        _ => Ok(None),
    }
}

/// Reads `name`, or `default` when unset.
pub fn or_default<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    Ok(optional(name)?.unwrap_or(default))
}

/// Reads `name`, which must be set.
pub fn required<T>(name: &'static str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    optional(name)?.ok_or(ConfigError::Missing { name })
}

/// Checks a parsed value against a rule, turning a failure into an error naming the variable.
pub fn check<T: Display>(
    name: &'static str,
    value: T,
    rule: impl FnOnce(&T) -> bool,
    reason: &str,
) -> Result<T, ConfigError> {
    if rule(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: reason.to_owned(),
        })
    }
}

/// Variables read by every binary (telemetry and shutdown).
pub const COMMON_ENV_VARS: &[&str] = &[
    "RUST_LOG",
    "LOG_FORMAT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "LISTEN_ADDR",
    "SHUTDOWN_DELAY_SECONDS",
    "SHUTDOWN_DRAIN_SECONDS",
    "GRACEFUL_SHUTDOWN",
];

/// Variables of a server: the common ones plus the admin listener.
pub const SERVER_ENV_VARS: &[&str] = &["ADMIN_ADDR"];

/// Variables of a service with a database.
pub const DATABASE_ENV_VARS: &[&str] = &["DATABASE_URL", "DATA_DIR", "DATABASE_MAX_CONNECTIONS"];

/// Variables of a binary that calls other services over gRPC.
pub const GRPC_CLIENT_ENV_VARS: &[&str] = &[
    "GRPC_CONNECT_TIMEOUT_MS",
    "GRPC_REQUEST_TIMEOUT_MS",
    "GRPC_MAX_RETRIES",
    "GRPC_DISCOVERY_INTERVAL_MS",
];

/// Where a binary listens and how it shuts down.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen_addr: SocketAddr,
    /// Admin HTTP (`/healthz`, `/readyz`, `/metrics`); `None` only in tests that do not need it.
    pub admin_addr: Option<SocketAddr>,
    pub shutdown: ShutdownPolicy,
}

impl ServerConfig {
    /// `LISTEN_ADDR` (default `0.0.0.0:default_port`) and `ADMIN_ADDR` (default `0.0.0.0:9090`).
    pub fn from_env(default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            listen_addr: or_default(
                "LISTEN_ADDR",
                SocketAddr::from(([0, 0, 0, 0], default_port)),
            )?,
            admin_addr: Some(or_default(
                "ADMIN_ADDR",
                SocketAddr::from(([0, 0, 0, 0], DEFAULT_ADMIN_PORT)),
            )?),
            shutdown: ShutdownPolicy::from_env()?,
        })
    }
}

/// The admin port of every binary in a container (each pod has its own network namespace).
pub const DEFAULT_ADMIN_PORT: u16 = 9090;

/// The database of one service: `DATABASE_URL`, or a SQLite file named after the service in
/// `DATA_DIR`.
pub fn database_url_from_env(service: &str) -> Result<String, ConfigError> {
    if let Some(url) = optional::<String>("DATABASE_URL")? {
        return Ok(url);
    }
    let dir: String = or_default("DATA_DIR", "data".to_owned())?;
    Ok(format!("sqlite://{dir}/{service}.db"))
}

/// Joins the variable lists of the parts a binary is made of.
pub fn env_vars(parts: &[&[&'static str]]) -> Vec<&'static str> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_the_variable_and_the_reason() {
        let err = check(
            "PAYMENTS_FAILURE_RATE",
            1.5,
            |r| (0.0..=1.0).contains(r),
            "must be in 0..=1",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable PAYMENTS_FAILURE_RATE=\"1.5\" is invalid: must be in 0..=1"
        );
    }

    #[test]
    fn overrides_take_precedence_while_loading_only() {
        let vars = BTreeMap::from([("SHOP_TEST_OVERRIDDEN".to_owned(), "7".to_owned())]);
        let inside = with_overrides(vars, || required::<u32>("SHOP_TEST_OVERRIDDEN"));
        assert_eq!(inside.unwrap(), 7);
        assert!(optional::<u32>("SHOP_TEST_OVERRIDDEN").unwrap().is_none());
    }

    #[test]
    fn missing_required_variable_is_named() {
        let err = required::<String>("SHOP_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
        assert!(err.to_string().contains("SHOP_TEST_SURELY_UNSET_VARIABLE"));
    }
}
