//! The shop as separate processes, one `shop run NAME` per service as its container runs it, each
//! on its own port: for tests that kill, restart or slow down one of them. The test reads the
//! services' databases directly.

use super::ApiClient;
use sqlx::{AnyPool, Row};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct ProcessShop {
    ports: BTreeMap<&'static str, u16>,
    gateway_admin: u16,
    /// Each service's DATABASE_URL.
    databases: BTreeMap<&'static str, String>,
    /// Environment every process gets.
    env: Vec<(String, String)>,
    children: Vec<(&'static str, Child)>,
    pub api: ApiClient,
}

/// The services with a database (services.txt).
pub fn database_owners() -> Vec<&'static str> {
    ["catalog", "cart", "orders", "payments"]
        .into_iter()
        .filter(|name| {
            shop::services::listed()
                .iter()
                .any(|s| s.name == *name && s.database)
        })
        .collect()
}

impl ProcessShop {
    /// Ports and settings; starts nothing.
    pub fn new(databases: BTreeMap<&'static str, String>, env: &[(&str, &str)]) -> Self {
        let ports: BTreeMap<&'static str, u16> =
            ["catalog", "cart", "orders", "payments", "gateway"]
                .into_iter()
                .map(|s| (s, super::free_port()))
                .collect();
        let api = ApiClient::new(format!("http://127.0.0.1:{}", ports["gateway"]));
        Self {
            ports,
            gateway_admin: super::free_port(),
            databases,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            children: Vec::new(),
            api,
        }
    }

    /// Starts `services` (the gateway last) and waits until each one serves.
    pub async fn start(&mut self, services: &[&'static str]) {
        for service in services.iter().filter(|s| **s != "gateway") {
            self.spawn(service, &[]);
        }
        for service in services.iter().filter(|s| **s != "gateway") {
            self.wait_serving(service).await;
        }
        if services.contains(&"gateway") {
            self.spawn("gateway", &[]);
            super::wait_until_ready(
                &self.api.http,
                &format!("http://127.0.0.1:{}", self.gateway_admin),
            )
            .await;
        }
    }

    /// `shop run SERVICE` as its container runs it, with `env` on top of the shop's.
    pub fn spawn(&mut self, service: &'static str, env: &[(&str, &str)]) {
        let url = |s: &str| format!("http://127.0.0.1:{}", self.ports[s]);
        let admin = if service == "gateway" {
            self.gateway_admin
        } else {
            0
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_shop"));
        command
            .args(["run", service])
            .env("LISTEN_ADDR", format!("127.0.0.1:{}", self.ports[service]))
            .env("ADMIN_ADDR", format!("127.0.0.1:{admin}"))
            .env("RUST_LOG", "warn")
            .env("CATALOG_URL", url("catalog"))
            .env("CART_URL", url("cart"))
            .env("ORDERS_URL", url("orders"))
            .env("PAYMENTS_URL", url("payments"))
            .env("JWT_SECRET", "process-shop-test-secret-0123456789")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(url) = self.databases.get(service) {
            command.env("DATABASE_URL", url);
        }
        self.children
            .push((service, command.spawn().expect("spawning `shop run`")));
    }

    /// Waits until a gRPC service reports SERVING.
    pub async fn wait_serving(&self, service: &str) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.ports[service]));
        eventually(&format!("{service} serves"), || async {
            platform::grpc_client::is_replica_serving(addr).await
        })
        .await;
    }

    /// SIGKILL: no drain, no cleanup, as when a node dies or the OOM killer strikes.
    pub fn kill(&mut self, service: &str) {
        let i = self
            .children
            .iter()
            .position(|(s, _)| *s == service)
            .unwrap_or_else(|| panic!("{service} is not running"));
        let (_, mut child) = self.children.remove(i);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub async fn pool(&self, service: &str) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(&self.databases[service]).await.unwrap()
    }

    /// Every charge in payments' database: (key, transaction id, voided).
    pub async fn charges(&self) -> Vec<(String, String, bool)> {
        sqlx::query("SELECT idempotency_key, transaction_id, voided_at FROM charges")
            .fetch_all(&self.pool("payments").await)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                let voided: Option<String> = r.get(2);
                (r.get(0), r.get(1), voided.is_some())
            })
            .collect()
    }

    /// Every order in orders' database: (id, transaction id).
    pub async fn orders(&self) -> Vec<(String, String)> {
        sqlx::query("SELECT id, transaction_id FROM orders")
            .fetch_all(&self.pool("orders").await)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// The states of the checkouts in orders' database.
    pub async fn checkout_states(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT state FROM checkouts")
            .fetch_all(&self.pool("orders").await)
            .await
            .unwrap()
    }
}

impl Drop for ProcessShop {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` until it holds; the bound only turns a hang into a failure.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
