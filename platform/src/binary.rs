//! The `main` of every service binary: telemetry, config, listeners, signals, exit code, and the
//! `healthcheck` subcommand used by container health checks (the images have no shell or curl).

use crate::{
    admin,
    config::{ConfigError, ServerConfig},
    grpc_client::is_replica_serving,
    grpc_server::Listeners,
    shutdown::Shutdown,
    telemetry,
};
use std::{net::SocketAddr, process::ExitCode};
use tokio::net::TcpListener;

/// A service's configuration exposes where it listens.
pub trait ServiceConfig: Send + 'static {
    fn server(&self) -> &ServerConfig;
}

/// How `healthcheck` probes a running binary.
#[derive(Clone, Copy)]
pub enum Probe {
    /// `grpc.health.v1.Health/Check` on the main port.
    Grpc,
    /// `GET /healthz` on the admin port.
    Http,
}

/// Runs a service binary: `NAME` serves, `NAME healthcheck` probes a running one.
pub fn run<C, F, Fut>(
    name: &'static str,
    probe: Probe,
    load: fn() -> Result<C, ConfigError>,
    serve: F,
) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(Listeners, C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    run_with_args(name, probe, load, serve, &args)
}

/// [`run`] with the arguments given (`[]` or `["healthcheck"]`), for tools that embed a service.
pub fn run_with_args<C, F, Fut>(
    name: &'static str,
    probe: Probe,
    load: fn() -> Result<C, ConfigError>,
    serve: F,
    args: &[String],
) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(Listeners, C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => runtime.block_on(serve_main(name, load, serve)),
        ["healthcheck"] => runtime.block_on(healthcheck(name, probe, load)),
        _ => {
            eprintln!(
                "usage: {name} [healthcheck]\n\nConfigured by environment variables: see docs/configuration.md"
            );
            ExitCode::from(2)
        }
    }
}

async fn serve_main<C, F, Fut>(
    name: &'static str,
    load: fn() -> Result<C, ConfigError>,
    serve: F,
) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(Listeners, C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let _telemetry = match telemetry::init(name) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match load() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let listeners = match bind(config.server()).await {
        Ok(listeners) => listeners,
        Err(e) => {
            tracing::error!("cannot listen: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = Shutdown::new();
    shutdown.trigger_on_signals();
    match serve(listeners, config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{name} failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Binds the listeners a config asks for.
pub async fn bind(server: &ServerConfig) -> anyhow::Result<Listeners> {
    use anyhow::Context as _;
    let main = TcpListener::bind(server.listen_addr)
        .await
        .with_context(|| format!("binding LISTEN_ADDR={}", server.listen_addr))?;
    let admin = match server.admin_addr {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding ADMIN_ADDR={addr}"))?,
        ),
        None => None,
    };
    Ok(Listeners { main, admin })
}

async fn healthcheck<C: ServiceConfig>(
    name: &str,
    probe: Probe,
    load: fn() -> Result<C, ConfigError>,
) -> ExitCode {
    let config = match load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let server = config.server();
    let target = match probe {
        Probe::Grpc => loopback(server.listen_addr),
        Probe::Http => loopback(server.admin_addr.unwrap_or(server.listen_addr)),
    };
    let healthy = match probe {
        Probe::Grpc => is_replica_serving(target).await,
        Probe::Http => admin::answers_ok(target, "/healthz").await,
    };
    if healthy {
        ExitCode::SUCCESS
    } else {
        eprintln!("{name}: not healthy at {target}");
        ExitCode::FAILURE
    }
}

/// The address to probe a server bound to `addr` from the same host.
fn loopback(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}
