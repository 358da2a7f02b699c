//! The whole shop in one process: the same `serve` functions that run as separate containers in
//! Kubernetes, started side by side on localhost (like Grafana Loki's "monolithic mode"). What runs,
//! on which ports and who calls whom come from `services.txt` (see [`services`]); each service is
//! configured through the same environment variables as its container, which `shop up` sets for it.

pub mod services;

use anyhow::Context as _;
use platform::{Shutdown, grpc_server::Listeners};
use services::Listed;
use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};
use tokio::{net::TcpListener, task::JoinHandle};

/// Where the all-in-one shop listens and keeps its data.
#[derive(Debug, Clone)]
pub struct ShopOptions {
    pub databases: Databases,
    /// Host to bind, e.g. 127.0.0.1.
    pub host: std::net::IpAddr,
    /// Free ports chosen by the OS (tests) instead of those of services.txt.
    pub ephemeral_ports: bool,
    /// Used when `JWT_SECRET` is not set.
    pub fallback_jwt_secret: String,
    /// Instances of a service beyond one (`--replicas gateway=2`): the first on the ports of
    /// services.txt, the others on ports the OS picks; its callers spread their calls over all.
    pub replicas: BTreeMap<String, usize>,
}

/// Where each service keeps its data.
#[derive(Debug, Clone)]
pub enum Databases {
    /// One SQLite file per service in this directory (the default: nothing to install).
    SqliteDir(PathBuf),
    /// A database URL per service name, e.g. PostgreSQL databases.
    Urls(BTreeMap<String, String>),
}

impl Databases {
    fn url(&self, service: &str) -> anyhow::Result<String> {
        match self {
            Databases::SqliteDir(dir) => Ok(format!("sqlite://{}/{service}.db", dir.display())),
            Databases::Urls(urls) => urls
                .get(service)
                .cloned()
                .with_context(|| format!("no database URL for {service}")),
        }
    }
}

/// The main and admin address of every running instance, by service name.
#[derive(Debug, Clone, Default)]
pub struct Addresses(BTreeMap<String, Vec<(SocketAddr, SocketAddr)>>);

impl Addresses {
    /// (main, admin) of `service` (its first instance).
    pub fn of(&self, service: &str) -> (SocketAddr, SocketAddr) {
        self.all(service)[0]
    }

    /// (main, admin) of every instance of `service`.
    pub fn all(&self, service: &str) -> &[(SocketAddr, SocketAddr)] {
        self.0
            .get(service)
            .unwrap_or_else(|| panic!("no service {service} runs"))
    }

    /// Every instance's admin address.
    pub fn admin(&self) -> impl Iterator<Item = (&str, SocketAddr)> {
        self.0.iter().flat_map(|(name, instances)| {
            instances
                .iter()
                .map(move |(_, admin)| (name.as_str(), *admin))
        })
    }

    /// Every service with the (main, admin) of each of its instances.
    pub fn services(&self) -> impl Iterator<Item = (&str, &[(SocketAddr, SocketAddr)])> {
        self.0
            .iter()
            .map(|(name, instances)| (name.as_str(), instances.as_slice()))
    }

