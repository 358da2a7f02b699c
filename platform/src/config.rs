//! Configuration from environment variables (12-factor), declared once per binary with clap's
//! derive: every setting is one field, `#[arg(long, env = "NAME")]`, with its default and its
//! check. So `NAME --help` lists every variable with its default, [`env_vars`] gives the list the
//! Kubernetes manifests and docs/configuration.md are checked against, and a bad value is an error
//! that names the variable.

use crate::shutdown::ShutdownPolicy;
use clap::{
    CommandFactory, Parser,
    error::{ContextKind, ContextValue, ErrorKind},
};
use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

/// A bad or missing setting; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required but not set")]
    Missing { name: String },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
    /// A command-line mistake (an unknown flag); the text is clap's, with the usage.
    #[error("{0}")]
    Usage(String),
}

/// Loads config `C` from the process environment and the command line `args` (the program name
/// first), with `overrides` (variable name -> value) taking precedence over both: how the
/// all-in-one `shop up` gives each service its own addresses and database while every other
/// setting reads the environment exactly as the service's container does. An override for a
/// variable that `C` does not read is ignored.
pub fn load<C: Parser>(
    args: &[String],
    overrides: &BTreeMap<String, String>,
) -> Result<C, clap::Error> {
    let command = C::command();
    let mut argv = args.to_vec();
    for arg in command.get_arguments() {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        if let Some(value) = env.to_str().and_then(|name| overrides.get(name)) {
            argv.push(format!("--{long}={value}"));
        }
    }
    C::try_parse_from(argv)
}

/// [`load`] from the environment alone (no command-line flags), as a service's container runs it;
/// errors become [`ConfigError`]s naming the variable.
pub fn from_env<C: Parser>(
    name: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<C, ConfigError> {
    load::<C>(&[name.to_owned()], overrides).map_err(|e| explain::<C>(&e))
}

/// Every environment variable config `C` reads, in declaration order.
pub fn env_vars<C: CommandFactory>() -> Vec<String> {
    C::command()
        .get_arguments()
        .filter_map(|a| a.get_env())
        .filter_map(|e| e.to_str().map(str::to_owned))
        .collect()
}

/// The variables config `C` cannot load without.
pub fn required_env_vars<C: CommandFactory>() -> Vec<String> {
    C::command()
        .get_arguments()
        .filter(|a| a.is_required_set())
        .filter_map(|a| a.get_env())
        .filter_map(|e| e.to_str().map(str::to_owned))
        .collect()
}

/// Turns clap's error into one that names the environment variable (rather than the flag) and
/// never prints a value marked `hide_env_values` (a secret).
pub fn explain<C: CommandFactory>(error: &clap::Error) -> ConfigError {
    let command = C::command();
    let flags: Vec<String> = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    // "--listen-addr <LISTEN_ADDR>" -> the argument whose long name is listen-addr.
    let arg = flags.first().and_then(|flag| {
        let long = flag.split_whitespace().next()?.trim_start_matches("--");
        command.get_arguments().find(|a| a.get_long() == Some(long))
    });
    let Some(arg) = arg else {
        return ConfigError::Usage(error.render().to_string());
    };
    let name = arg
        .get_env()
        .and_then(|e| e.to_str())
        .unwrap_or_else(|| arg.get_id().as_str())
        .to_owned();
    match error.kind() {
        ErrorKind::MissingRequiredArgument => ConfigError::Missing { name },
        _ => {
            let value = match error.get(ContextKind::InvalidValue) {
                _ if arg.is_hide_env_values_set() => "(hidden)".to_owned(),
                Some(ContextValue::String(v)) => v.clone(),
                _ => String::new(),
            };
            let reason = match (
                std::error::Error::source(error),
                error.get(ContextKind::ValidValue),
            ) {
                (Some(source), _) => source.to_string(),
                (None, Some(ContextValue::Strings(valid))) => {
                    format!("must be one of: {}", valid.join(", "))
                }
                _ => error.kind().as_str().unwrap_or("invalid").to_owned(),
            };
            ConfigError::Invalid {
                name,
                value,
                reason,
            }
        }
    }
}

/// Where a server listens and how it stops: the settings every server binary shares, flattened
/// into its config.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Main listener [default: 0.0.0.0 and the service's port, see docs/configuration.md].
    #[arg(long, env = "LISTEN_ADDR", value_name = "ADDR")]
    pub listen_addr: Option<SocketAddr>,
    /// The /healthz /readyz /metrics listener.
    #[arg(
        long,
        env = "ADMIN_ADDR",
        value_name = "ADDR",
        default_value = "0.0.0.0:9090"
    )]
    pub admin_addr: SocketAddr,
    #[command(flatten)]
    pub shutdown: ShutdownPolicy,
    /// Requests served at once; more are refused at once (HTTP 503 with Retry-After, gRPC
    /// UNAVAILABLE) rather than queued.
    #[arg(long = "max-in-flight-requests", env = "MAX_IN_FLIGHT_REQUESTS", value_name = "N",
          default_value = "64", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_in_flight: u32,
    #[command(flatten)]
    pub telemetry: crate::telemetry::TelemetryConfig,
    #[command(flatten)]
    pub identity: crate::identity::IdentityArgs,
}

