//! The whole shop in one process: the same `serve` functions that run as separate containers in
//! Kubernetes, started side by side on localhost (like Grafana Loki's "monolithic mode").

use anyhow::Context as _;
use platform::{
    Shutdown, config::ServerConfig, grpc_client::ClientConfig, grpc_server::Listeners,
    shutdown::ShutdownPolicy,
};
use std::{net::SocketAddr, path::PathBuf};
use tokio::{net::TcpListener, task::JoinHandle};

/// Where the all-in-one shop listens and keeps its data.
#[derive(Debug, Clone)]
pub struct ShopOptions {
    pub databases: Databases,
    /// Host to bind, e.g. 127.0.0.1.
    pub host: std::net::IpAddr,
    /// Main and admin port of the gateway, catalog, cart, orders and payments; all 0 picks free
    /// ports (tests).
    pub ports: Ports,
    /// Used when `JWT_SECRET` is not set.
    pub fallback_jwt_secret: String,
}

/// Where each service keeps its data.
#[derive(Debug, Clone)]
pub enum Databases {
    /// One SQLite file per service in this directory (the default: nothing to install).
    SqliteDir(PathBuf),
    /// A database URL per service, e.g. four PostgreSQL databases.
    Urls {
        catalog: String,
        cart: String,
        orders: String,
        payments: String,
    },
}

impl Databases {
    fn url(&self, service: &str) -> String {
        match (self, service) {
            (Databases::SqliteDir(dir), _) => format!("sqlite://{}/{service}.db", dir.display()),
            (Databases::Urls { catalog, .. }, "catalog") => catalog.clone(),
            (Databases::Urls { cart, .. }, "cart") => cart.clone(),
            (Databases::Urls { orders, .. }, "orders") => orders.clone(),
            (Databases::Urls { payments, .. }, _) => payments.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub gateway: (u16, u16),
    pub catalog: (u16, u16),
    pub cart: (u16, u16),
    pub orders: (u16, u16),
    pub payments: (u16, u16),
}

impl Ports {
    /// The documented defaults: gateway 8080, gRPC 50051-50054, admin 9090-9094.
    pub const STANDARD: Ports = Ports {
        gateway: (8080, 9090),
        catalog: (50051, 9091),
        cart: (50052, 9092),
        orders: (50053, 9093),
        payments: (50054, 9094),
    };
    /// Free ports chosen by the OS.
    pub const EPHEMERAL: Ports = Ports {
        gateway: (0, 0),
        catalog: (0, 0),
        cart: (0, 0),
        orders: (0, 0),
        payments: (0, 0),
    };
}

/// Addresses of a running shop.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    pub gateway: (SocketAddr, SocketAddr),
    pub catalog: (SocketAddr, SocketAddr),
    pub cart: (SocketAddr, SocketAddr),
    pub orders: (SocketAddr, SocketAddr),
    pub payments: (SocketAddr, SocketAddr),
}

/// A started shop; stop it with [`RunningShop::stop`] or by triggering its [`Shutdown`].
pub struct RunningShop {
    pub addresses: Addresses,
    pub shutdown: Shutdown,
    servers: Vec<Server>,
}

async fn bind(host: std::net::IpAddr, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port} for {what} (in use?)"))
}

async fn listeners(
    host: std::net::IpAddr,
    (main, admin): (u16, u16),
    name: &str,
) -> anyhow::Result<Listeners> {
    Ok(Listeners {
        main: bind(host, main, name).await?,
        admin: Some(bind(host, admin, name).await?),
    })
}

fn addrs(l: &Listeners) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    Ok((
        l.main.local_addr()?,
        l.admin
            .as_ref()
            .expect("every server has an admin listener")
            .local_addr()?,
    ))
}

