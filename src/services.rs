//! `services.txt`, the one list of what the shop runs, compiled into the binary, and the registry
//! of the services `shop up` and `shop run` can start: one entry each, the same config loader and
//! `serve` function its own binary uses.

use futures::future::BoxFuture;
use platform::{Shutdown, binary::Probe, config::ConfigError, grpc_server::Listeners};
use std::{collections::BTreeMap, process::ExitCode};

/// The text of services.txt.
pub const SERVICES_TXT: &str = include_str!("../services.txt");

/// What a row of services.txt says about one deployable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// `grpc` (a gRPC service), `http` (serves HTTP to users) or `tool` (serves nothing).
    pub kind: String,
    /// Main port, in its container and under `shop up`.
    pub port: Option<u16>,
    /// Admin port under `shop up` (every container uses 9090).
    pub admin: Option<u16>,
    pub database: bool,
    /// The services it calls over gRPC.
    pub calls: Vec<String>,
}

impl Listed {
    /// Whether it serves anything (`shop up` starts it, Kubernetes probes it).
    pub fn serves(&self) -> bool {
        self.kind != "tool"
    }
}

/// Parses services.txt: whitespace-separated columns, `#` comments, `-` for none.
pub fn parse(text: &str) -> Result<Vec<Listed>, String> {
    let port = |v: &str, line: &str| -> Result<Option<u16>, String> {
        if v == "-" {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| format!("services.txt: {v:?} is not a port in {line:?}"))
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let [name, kind, main, admin, database, calls] = f[..] else {
                return Err(format!("services.txt: 6 columns expected in {line:?}"));
            };
            if !matches!(kind, "grpc" | "http" | "tool") {
                return Err(format!("services.txt: unknown kind {kind:?} in {line:?}"));
            }
            Ok(Listed {
                name: name.to_owned(),
                kind: kind.to_owned(),
                port: port(main, line)?,
                admin: port(admin, line)?,
                database: database == "yes",
                calls: calls
                    .split(',')
                    .filter(|c| *c != "-")
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

/// The compiled-in list.
pub fn listed() -> Vec<Listed> {
    parse(SERVICES_TXT).expect("services.txt is valid (tests/manifests.rs checks it)")
}

/// A started server, as `shop up` runs it.
pub type Server = BoxFuture<'static, anyhow::Result<()>>;

/// Settings `shop up` gives one service: variable name -> value, over the environment.
pub type Overrides = BTreeMap<String, String>;

/// A service this binary can start.
pub struct Entry {
    pub name: &'static str,
    /// `shop run NAME [healthcheck] [--flags]`: exactly its own binary.
    pub run: fn(&[String]) -> ExitCode,
    /// Loads its config (the environment, then `overrides`: variable name -> value) and returns
    /// its server.
    pub start: fn(Listeners, Shutdown, &Overrides) -> Result<Server, ConfigError>,
    /// Every environment variable it reads, from its config's declaration.
    pub env_vars: fn() -> Vec<String>,
    /// The variables it cannot start without.
    pub required: fn() -> Vec<String>,
    /// The full gRPC service name it reports to grpc.health.v1 once ready; `None`: it serves HTTP.
    pub grpc_service: Option<&'static str>,
    /// Its LISTEN_ADDR port when none is given.
    pub default_port: u16,
}

/// An [`Entry`] for the crate `$krate`: a gRPC service with the name its health service reports,
/// `entry!(catalog, Probe::Grpc, "shop.catalog.v1.CatalogService")`; or an HTTP one,
/// `entry!(gateway, Probe::Http)`.
macro_rules! entry {
    ($krate:ident, Probe::Grpc, $grpc_service:literal) => {
        entry!(@ $krate, Probe::Grpc, Some($grpc_service))
    };
    ($krate:ident, Probe::Http) => {
        entry!(@ $krate, Probe::Http, None)
    };
    (@ $krate:ident, $probe:expr, $grpc_service:expr) => {
        Entry {
            name: stringify!($krate),
            run: |args| {
                platform::binary::run_with_args(stringify!($krate), $probe, $krate::serve, args)
            },
            start: |listeners, shutdown, overrides| {
                let config: $krate::Config =
                    platform::config::from_env(stringify!($krate), overrides)?;
                let server: Server = Box::pin($krate::serve(listeners, config, shutdown));
                Ok(server)
            },
            env_vars: platform::config::env_vars::<$krate::Config>,
            required: platform::config::required_env_vars::<$krate::Config>,
            grpc_service: $grpc_service,
            default_port: <$krate::Config as platform::binary::ServiceConfig>::DEFAULT_PORT,
        }
    };
}

/// Every service of the shop, by name (`cargo run -p xtask -- new-service NAME` adds its line here
/// and its row in services.txt).
pub static ENTRIES: &[Entry] = &[
    entry!(catalog, Probe::Grpc, "shop.catalog.v1.CatalogService"),
    entry!(cart, Probe::Grpc, "shop.cart.v1.CartService"),
    entry!(orders, Probe::Grpc, "shop.orders.v1.OrderService"),
    entry!(payments, Probe::Grpc, "shop.payments.v1.PaymentService"),
    entry!(gateway, Probe::Http),
    entry!(storefront, Probe::Http),
    // xtask:new-service entries
];

pub fn entry(name: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.name == name)
}

/// The services in stop order: every caller before the services it calls, so that a request in
/// flight at the gateway can still reach orders, and orders its backends.
pub fn callers_first(services: &[Listed]) -> Vec<Listed> {
    let mut left: Vec<Listed> = services.to_vec();
    let mut order = Vec::new();
    while !left.is_empty() {
        // One that no remaining service calls.
        let i = left
            .iter()
            .position(|s| !left.iter().any(|c| c.calls.contains(&s.name)))
            .unwrap_or(0); // a cycle: any order
        order.push(left.remove(i));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_parses_and_every_serving_entry_has_a_registry_entry() {
        let list = listed();
        assert!(list.iter().any(|s| s.name == "gateway" && s.serves()));
        for s in list.iter().filter(|s| s.serves()) {
            assert!(
                entry(&s.name).is_some(),
                "{} has no Entry in ENTRIES",
                s.name
            );
            for callee in &s.calls {
                assert!(
                    list.iter().any(|c| &c.name == callee),
                    "{} calls unknown {callee}",
                    s.name
                );
            }
        }
        for e in ENTRIES {
            assert!(
                list.iter().any(|s| s.name == e.name),
                "{} is not in services.txt",
                e.name
            );
        }
    }

    #[test]
    fn every_grpc_service_name_is_one_of_the_contracts() {
        let descriptors = shop_proto::FILE_DESCRIPTOR_SET;
        let holds = |text: &str| {
            descriptors
                .windows(text.len())
                .any(|w| w == text.as_bytes())
        };
        for e in ENTRIES {
            let Some(name) = e.grpc_service else { continue };
            let (package, service) = name.rsplit_once('.').expect("package.Service");
            assert!(
                holds(package) && holds(service),
                "{}: {name} is not in proto/ (shop_proto::FILE_DESCRIPTOR_SET)",
                e.name
            );
            assert!(
                (e.env_vars)().iter().any(|v| v == "LISTEN_ADDR"),
                "{}: reads no LISTEN_ADDR",
                e.name
            );
        }
    }

    #[test]
    fn bad_rows_are_refused_with_the_line() {
        assert!(parse("a grpc 1 2 yes").unwrap_err().contains("6 columns"));
        assert!(
            parse("a rpc 1 2 yes -")
                .unwrap_err()
                .contains("unknown kind")
        );
        assert!(
            parse("a grpc x 2 yes -")
                .unwrap_err()
                .contains("not a port")
        );
    }

    #[test]
    fn callers_stop_before_the_services_they_call() {
        let order: Vec<String> = callers_first(&listed())
            .into_iter()
            .map(|s| s.name)
            .collect();
        let at = |n: &str| order.iter().position(|s| s == n).unwrap();
        for s in listed() {
            for callee in &s.calls {
                assert!(
                    at(&s.name) < at(callee),
                    "{} stops after {callee}: {order:?}",
                    s.name
                );
            }
        }
    }
}