impl ServerArgs {
    /// The listeners, with `default_port` when `LISTEN_ADDR` is unset.
    pub fn resolve(&self, default_port: u16) -> ServerConfig {
        ServerConfig {
            listen_addr: self
                .listen_addr
                .unwrap_or(SocketAddr::from(([0, 0, 0, 0], default_port))),
            admin_addr: Some(self.admin_addr),
            shutdown: self.shutdown,
        }
    }
}

/// Where a binary listens and how it shuts down, resolved.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen_addr: SocketAddr,
    /// Admin HTTP (`/healthz`, `/readyz`, `/metrics`); `None` only in tests that do not need it.
    pub admin_addr: Option<SocketAddr>,
    pub shutdown: ShutdownPolicy,
}

/// The admin port of every binary in a container (each pod has its own network namespace).
pub const DEFAULT_ADMIN_PORT: u16 = 9090;

/// Value parsers for `#[arg(value_parser = ...)]`: each says what a valid value is.
pub mod parse {
    use super::*;

    /// A whole number of milliseconds.
    pub fn millis(s: &str) -> Result<Duration, String> {
        s.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| "must be a whole number of milliseconds".to_owned())
    }

    /// A whole number of milliseconds, at least 1 (a period: zero would mean "all the time").
    pub fn positive_millis(s: &str) -> Result<Duration, String> {
        millis(s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "must be a whole number of milliseconds, at least 1".to_owned())
    }

    /// A number of seconds, fractions allowed, not negative.
    pub fn seconds(s: &str) -> Result<Duration, String> {
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Duration::from_secs_f64(v)),
            _ => Err("must be a number of seconds, 0 or more".to_owned()),
        }
    }

    /// A whole number of seconds above 0.
    pub fn positive_seconds(s: &str) -> Result<Duration, String> {
        match s.trim().parse::<u64>() {
            Ok(v) if v > 0 => Ok(Duration::from_secs(v)),
            _ => Err("must be a whole number of seconds above 0".to_owned()),
        }
    }

    /// A probability, from 0 to 1.
    pub fn fraction(s: &str) -> Result<f64, String> {
        match s.trim().parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
            _ => Err("must be a number between 0 and 1".to_owned()),
        }
    }

    /// `true` or `false`.
    pub fn boolean(s: &str) -> Result<bool, String> {
        s.trim()
            .parse()
            .map_err(|_| "must be true or false".to_owned())
    }

    /// An HTTP base URL (`http://gateway:80`), or a comma-separated list of replicas' URLs; without
    /// a trailing `/`.
    pub fn http_urls(s: &str) -> Result<String, String> {
        let urls: Vec<&str> = s
            .split(',')
            .map(|u| u.trim().trim_end_matches('/'))
            .collect();
        for url in &urls {
            let uri: http::Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
                return Err(format!("{url:?} must be http://host[:port] or https://..."));
            }
            if uri
                .path_and_query()
                .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
            {
                return Err(format!("{url:?} must be a base URL, without a path"));
            }
        }
        Ok(urls.join(","))
    }

    /// A count from `min` to `max`.
    pub fn count(s: &str, min: u64, max: u64) -> Result<u64, String> {
        match s.trim().parse::<u64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!("must be a whole number from {min} to {max}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_must_be_at_least_one_millisecond() {
        assert_eq!(
            parse::positive_millis("250"),
            Ok(Duration::from_millis(250))
        );
        assert!(
            parse::positive_millis("0")
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(parse::positive_millis("-5").is_err());
        assert_eq!(
            parse::millis("0"),
            Ok(Duration::ZERO),
            "a plain duration may be 0"
        );
    }

    /// A config like a service's: a server, a required secret, a checked number.
    #[derive(Debug, clap::Parser)]
    struct Example {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long, env = "SHOP_TEST_SECRET", hide_env_values = true, value_parser = |s: &str| {
            if s.len() >= 8 { Ok(s.to_owned()) } else { Err("too short".to_owned()) }
        })]
        secret: String,
        #[arg(long, env = "SHOP_TEST_RATE", default_value = "0", value_parser = parse::fraction)]
        rate: f64,
    }

    fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overrides_set_variables_and_defaults_fill_the_rest() {
        let c: Example = from_env(
            "example",
            &overrides(&[
                ("SHOP_TEST_SECRET", "long enough"),
                ("LISTEN_ADDR", "127.0.0.1:7"),
            ]),
        )
        .unwrap();
        assert_eq!(c.secret, "long enough");
        assert_eq!(c.rate, 0.0);
        let server = c.server.resolve(50051);
        assert_eq!(server.listen_addr, "127.0.0.1:7".parse().unwrap());
        assert_eq!(server.admin_addr, Some("0.0.0.0:9090".parse().unwrap()));
        let c: Example = from_env(
            "example",
            &overrides(&[("SHOP_TEST_SECRET", "long enough")]),
        )
        .unwrap();
        assert_eq!(
            c.server.resolve(50051).listen_addr,
            "0.0.0.0:50051".parse().unwrap()
        );
    }

    #[test]
    fn an_invalid_value_names_the_variable_and_the_reason() {
        let err = from_env::<Example>(
            "example",
            &overrides(&[
                ("SHOP_TEST_SECRET", "long enough"),
                ("SHOP_TEST_RATE", "1.5"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SHOP_TEST_RATE=\"1.5\" is invalid: must be a number between 0 and 1"
        );
        let err = from_env::<Example>(
            "example",
            &overrides(&[
                ("SHOP_TEST_SECRET", "long enough"),
                ("LISTEN_ADDR", "nowhere"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("environment variable LISTEN_ADDR=\"nowhere\" is invalid:"),
            "{err}"
        );
    }

    #[test]
    fn a_secret_is_never_printed_and_a_missing_one_is_named() {
        let err = from_env::<Example>("example", &overrides(&[("SHOP_TEST_SECRET", "short")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SHOP_TEST_SECRET=\"(hidden)\" is invalid: too short"
        );
        let err = from_env::<Example>("example", &BTreeMap::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SHOP_TEST_SECRET is required but not set"
        );
    }

    #[test]
    fn the_variables_and_the_required_ones_come_from_the_declaration() {
        let vars = env_vars::<Example>();
        for name in [
            "LISTEN_ADDR",
            "ADMIN_ADDR",
            "SHUTDOWN_DELAY_SECONDS",
            "LOG_FORMAT",
            "SHOP_TEST_SECRET",
            "SHOP_TEST_RATE",
        ] {
            assert!(
                vars.iter().any(|v| v == name),
                "{name} missing from {vars:?}"
            );
        }
        assert_eq!(required_env_vars::<Example>(), ["SHOP_TEST_SECRET"]);
    }

    #[test]
    fn an_unknown_flag_is_a_usage_error() {
        let err = load::<Example>(&["example".into(), "--nope".into()], &BTreeMap::new())
            .map_err(|e| explain::<Example>(&e))
            .unwrap_err();
        assert!(matches!(err, ConfigError::Usage(_)), "{err:?}");
    }
}
