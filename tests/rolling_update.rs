//! Zero downtime, proven with real processes: the gateway, orders and payments, and two replicas
//! each of catalog and cart, every one a separate `shop run <service>` process, under load from
//! the load generator. Each catalog and cart replica is replaced the way a Kubernetes rolling update
//! does it (start the new one, wait until it is ready, SIGTERM the old one), and every request is
//! counted. The negative control repeats it with graceful shutdown disabled and must see failures,
//! so the first test passes because of the mechanism, not by luck.

mod common;

use platform::grpc_client::is_replica_serving;
use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

/// How clients find replicas, and how long a stopping replica keeps serving while not ready.
const DISCOVERY_INTERVAL_MS: &str = "200";
const SHUTDOWN_DELAY_SECONDS: &str = "2";
/// How many times every catalog and cart replica is replaced under load.
const ROUNDS: usize = 2;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn urls(ports: &[u16]) -> String {
    ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The ports of a service's replicas: two in use and one spare, as a surge slot.
struct Slots([u16; 3]);

impl Slots {
    fn new() -> Self {
        Slots([free_port(), free_port(), free_port()])
    }
    fn urls(&self) -> String {
        urls(&self.0)
    }
}

struct Topology {
    dir: tempfile::TempDir,
    graceful: bool,
    catalog: Slots,
    cart: Slots,
    orders: u16,
    payments: u16,
    gateway: u16,
    gateway_admin: u16,
}

impl Topology {
    fn new(graceful: bool) -> Self {
        Topology {
            dir: tempfile::tempdir().unwrap(),
            graceful,
            catalog: Slots::new(),
            cart: Slots::new(),
            orders: free_port(),
            payments: free_port(),
            gateway: free_port(),
            gateway_admin: free_port(),
        }
    }

    fn database(&self, service: &str) -> String {
        format!("sqlite://{}/{service}.db", self.dir.path().display())
    }

    /// `shop run <service>` listening on `port`, configured like its container.
    fn spawn(&self, service: &str, port: u16) -> Child {
        self.spawn_with_admin(service, port, 0)
    }

    fn spawn_with_admin(&self, service: &str, port: u16, admin_port: u16) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_shop"));
        command
            .args(["run", service])
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("ADMIN_ADDR", format!("127.0.0.1:{admin_port}"))
            .env("RUST_LOG", "warn")
            .env("GRPC_DISCOVERY_INTERVAL_MS", DISCOVERY_INTERVAL_MS)
            .env("SHUTDOWN_DELAY_SECONDS", SHUTDOWN_DELAY_SECONDS)
            .env("SHUTDOWN_DRAIN_SECONDS", "10")
            .env("GRACEFUL_SHUTDOWN", self.graceful.to_string())
            .env("CATALOG_URL", self.catalog.urls())
            .env("CART_URL", self.cart.urls())
            .env("ORDERS_URL", urls(&[self.orders]))
            .env("PAYMENTS_URL", urls(&[self.payments]))
            .env("JWT_SECRET", "rolling-update-test-secret-0123456789")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if service != "gateway" {
            command.env("DATABASE_URL", self.database(service));
        }
        command.spawn().expect("spawning `shop run`")
    }
}

