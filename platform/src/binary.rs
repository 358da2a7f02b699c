//! The `main` of every service binary: telemetry, config, listeners, signals, exit code, and the
//! `healthcheck` subcommand used by container health checks (the images have no shell or curl).

use crate::{
    admin,
    config::{ServerArgs, ServerConfig},
    grpc_client::is_replica_serving,
    grpc_server::Listeners,
    shutdown::Shutdown,
    telemetry,
};
use clap::error::ErrorKind;
use std::{collections::BTreeMap, net::SocketAddr, process::ExitCode};
use tokio::net::TcpListener;

/// A service's configuration: declared with clap's derive (each field one environment variable),
/// with the settings every server shares flattened in.
pub trait ServiceConfig: clap::Parser + Send + 'static {
    /// The main port when `LISTEN_ADDR` is unset.
    const DEFAULT_PORT: u16;

    fn server_args(&self) -> &ServerArgs;

    /// Where it listens and how it stops.
    fn server(&self) -> ServerConfig {
        self.server_args().resolve(Self::DEFAULT_PORT)
    }
}

/// How `healthcheck` probes a running binary.
#[derive(Clone, Copy)]
pub enum Probe {
    /// `grpc.health.v1.Health/Check` on the main port.
    Grpc,
    /// `GET /healthz` on the admin port.
    Http,
}

/// Runs a service binary: `NAME` serves, `NAME healthcheck` probes a running one, `NAME --help`
/// lists every environment variable it reads, with its default.
pub fn run<C, F, Fut>(name: &'static str, probe: Probe, serve: F) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(Listeners, C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    run_with_args(name, probe, serve, &args)
}

/// [`run`] with the arguments given (without the program name), for tools that embed a service.
pub fn run_with_args<C, F, Fut>(
    name: &'static str,
    probe: Probe,
    serve: F,
    args: &[String],
) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(Listeners, C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let (healthcheck, flags) = match args.split_first() {
        Some((first, rest)) if first == "healthcheck" => (true, rest),
        _ => (false, args),
    };
    let argv: Vec<String> = std::iter::once(name.to_owned())
        .chain(flags.iter().cloned())
        .collect();
    let config = match crate::config::load::<C>(&argv, &BTreeMap::new()) {
        Ok(config) => config,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!(
                "{name}: configuration error: {}",
                crate::config::explain::<C>(&e)
            );
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if healthcheck {
        runtime.block_on(self::healthcheck(name, probe, &config))
    } else {
        runtime.block_on(serve_main(name, config, serve))
    }
}

async fn serve_main<C, F, Fut>(name: &'static str, config: C, serve: F) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(Listeners, C, Shutdown) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let _telemetry = match telemetry::init(name, &config.server_args().telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{name}: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let listeners = match bind(&config.server()).await {
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

async fn healthcheck<C: ServiceConfig>(name: &str, probe: Probe, config: &C) -> ExitCode {
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