    /// (main, admin) of each service's first instance.
    pub fn iter(&self) -> impl Iterator<Item = (&str, (SocketAddr, SocketAddr))> {
        self.0
            .iter()
            .map(|(name, instances)| (name.as_str(), instances[0]))
    }
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

/// The environment `shop up` gives one instance of a service: its addresses, its name (as a pod's,
/// `catalog-1`), its database, the addresses of the services it calls (every instance of each).
/// Everything else comes from the process's own environment, as in a container.
fn variables(
    service: &Listed,
    instance: usize,
    addresses: &Addresses,
    options: &ShopOptions,
) -> anyhow::Result<BTreeMap<String, String>> {
    let (main, admin) = addresses.all(&service.name)[instance];
    let mut vars = BTreeMap::from([
        ("LISTEN_ADDR".to_owned(), main.to_string()),
        ("ADMIN_ADDR".to_owned(), admin.to_string()),
        (
            "POD_NAME".to_owned(),
            format!("{}-{}", service.name, instance + 1),
        ),
    ]);
    if service.database {
        vars.insert("DATABASE_URL".into(), options.databases.url(&service.name)?);
    }
    for callee in &service.calls {
        let urls: Vec<String> = addresses
            .all(callee)
            .iter()
            .map(|(main, _)| format!("http://{main}"))
            .collect();
        vars.insert(format!("{}_URL", callee.to_uppercase()), urls.join(","));
    }
    if std::env::var("JWT_SECRET").map_or(true, |s| s.is_empty()) {
        vars.insert("JWT_SECRET".into(), options.fallback_jwt_secret.clone());
    }
    Ok(vars)
}

/// Binds every listener, then starts every service of services.txt with its `serve` function.
///
/// Settings that are not about addresses or storage (fault injection, token lifetime, timeouts,
/// drain period) come from the same environment variables as the separate binaries.
pub async fn start(options: ShopOptions) -> anyhow::Result<RunningShop> {
    let listed: Vec<Listed> = services::listed()
        .into_iter()
        .filter(Listed::serves)
        .collect();
    for (name, count) in &options.replicas {
        let service = listed.iter().find(|s| &s.name == name).with_context(|| {
            format!("--replicas {name}={count}: services.txt lists no service {name} that serves")
        })?;
        // Instances of one service would share its SQLite file, and SQLite is one writer's
        // database: more than one replica of a stateful service needs PostgreSQL.
        anyhow::ensure!(
            *count <= 1 || !service.database || matches!(options.databases, Databases::Urls(_)),
            "--replicas {name}={count}: {name} keeps its data in a SQLite file, which one process \
             at a time should write; run several replicas of it with PostgreSQL (Kubernetes, \
             compose), or several of a service without a database (e.g. gateway, storefront)"
        );
    }
    let mut listeners = BTreeMap::new();
    let mut addresses = Addresses::default();
    for service in &listed {
        let replicas = options.replicas.get(&service.name).copied().unwrap_or(1);
        for instance in 0..replicas.max(1) {
            let port = |p: Option<u16>| {
                if options.ephemeral_ports || instance > 0 {
                    0
                } else {
                    p.unwrap_or(0)
                }
            };
            let main = bind(options.host, port(service.port), &service.name).await?;
            let admin = bind(options.host, port(service.admin), &service.name).await?;
            addresses
                .0
                .entry(service.name.clone())
                .or_default()
                .push((main.local_addr()?, admin.local_addr()?));
            listeners.insert(
                (service.name.clone(), instance),
                Listeners {
                    main,
                    admin: Some(admin),
                },
            );
        }
    }

    let shop = Shutdown::new();
    let mut servers = Vec::new();
    for service in services::callers_first(&listed) {
        let entry = services::entry(&service.name).with_context(|| {
            format!(
                "services.txt lists {}, which this binary cannot start",
                service.name
            )
        })?;
        for instance in 0..addresses.all(&service.name).len() {
            let vars = variables(&service, instance, &addresses, &options)?;
            let listeners = listeners
                .remove(&(service.name.clone(), instance))
                .expect("bound above");
            let shutdown = Shutdown::new();
            let future = (entry.start)(listeners, shutdown.clone(), &vars)
                .with_context(|| format!("configuring {}", service.name))?;
            servers.push(Server::spawn(entry.name, &shop, shutdown, future));
        }
    }
    Ok(RunningShop {
        addresses,
        shutdown: shop,
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
    fn spawn(
        name: &'static str,
        shop: &Shutdown,
        shutdown: Shutdown,
        future: services::Server,
    ) -> Self {
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

impl RunningShop {
    /// Waits until every server answers its admin `/readyz` (the whole shop can take traffic),
    /// or `patience` has passed.
    pub async fn wait_ready(&self, patience: std::time::Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + patience;
        for (name, addr) in self.addresses.admin() {
            while !platform::admin::answers_ok(addr, "/readyz").await {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "{name}: http://{addr}/readyz did not answer 200 within {patience:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// Waits for the shop's shutdown (a signal, or a server that failed), then stops the servers
    /// one after another, callers first, each draining its in-flight requests. Returns the first
    /// failure.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options(replicas: &[(&str, usize)]) -> ShopOptions {
        ShopOptions {
            databases: Databases::SqliteDir(std::env::temp_dir()),
            host: "127.0.0.1".parse().unwrap(),
            ephemeral_ports: true,
            fallback_jwt_secret: random_secret(),
            replicas: replicas.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
        }
    }

    #[tokio::test]
    async fn replicas_of_unknown_or_sqlite_backed_services_are_refused_before_anything_starts() {
        let error = |replicas| async move {
            match start(options(replicas)).await {
                Ok(_) => panic!("started with {replicas:?}"),
                Err(e) => e.to_string(),
            }
        };
        assert!(
            error(&[("nothing", 2)])
                .await
                .contains("no service nothing")
        );
        assert!(error(&[("catalog", 2)]).await.contains("SQLite file"));
    }
}