fn server(l: &Listeners, shutdown: ShutdownPolicy) -> anyhow::Result<ServerConfig> {
    let (listen_addr, admin_addr) = addrs(l)?;
    Ok(ServerConfig {
        listen_addr,
        admin_addr: Some(admin_addr),
        shutdown,
    })
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

/// Binds every listener, then starts the four services and the gateway.
///
/// Settings that are not about addresses or storage (fault injection, token lifetime, timeouts,
/// drain period) come from the same environment variables as the separate binaries.
pub async fn start(options: ShopOptions) -> anyhow::Result<RunningShop> {
    let host = options.host;
    let catalog_l = listeners(host, options.ports.catalog, "catalog").await?;
    let cart_l = listeners(host, options.ports.cart, "cart").await?;
    let orders_l = listeners(host, options.ports.orders, "orders").await?;
    let payments_l = listeners(host, options.ports.payments, "payments").await?;
    let gateway_l = listeners(host, options.ports.gateway, "gateway").await?;
    let addresses = Addresses {
        gateway: addrs(&gateway_l)?,
        catalog: addrs(&catalog_l)?,
        cart: addrs(&cart_l)?,
        orders: addrs(&orders_l)?,
        payments: addrs(&payments_l)?,
    };

    let policy = ShutdownPolicy::from_env()?;
    let client = ClientConfig::from_env()?;
    let data = &options.databases;
    let catalog_config = catalog::Config {
        server: server(&catalog_l, policy)?,
        database_url: data.url("catalog"),
    };
    let cart_config = cart::Config {
        server: server(&cart_l, policy)?,
        database_url: data.url("cart"),
        catalog_url: url(addresses.catalog.0),
        client: client.clone(),
    };
    let orders_config = orders::Config {
        server: server(&orders_l, policy)?,
        database_url: data.url("orders"),
        catalog_url: url(addresses.catalog.0),
        cart_url: url(addresses.cart.0),
        payments_url: url(addresses.payments.0),
        client: client.clone(),
    };
    let payments_config = payments::Config {
        server: server(&payments_l, policy)?,
        database_url: data.url("payments"),
        faults: payments::Config::from_env()?.faults,
    };
    let gateway_config = gateway::Config {
        server: server(&gateway_l, policy)?,
        catalog_url: url(addresses.catalog.0),
        cart_url: url(addresses.cart.0),
        orders_url: url(addresses.orders.0),
        client,
        ..gateway::Config::from_env_with_secret(Some(options.fallback_jwt_secret))?
    };

    let shutdown = Shutdown::new();
    // Listed in stop order: callers before the services they call, so a request in flight at
    // the gateway can still reach orders, and orders can still reach catalog, cart and payments.
    let servers = vec![
        Server::spawn("gateway", &shutdown, |s| {
            gateway::serve(gateway_l, gateway_config, s)
        }),
        Server::spawn("orders", &shutdown, |s| {
            orders::serve(orders_l, orders_config, s)
        }),
        Server::spawn("cart", &shutdown, |s| cart::serve(cart_l, cart_config, s)),
        Server::spawn("payments", &shutdown, |s| {
            payments::serve(payments_l, payments_config, s)
        }),
        Server::spawn("catalog", &shutdown, |s| {
            catalog::serve(catalog_l, catalog_config, s)
        }),
    ];
    Ok(RunningShop {
        addresses,
        shutdown,
        servers,
    })
}

/// One service running in this process, with a shutdown of its own.
struct Server {
    name: &'static str,
    shutdown: Shutdown,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    fn spawn<F, Fut>(name: &'static str, shop: &Shutdown, serve: F) -> Self
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = Shutdown::new();
        let future = serve(shutdown.clone());
        let shop = shop.clone();
        let task = tokio::spawn(async move {
            let result = future.await;
            if result.is_err() {
                shop.trigger(); // one failed server stops the shop
            }
            result
        });
        Self {
            name,
            shutdown,
            task,
        }
    }
}

impl Addresses {
    /// Every server's admin address.
    pub fn admin(&self) -> [SocketAddr; 5] {
        [
            self.gateway.1,
            self.catalog.1,
            self.cart.1,
            self.orders.1,
            self.payments.1,
        ]
    }
}

impl RunningShop {
    /// Waits until every server answers its admin `/readyz` (the whole shop can take traffic),
    /// or `patience` has passed.
    pub async fn wait_ready(&self, patience: std::time::Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + patience;
        for addr in self.addresses.admin() {
            while !platform::admin::answers_ok(addr, "/readyz").await {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "http://{addr}/readyz did not answer 200 within {patience:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// Waits for the shop's shutdown (a signal, or a server that failed), then stops the servers
    /// one after another in dependency order, each draining its in-flight requests. Returns the
    /// first failure.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.shutdown.wait().await;
        let mut first_error = None;
        for server in self.servers {
            server.shutdown.trigger();
            let result = server.task.await.context("a server task panicked")?;
            if let Err(e) = result {
                tracing::error!("{} failed: {e:#}", server.name);
                first_error.get_or_insert(e.context(format!("{} failed", server.name)));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Shuts every server down gracefully and waits for them.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.trigger();
        self.wait().await
    }
}

/// A random secret for session tokens of one run.
pub fn random_secret() -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}