/// Waits until a gRPC replica reports SERVING. The bound only turns a hang into a failure.
async fn wait_serving(port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !is_replica_serving(addr).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "replica on {port} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the gateway's admin port (`admin`) answers `/readyz`.
async fn wait_gateway_ready(admin: u16) {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{admin}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gateway never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM, then wait for the exit; returns the exit code.
async fn terminate(mut child: Child) -> Option<i32> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::task::spawn_blocking(move || child.wait().unwrap().code())
        .await
        .unwrap()
}

/// The sum of a counter's series whose labels contain `label`, from `/metrics` on the admin `port`.
async fn counter(port: u16, metric: &str, label: &str) -> usize {
    common::metric_sum(&format!("http://127.0.0.1:{port}"), metric, label).await as usize
}

/// How many checkouts the gateway has answered, from its own metrics (on its admin port).
async fn checkouts_done(gateway_admin: u16) -> usize {
    counter(
        gateway_admin,
        "http_requests_total",
        "route=\"/api/v1/checkout\"",
    )
    .await
}

struct Outcome {
    summary: loadgen::Summary,
    exit_codes: Vec<Option<i32>>,
}

/// Starts the topology, runs shoppers against the gateway, replaces every catalog and cart
/// replica one at a time, and reports what the shoppers saw.
async fn replace_replicas_under_load(graceful: bool) -> Outcome {
    let t = Topology::new(graceful);
    // One at a time at first: replicas of a service share its database, and its migrations.
    let mut catalog = vec![(t.catalog.0[0], t.spawn("catalog", t.catalog.0[0]))];
    wait_serving(t.catalog.0[0]).await;
    catalog.push((t.catalog.0[1], t.spawn("catalog", t.catalog.0[1])));
    let mut cart = vec![(t.cart.0[0], t.spawn("cart", t.cart.0[0]))];
    wait_serving(t.cart.0[0]).await;
    cart.push((t.cart.0[1], t.spawn("cart", t.cart.0[1])));
    let others = [
        t.spawn("payments", t.payments),
        t.spawn("orders", t.orders),
        t.spawn_with_admin("gateway", t.gateway, t.gateway_admin),
    ];
    for port in [t.catalog.0[1], t.cart.0[1], t.payments, t.orders] {
        wait_serving(port).await;
    }
    wait_gateway_ready(t.gateway_admin).await;

    let host = format!("http://127.0.0.1:{}", t.gateway);
    let config = loadgen::quiet_config(&host, 12, Duration::from_secs(45));
    let load = tokio::spawn(async move {
        loadgen::attack(config, (Duration::ZERO, Duration::ZERO))
            .unwrap()
            .execute()
            .await
            .unwrap()
    });
    // Replace only once shoppers are checking out, so every path is under load.
    while checkouts_done(t.gateway_admin).await < 20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The rolling update, twice over: surge a new replica into the free slot, retire the oldest
    // (whose slot becomes the free one), until every replica has been replaced two times.
    let mut exit_codes = Vec::new();
    for _ in 0..ROUNDS {
        for (service, slots, replicas) in [
            ("catalog", &t.catalog, &mut catalog),
            ("cart", &t.cart, &mut cart),
        ] {
            for _ in 0..2 {
                let used: Vec<u16> = replicas.iter().map(|(port, _)| *port).collect();
                let new_port = *slots
                    .0
                    .iter()
                    .find(|p| !used.contains(p))
                    .expect("a free slot");
                let new = t.spawn(service, new_port);
                wait_serving(new_port).await;
                let (_, old) = replicas.remove(0);
                exit_codes.push(terminate(old).await);
                replicas.push((new_port, new));
            }
        }
    }

    let metrics = load.await.unwrap();
    let replicas = catalog.into_iter().chain(cart).map(|(_, child)| child);
    for child in replicas.chain(others) {
        terminate(child).await;
    }
    Outcome {
        summary: loadgen::Summary::from_metrics(&metrics),
        exit_codes,
    }
}

/// How many GetProduct calls a replica has answered, from its own admin `/metrics`.
async fn get_product_calls(admin_port: u16) -> usize {
    counter(
        admin_port,
        "grpc_server_handled_total",
        "CatalogService/GetProduct",
    )
    .await
}

#[tokio::test]
async fn calls_from_one_client_reach_every_replica() {
    use shop_proto::catalog::v1::{
        GetProductRequest, catalog_service_client::CatalogServiceClient,
    };
    let t = Topology::new(true);
    let admin_ports = [free_port(), free_port(), free_port()];
    let mut replicas = vec![t.spawn_with_admin("catalog", t.catalog.0[0], admin_ports[0])];
    wait_serving(t.catalog.0[0]).await; // the first one migrates and seeds the shared database
    for (port, admin_port) in t.catalog.0.into_iter().zip(admin_ports).skip(1) {
        replicas.push(t.spawn_with_admin("catalog", port, admin_port));
    }
    for port in t.catalog.0 {
        wait_serving(port).await;
    }

    // One client, one channel: the same code the gateway and orders use for every backend.
    let config = platform::grpc_client::ClientConfig {
        discovery_interval: Duration::from_millis(100),
        ..Default::default()
    };
    let channel =
        platform::grpc_client::channel_from_url("CATALOG_URL", &t.catalog.urls(), &config).unwrap();
    let mut catalog = CatalogServiceClient::new(channel);
    // Wait until discovery has health-checked all three (each then takes part in balancing).
    let mut calls = 0;
    loop {
        catalog
            .get_product(GetProductRequest {
                id: "chef-knife".into(),
            })
            .await
            .unwrap();
        calls += 1;
        let mut served = Vec::new();
        for port in admin_ports {
            served.push(get_product_calls(port).await);
        }
        if served.iter().all(|n| *n > 0) {
            println!("{calls} calls over one channel, served per replica: {served:?}");
            break;
        }
        assert!(
            calls < 300,
            "after {calls} calls some replica got none: {served:?}"
        );
    }
    for child in replicas {
        assert_eq!(terminate(child).await, Some(0));
    }
}

#[tokio::test]
async fn rolling_update_with_graceful_shutdown_fails_no_request() {
    let outcome = replace_replicas_under_load(true).await;
    let summary = &outcome.summary;
    println!("graceful shutdown, eight replica replacements under load:\n{summary}");
    assert!(
        summary.requests >= 2000,
        "enough load to mean something: {} requests",
        summary.requests
    );
    assert_eq!(summary.failures, 0, "no request may fail:\n{summary}");
    assert!(
        outcome.exit_codes.iter().all(|c| *c == Some(0)),
        "replicas exit 0: {:?}",
        outcome.exit_codes
    );
}

#[tokio::test]
async fn rolling_update_without_graceful_shutdown_fails_requests() {
    let outcome = replace_replicas_under_load(false).await;
    let summary = &outcome.summary;
    println!("GRACEFUL_SHUTDOWN=false, eight replica replacements under load:\n{summary}");
    assert!(
        summary.requests >= 2000,
        "enough load to mean something: {} requests",
        summary.requests
    );
    assert!(
        summary.failures > 0,
        "the negative control must show failed requests:\n{summary}"
    );
}
